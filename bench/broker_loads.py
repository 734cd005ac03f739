"""The broker benchmark's loads: FT PAYMENT messages published to RabbitMQ or produced to Kafka,
and the pure figures (percentiles, pacing).

Everything here runs in the benchmark's own process (pinned to core 1 by bench.brokers).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass
from typing import Any

import orjson

from mock_ft.figures import percentile

__all__ = [
    "EVENT_TYPE",
    "ROUTING_KEY",
    "Payments",
    "RabbitNames",
    "due",
    "kafka_delete",
    "kafka_fill",
    "latency_summary",
    "rabbit_cleanup",
    "rabbit_declare",
    "rabbit_fill",
    "rabbit_message",
]

EVENT_TYPE = "PAYMENT"
ROUTING_KEY = "payment"
USERS = 1_000  # distinct user ids the payments cycle through
_CHUNK = 1_000  # messages in flight while filling (publisher confirms / produce acks awaited)


def latency_summary(latencies_ms: list[float]) -> dict[str, float]:
    """p50, p99 and max of latencies in ms (rounded to 0.01 ms), and how many there were."""
    return {
        "count": len(latencies_ms),
        "p50_ms": round(percentile(latencies_ms, 0.50) or 0.0, 2),
        "p99_ms": round(percentile(latencies_ms, 0.99) or 0.0, 2),
        "max_ms": round(max(latencies_ms, default=0.0), 2),
    }


def due(elapsed: float, rate: float, total: int) -> int:
    """How many messages a publisher paced at `rate`/s should have sent after `elapsed` s."""
    if elapsed < 0:
        return 0
    return min(total, int(elapsed * rate) + 1)


class Payments:
    """Valid FT PAYMENT bodies (the contract's example), unique payment ids, 1,000 users."""

    def __init__(self, tag: str) -> None:
        from mock_ft.samples import sample_events

        self.tag = tag
        self.template = next(p for r, p in sample_events() if r.event_type == EVENT_TYPE)

    def body(self, index: int, stamp: str | None = None) -> tuple[str, str, bytes]:
        """(user id, payment id, JSON body) of payment number `index`, timestamped `stamp`/now."""
        from mock_ft.samples import ft_timestamp

        user_id, payment_id = str(200_000 + index % USERS), f"{self.tag}-{index}"
        event = {
            **self.template,
            "user_id": user_id,
            "payment_id": payment_id,
            "timestamp": stamp or ft_timestamp(),
        }
        return user_id, payment_id, orjson.dumps(event)


@dataclass(slots=True, frozen=True)
class RabbitNames:
    """One run's exchange, queue and dead-lettering, named so no one else uses them."""

    exchange: str
    queue: str
    dead_exchange: str
    dead_queue: str

    @classmethod
    def unique(cls, tag: str) -> RabbitNames:
        base = f"mockft-bench-{tag}-{uuid.uuid4().hex[:8]}"
        return cls(f"{base}.x", f"{base}.q", f"{base}.dlx", f"{base}.dlq")

    def env(self) -> dict[str, str]:
        """The mock's settings for this topology."""
        return {
            "MOCK_FT_RABBITMQ_EXCHANGE": self.exchange,
            "MOCK_FT_RABBITMQ_QUEUE": self.queue,
            "MOCK_FT_RABBITMQ_DEAD_LETTER_EXCHANGE": self.dead_exchange,
            "MOCK_FT_RABBITMQ_DEAD_LETTER_QUEUE": self.dead_queue,
        }


async def rabbit_declare(channel: Any, names: RabbitNames) -> Any:
    """Declare the topology exactly as the mock does (so its own declaration agrees)."""
    import aio_pika

    dead = await channel.declare_exchange(
        names.dead_exchange, aio_pika.ExchangeType.FANOUT, durable=True
    )
    dead_queue = await channel.declare_queue(names.dead_queue, durable=True)
    await dead_queue.bind(dead)
    exchange = await channel.declare_exchange(
        names.exchange, aio_pika.ExchangeType.TOPIC, durable=True
    )
    queue = await channel.declare_queue(
        names.queue, durable=True, arguments={"x-dead-letter-exchange": names.dead_exchange}
    )
    await queue.bind(exchange, routing_key="#")
    return exchange


def rabbit_message(body: bytes, message_id: str | None = None) -> Any:
    """A persistent message carrying the FT event type in the AMQP `type` property."""
    import aio_pika

    return aio_pika.Message(
        body,
        type=EVENT_TYPE,
        message_id=message_id,
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
    )


async def rabbit_fill(url: str, names: RabbitNames, payments: Payments, count: int) -> None:
    """Declare the topology and publish `count` persistent payments, each confirmed."""
    import aio_pika

    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await rabbit_declare(channel, names)
        for start in range(0, count, _CHUNK):
            messages = []
            for index in range(start, min(count, start + _CHUNK)):
                _, payment_id, body = payments.body(index)
                messages.append(rabbit_message(body, payment_id))
            await asyncio.gather(
                *(exchange.publish(message, routing_key=ROUTING_KEY) for message in messages)
            )
    finally:
        await connection.close()


async def rabbit_cleanup(url: str, names: RabbitNames) -> None:
    """Delete the run's queues and exchanges (what is missing already is fine)."""
    import aio_pika

    connection = await aio_pika.connect(url)
    try:
        for queue in (names.queue, names.dead_queue):
            channel = await connection.channel()
            with contextlib.suppress(Exception):
                await channel.queue_delete(queue)
        for exchange in (names.exchange, names.dead_exchange):
            channel = await connection.channel()
            with contextlib.suppress(Exception):
                await channel.exchange_delete(exchange)
    finally:
        await connection.close()


async def kafka_fill(bootstrap: str, topic: str, payments: Payments, count: int) -> None:
    """Create a one-partition topic and produce `count` payments (header type, key user id)."""
    from aiokafka import AIOKafkaProducer
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="mock-ft-bench")
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()
    # Tansu 0.6 cannot serve aiokafka's idempotent producer.
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=False, linger_ms=5
    )
    await producer.start()
    try:
        headers = [("type", EVENT_TYPE.encode())]
        for start in range(0, count, _CHUNK):
            sent = []
            for i in range(start, min(count, start + _CHUNK)):
                user_id, _, body = payments.body(i)
                sent.append(await producer.send(topic, body, key=user_id.encode(), headers=headers))
            await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def kafka_delete(bootstrap: str, topic: str) -> None:
    """Delete a topic (best effort: the private Tansu keeps topics in memory only anyway)."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="mock-ft-bench")
    try:
        await admin.start()
        await admin.delete_topics([topic])
    except Exception:  # noqa: S110 - cleanup of a broker that is about to stop
        pass
    finally:
        await admin.close()
