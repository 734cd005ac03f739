"""The broker transports (RabbitMQ, Kafka): decode, hand to the pipeline, acknowledge."""

from __future__ import annotations

from mock_ft.brokers.common import BrokerStatus
from mock_ft.brokers.consumers import Brokers

__all__ = ["BrokerStatus", "Brokers"]
