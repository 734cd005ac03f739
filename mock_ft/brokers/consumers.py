"""The broker consumers the settings ask for, started and stopped together with the app."""

from __future__ import annotations

from typing import Protocol

from mock_ft.brokers.common import BrokerStatus
from mock_ft.faults import FaultInjector
from mock_ft.ingest.pipeline import Pipeline
from mock_ft.settings import Settings

__all__ = ["Brokers"]


class _Consumer(Protocol):
    status: BrokerStatus

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Brokers:
    """RabbitMQ and/or Kafka ingest, each when configured (`--rabbitmq-url`, `--kafka-bootstrap`).

    The client libraries are imported only when a broker is configured: a REST-only mock does
    not pay for them at start.
    """

    def __init__(self, settings: Settings, pipeline: Pipeline, faults: FaultInjector) -> None:
        self.consumers: list[_Consumer] = []
        if settings.rabbitmq_url is not None:
            from mock_ft.brokers.rabbitmq import RabbitConsumer

            self.consumers.append(RabbitConsumer(settings, pipeline, faults))
        if settings.kafka_bootstrap is not None:
            from mock_ft.brokers.kafka import KafkaIngest

            self.consumers.append(KafkaIngest(settings, pipeline, faults))

    async def start(self) -> None:
        """Start each consumer; they connect (and keep reconnecting) in the background."""
        for consumer in self.consumers:
            await consumer.start()

    async def stop(self) -> None:
        """Stop each consumer after what it has in hand is journaled and acknowledged."""
        for consumer in self.consumers:
            await consumer.stop()

    def status(self) -> list[BrokerStatus]:
        """How each consumer is doing."""
        return [consumer.status for consumer in self.consumers]
