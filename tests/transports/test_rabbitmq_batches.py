"""RabbitMQ deliveries journaled in batches and acked with `multiple=True`, seen on the wire.

A loopback tap between the mock and the machine's RabbitMQ reads the AMQP frames: which delivery
tags the broker handed over (with their message ids) and every Basic.Ack / Nack / Reject the mock
sent back. No part of RabbitMQ or of the mock is replaced.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from yarl import URL

from mock_ft.brokers import rabbitmq
from mock_ft.settings import Settings
from tests import web
from tests.amqp_tap import AmqpTap, amqp_tap
from tests.serve_process import serve_process
from tests.transports.conftest import (
    AmqpMessage,
    count,
    delete_rabbit_topology,
    payment,
    publish_amqp,
    rabbit_settings,
    rows,
    wait_connected,
    wait_until,
)

pytestmark = pytest.mark.slow


def _messages(total: int) -> list[AmqpMessage]:
    return [
        ("PAYMENT", payment(str(i % 50), f"p-{i}"), {"message_id": str(i)}) for i in range(total)
    ]


def _through(tap: AmqpTap, rabbitmq_url: str) -> str:
    return str(URL(rabbitmq_url).with_port(tap.port))


def _holding_user_7(client: TestClient) -> TestClient:
    """The running mock, consuming, with a `delay` rule holding user 7's acks for ten minutes."""
    wait_connected(client, "rabbitmq")
    rule = {"action": "delay", "delay_ms": 600_000, "user_id": "7"}
    client.post("/_mock/faults", json=rule).raise_for_status()
    return client


def _journaled_ids(journal: Path) -> set[str]:
    found = rows(
        journal,
        "SELECT json_extract(headers, '$.\"amqp.message_id\"') FROM events "
        "WHERE verdict = 'accepted'",
    )
    return {str(message_id) for (message_id,) in found}


def test_ack_each_batch_with_one_multiple_ack(rabbitmq_url: str, tmp_path: Path, running) -> None:
    """Deliveries read together are journaled together and acked by one `multiple=True` ack."""
    total = 300
    settings: Settings | None = None
    with amqp_tap(URL(rabbitmq_url).port or 5672, hold=total) as tap:
        settings = rabbit_settings(_through(tap, rabbitmq_url), tmp_path / "journal.sqlite3")
        try:
            client = running(settings)
            wait_connected(client, "rabbitmq")
            publish_amqp(rabbitmq_url, settings.rabbitmq_exchange, _messages(total))
            wait_until(lambda: len(tap.acked()[0]) == total, "every message acked")
            [broker] = client.get("/_mock/health").json()["brokers"]
        finally:
            delete_rabbit_topology(rabbitmq_url, settings)
    acks = tap.settled
    assert count(settings.journal) == total
    assert {s.kind for s in acks} == {"ack"}
    assert all(s.multiple for s in acks)
    assert [s.tag for s in acks] == sorted({s.tag for s in acks})  # rising, none repeated
    assert acks[-1].tag == max(tag for _, tag in tap.delivered)
    assert len(acks) == broker["batches"] < total  # one ack per batch, batches of many
    assert tap.acked()[1] == []  # nothing acked twice


def test_keep_held_ack_out_of_multiple_acks(rabbitmq_url: str, tmp_path: Path, running) -> None:
    """While a `delay` rule holds one message's ack, the acks of every later message, `multiple`
    ones included, leave it unacked (covering it would ack it early: the rule would do nothing).
    The hold outlasts the test; stopping the mock leaves the message to the broker."""
    total = 300
    messages: list[AmqpMessage] = [
        ("PAYMENT", payment("7" if i == 100 else str(1_000 + i), f"p-{i}"), {"message_id": str(i)})
        for i in range(total)
    ]
    with amqp_tap(URL(rabbitmq_url).port or 5672, hold=total) as tap:
        settings = rabbit_settings(_through(tap, rabbitmq_url), tmp_path / "journal.sqlite3")
        try:
            _holding_user_7(running(settings))
            publish_amqp(rabbitmq_url, settings.rabbitmq_exchange, messages)
            wait_until(lambda: len(tap.acked()[0]) >= total - 1, "every other message acked")
            acked, twice = tap.acked()
            settled = list(tap.settled)
        finally:
            delete_rabbit_topology(rabbitmq_url, settings)
    assert acked == {str(i) for i in range(total)} - {"100"}
    assert any(s.multiple for s in settled)
    assert twice == []


