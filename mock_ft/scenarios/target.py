"""Where a replay runs: the mock's URL and key, the operator, and the brokers to publish on."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from mock_ft.settings import DEFAULT_API_KEY

__all__ = ["Publishers", "Target"]

_BATCH = 256  # broker messages in flight at once


@dataclass(slots=True)
class Target:
    """The systems a replay talks to."""

    ft_url: str
    operator_url: str | None = None
    operator_auth: str | None = None  # api-key:KEY | basic:USER:PASS | oauth:URL:ID:SECRET
    ft_api_key: str | None = DEFAULT_API_KEY
    ft_api_key_header: str = "X-API-Key"
    control_token: str | None = None
    rabbitmq_url: str | None = None
    rabbitmq_exchange: str = "fasttrack"
    rabbitmq_routing_key: str = "fasttrack.event"
    kafka_bootstrap: str | None = None
    kafka_topic: str = "fasttrack.events"

    def control_headers(self) -> dict[str, str]:
        """Headers for the mock's /_mock/ API (which takes changes only as JSON)."""
        headers = {"Content-Type": "application/json"}
        if self.control_token:
            headers["Authorization"] = f"Bearer {self.control_token}"
        return headers

    def has(self, requirement: str) -> bool:
        """True when the target offers what a scenario `requires`."""
        return {
            "operator": self.operator_url is not None,
            "rabbitmq": self.rabbitmq_url is not None,
            "kafka": self.kafka_bootstrap is not None,
        }[requirement]


class Publishers:
    """Publishes events on RabbitMQ or Kafka as an operator would; opened on first use."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self._rabbit: Any = None
        self._exchange: Any = None
        self._kafka: Any = None

    async def publish(
        self,
        transport: str,
        event_type: str,
        bodies: list[dict[str, Any]],
        progress: Callable[[int, int | None], None] = lambda done, total: None,
    ) -> None:
        """Publish every body (confirmed by the broker) before returning; `progress` is told
        how many are confirmed after each batch."""
        for start in range(0, len(bodies), _BATCH):
            batch = bodies[start : start + _BATCH]
            if transport == "rabbitmq":
                await self._publish_rabbit(event_type, batch)
            else:
                await self._publish_kafka(event_type, batch)
            progress(start + len(batch), len(bodies))

    async def _publish_rabbit(self, event_type: str, bodies: list[dict[str, Any]]) -> None:
        import aio_pika

        if self._exchange is None:
            assert self.target.rabbitmq_url is not None  # noqa: S101 - `requires` checked it
            self._rabbit = await aio_pika.connect_robust(self.target.rabbitmq_url)
            channel = await self._rabbit.channel(publisher_confirms=True)
            self._exchange = await channel.get_exchange(self.target.rabbitmq_exchange)
        messages = [
            aio_pika.Message(
                orjson.dumps(body),
                type=event_type,
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            )
            for body in bodies
        ]
        key = self.target.rabbitmq_routing_key
        await asyncio.gather(*(self._exchange.publish(m, routing_key=key) for m in messages))

    async def _publish_kafka(self, event_type: str, bodies: list[dict[str, Any]]) -> None:
        from aiokafka import AIOKafkaProducer

        if self._kafka is None:
            self._kafka = AIOKafkaProducer(
                bootstrap_servers=self.target.kafka_bootstrap, acks="all", linger_ms=5
            )
            await self._kafka.start()
        headers = [("type", event_type.encode())]
        sends = [
            await self._kafka.send(self.target.kafka_topic, orjson.dumps(b), headers=headers)
            for b in bodies
        ]
        await asyncio.gather(*sends)

    async def close(self) -> None:
        """Close what was opened."""
        if self._rabbit is not None:
            with contextlib.suppress(Exception):
                await self._rabbit.close()
        if self._kafka is not None:
            with contextlib.suppress(Exception):
                await self._kafka.stop()


async def get_json(client: httpx.AsyncClient, target: Target, path: str, **params: Any) -> Any:
    """GET a control endpoint's JSON (with the control token); an HTTP error names the URL."""
    wanted = {k: v for k, v in params.items() if v is not None}
    url = f"{target.ft_url}{path}"
    response = await client.get(url, params=wanted, headers=target.control_headers())
    response.raise_for_status()
    return response.json()
