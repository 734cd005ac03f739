"""The broker benchmark's helpers: latency summaries, pacing, the messages it publishes, and a
smoke run of the Kafka durable baseline (it must journal what it takes; its speed is not judged)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import orjson
import pytest

from bench.broker_baseline import drain_kafka
from bench.broker_loads import (
    Payments,
    RabbitNames,
    due,
    kafka_delete,
    kafka_fill,
    latency_summary,
)
from bench.broker_paced import paced_figures
from mock_ft.contracts import integration_contract
from mock_ft.ingest.validation import EventValidator
from tests.brokers import unique_name


def test_latency_summary_rounds_and_counts() -> None:
    """The summary holds the count, p50, p99 and max, in ms to 0.01."""
    summary = latency_summary([1.004, 2.0, 3.0, 40.126])
    assert summary == {"count": 4, "p50_ms": 2.0, "p99_ms": 40.13, "max_ms": 40.13}
    assert latency_summary([]) == {"count": 0, "p50_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0}


@pytest.mark.parametrize(
    ("elapsed", "expected"),
    [(-0.1, 0), (0.0, 1), (0.0004, 1), (0.0005, 2), (0.5, 1001), (10.0, 2000)],
)
def test_due_paces_and_caps(elapsed: float, expected: int) -> None:
    """At 2,000/s the first message goes at once, then one per 0.5 ms, never more than total."""
    assert due(elapsed, 2_000, 2_000) == expected


def test_payments_are_valid_and_unique() -> None:
    """Each body is a valid FT PAYMENT with its own payment id; users cycle through 1,000."""
    payments = Payments("t1")
    validator = EventValidator(integration_contract())
    seen = set()
    for index in (0, 1, 999, 1_000):
        user_id, payment_id, body = payments.body(index, "2026-01-01T00:00:00.000000Z")
        event = orjson.loads(body)
        assert (event["user_id"], event["payment_id"]) == (user_id, payment_id)
        assert event["timestamp"] == "2026-01-01T00:00:00.000000Z"
        assert validator.validate("PAYMENT", event).errors == ()
        seen.add(payment_id)
    assert len(seen) == 4
    assert payments.body(0)[0] == payments.body(1_000)[0] != payments.body(1)[0]


def test_rabbit_names_are_unique_and_become_mock_settings() -> None:
    """Two runs never share a queue; the names reach the mock through its settings."""
    first, second = RabbitNames.unique("t"), RabbitNames.unique("t")
    assert first.queue != second.queue
    env = first.env()
    assert env["MOCK_FT_RABBITMQ_QUEUE"] == first.queue
    assert env["MOCK_FT_RABBITMQ_DEAD_LETTER_QUEUE"] == first.dead_queue
    assert len({first.exchange, first.queue, first.dead_exchange, first.dead_queue}) == 4


def test_paced_figures_time_each_event_from_its_publish() -> None:
    """Latency is consumer time minus publish time per event; unseen events are not counted."""
    sent = {"a": 10.0, "b": 10.5, "c": 11.0}
    confirmed = {"a": 10.001, "b": 10.502, "c": 11.003}
    seen = {"a": 10.010, "b": 10.520}  # "c" never arrived
    figures = paced_figures((sent, confirmed, 1.5), seen, 2.0)
    assert (figures["published"], figures["consumed"]) == (3, 2)
    assert figures["publish_rate"] == 2.0
    assert figures["consumed_rate"] == round(2 / 0.52, 1)  # from the first publish to the last seen
    assert (figures["p50_ms"], figures["max_ms"]) == (10.0, 20.0)
    assert figures["confirm"]["max_ms"] == 3.0
    assert figures["target_rate"] == 2.0


@pytest.mark.slow
def test_write_each_fetch_to_sqlite_in_durable_baseline(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """The Kafka durable baseline journals every record it takes (a row each, headers kept)."""
    topic = unique_name("mockft-bench-smoke")
    journal = tmp_path / "durable.sqlite3"
    asyncio.run(kafka_fill(kafka_bootstrap, topic, Payments(topic), 30))
    try:
        figures = asyncio.run(drain_kafka(kafka_bootstrap, topic, f"{topic}-g", 30, journal))
    finally:
        asyncio.run(kafka_delete(kafka_bootstrap, topic))
    assert figures["count"] == 30
    conn = sqlite3.connect(journal)
    try:
        found = conn.execute("SELECT payload, headers FROM events ORDER BY id").fetchall()
    finally:
        conn.close()
    assert [orjson.loads(p)["payment_id"] for p, _ in found] == [f"{topic}-{i}" for i in range(30)]
    assert orjson.loads(found[0][1])["header.type"] == "PAYMENT"
