"""Fixtures for the broker transports: a mock app consuming unique queues/topics, and helpers."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import aio_pika
import pytest
from fastapi.testclient import TestClient

from mock_ft.brokers.rabbitmq import delete_topology
from mock_ft.crm import create_app
from mock_ft.samples import sample_events
from mock_ft.settings import Settings
from tests.brokers import unique_name
from tests.waiting import HANG_GUARD, wait_until

__all__ = ["wait_until"]  # the transports' tests import it from here


def payment(user: str = "7", payment_id: str = "p-1") -> bytes:
    """A valid PAYMENT body (the contract's example) for a player and payment id."""
    body = dict(next(p for r, p in sample_events() if r.event_type == "PAYMENT"))
    body.update(user_id=user, payment_id=payment_id)
    return json.dumps(body).encode()


def rabbit_settings(url: str, journal: Path, **extra: Any) -> Settings:
    """Settings consuming RabbitMQ through names no other test uses."""
    name = unique_name()
    extra.setdefault("allowed_hosts", ["testserver"])  # TestClient's Host
    return Settings(
        journal=str(journal),
        rabbitmq_url=url,
        rabbitmq_exchange=name,
        rabbitmq_queue=f"{name}.events",
        rabbitmq_dead_letter_exchange=f"{name}.dead-letter",
        rabbitmq_dead_letter_queue=f"{name}.events.dead",
        **extra,
    )


def kafka_settings(bootstrap: str, journal: Path, **extra: Any) -> Settings:
    """Settings consuming a topic (and group) no other test uses."""
    name = unique_name()
    extra.setdefault("allowed_hosts", ["testserver"])  # TestClient's Host
    return Settings(
        journal=str(journal),
        kafka_bootstrap=bootstrap,
        kafka_topics=[name],
        kafka_group=f"{name}-group",
        kafka_session_timeout_ms=2_000,  # Tansu holds a join for half of it
        **extra,
    )


@pytest.fixture
def running() -> Iterator[Callable[[Settings], TestClient]]:
    """Start the mock (lifespan and all) for given settings; stopped after the test."""
    clients: list[TestClient] = []

    def start(settings: Settings) -> TestClient:
        client = TestClient(create_app(settings), base_url="http://127.0.0.1")  # a loopback Host
        client.__enter__()
        clients.append(client)
        return client

    yield start
    for client in reversed(clients):
        client.__exit__(None, None, None)


def wait_connected(client: TestClient, transport: str) -> None:
    """Until the mock's consumer of `transport` is connected (topology declared, consuming)."""
    wait_until(
        lambda: any(
            b["transport"] == transport and b["state"] == "connected"
            for b in client.get("/_mock/health").json()["brokers"]
        ),
        f"{transport} consumer connected",
    )


def rows(journal: Path | str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Read the journal file itself (a separate connection, as any SQLite reader would)."""
    conn = sqlite3.connect(str(journal))
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def count(journal: Path | str, where: str = "1", *params: Any) -> int:
    sql = f"SELECT COUNT(*) FROM events WHERE {where}"  # noqa: S608 - the tests' own clauses
    return int(rows(journal, sql, *params)[0][0])


AmqpMessage = tuple[str | None, bytes, dict[str, Any]]  # (type property, body, other properties)


def publish_amqp(url: str, exchange: str, messages: Sequence[AmqpMessage]) -> None:
    """Publish (type, body, extra properties) messages with confirms; each must be routed."""

    async def go() -> None:
        connection = await aio_pika.connect(url)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            target = await channel.get_exchange(exchange, ensure=True)
            for event_type, body, props in messages:
                message = aio_pika.Message(
                    body,
                    type=event_type,
                    content_type="application/json",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    **props,
                )
                await target.publish(message, routing_key="fasttrack.event", mandatory=True)

    asyncio.run(go())


def drain_queue(
    url: str, queue: str, timeout: float = HANG_GUARD
) -> list[aio_pika.abc.AbstractMessage]:
    """Take (and ack) what a queue holds, waiting up to `timeout` for the first message."""

    async def go() -> list[aio_pika.abc.AbstractMessage]:
        found: list[aio_pika.abc.AbstractMessage] = []
        connection = await aio_pika.connect(url)
        async with connection:
            channel = await connection.channel()
            source = await channel.get_queue(queue, ensure=True)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                message = await source.get(fail=False)
                if message is None:
                    if found:
                        break
                    await asyncio.sleep(0.05)
                    continue
                await message.ack()
                found.append(message)
        return found

    return asyncio.run(go())


def delete_rabbit_topology(url: str, settings: Settings) -> None:
    """Remove a test's exchanges and queues from the shared broker."""
    asyncio.run(delete_topology(url, settings))