def test_stop_without_waiting_out_held_ack(
    rabbitmq_url: str, tmp_path: Path, running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopping while a `delay` rule holds a journaled message's ack does not wait the hold out
    (nor the stop's grace): the message is left unacked, for the broker to deliver again."""
    monkeypatch.setattr(rabbitmq, "STOP_GRACE_SECONDS", 3600.0)  # a wait would hang the test
    with amqp_tap(URL(rabbitmq_url).port or 5672, hold=1) as tap:
        settings = rabbit_settings(_through(tap, rabbitmq_url), tmp_path / "journal.sqlite3")
        try:
            client = _holding_user_7(running(settings))
            publish_amqp(
                rabbitmq_url,
                settings.rabbitmq_exchange,
                [("PAYMENT", payment("7", "p-0"), {"message_id": "0"})],
            )
            wait_until(lambda: count(settings.journal) == 1, "the held message journaled")
            client.__exit__(None, None, None)
        finally:
            delete_rabbit_topology(rabbitmq_url, settings)
    assert tap.acked() == (set(), [])


def test_ack_only_journaled_messages_across_kill_9(rabbitmq_url: str, tmp_path: Path) -> None:
    """At every moment of the stream, and when the mock is killed mid-stream, each message it
    has acked is in its journal (the tap is read first, then the journal's committed rows)."""
    journal = tmp_path / "journal.sqlite3"
    total = 3_000
    with amqp_tap(URL(rabbitmq_url).port or 5672) as tap:
        settings = rabbit_settings(_through(tap, rabbitmq_url), journal)
        env = {
            "MOCK_FT_RABBITMQ_URL": _through(tap, rabbitmq_url),
            "MOCK_FT_RABBITMQ_EXCHANGE": settings.rabbitmq_exchange,
            "MOCK_FT_RABBITMQ_QUEUE": settings.rabbitmq_queue,
            "MOCK_FT_RABBITMQ_DEAD_LETTER_EXCHANGE": settings.rabbitmq_dead_letter_exchange,
            "MOCK_FT_RABBITMQ_DEAD_LETTER_QUEUE": settings.rabbitmq_dead_letter_queue,
        }
        try:
            with serve_process("--journal", str(journal), env=env) as (url, process):
                wait_until(lambda: _connected(url), "consuming")
                publisher = threading.Thread(
                    target=publish_amqp,
                    args=(rabbitmq_url, settings.rabbitmq_exchange, _messages(total)),
                )
                publisher.start()
                early: list[set[str]] = []
                wait_until(lambda: _acked_unjournaled(tap, journal, early, total // 3), "a third")
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
                publisher.join()
        finally:
            delete_rabbit_topology(rabbitmq_url, settings)
    assert early == []
    acked, twice = tap.acked()
    assert acked - _journaled_ids(journal) == set()
    assert twice == []


def _acked_unjournaled(tap: AmqpTap, journal: Path, early: list[set[str]], enough: int) -> bool:
    """Note acked messages the journal does not hold (yet); True once `enough` are acked."""
    acked = tap.acked()[0]
    missing = acked - _journaled_ids(journal) if journal.exists() else acked
    if missing:
        early.append(missing)
    return len(acked) >= enough


def _connected(url: str) -> bool:
    brokers = web.get(f"{url}/_mock/health").json()["brokers"]
    return bool(brokers and brokers[0]["state"] == "connected")
