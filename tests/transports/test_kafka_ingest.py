"""Kafka ingest against a real Kafka-protocol broker (Tansu): type header, offsets, faults."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from mock_ft.samples import sample_events
from mock_ft.settings import Settings
from tests.conftest import JSON_HEADERS
from tests.transports.conftest import (
    count,
    kafka_settings,
    payment,
    rows,
    wait_connected,
    wait_until,
)

pytestmark = pytest.mark.slow

KafkaRecord = tuple[str | None, bytes, str]  # (type header, value, key)


@pytest.fixture
def kafka(kafka_bootstrap: str, tmp_path: Path) -> Settings:
    return kafka_settings(kafka_bootstrap, tmp_path / "journal.sqlite3")


def produce(bootstrap: str, topic: str, records: list[KafkaRecord]) -> None:
    """Produce records with acks=all (Tansu cannot do aiokafka's idempotent producer)."""

    async def go() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        await producer.start()
        try:
            for event_type, value, key in records:
                headers = [] if event_type is None else [("type", event_type.encode())]
                await producer.send(topic, value, key=key.encode(), headers=headers)
            await producer.flush()
        finally:
            await producer.stop()

    asyncio.run(go())


def committed(bootstrap: str, settings: Settings) -> int | None:
    """The consumer group's committed offset of partition 0."""

    async def go() -> int | None:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=settings.kafka_group)
        await consumer.start()
        try:
            offset: int | None = await consumer.committed(
                TopicPartition(settings.kafka_topics[0], 0)
            )
            return offset
        finally:
            await consumer.stop()

    return asyncio.run(go())


def test_ingest_every_event_type_over_kafka(kafka: Settings, running, kafka_bootstrap) -> None:
    client = running(kafka)
    wait_connected(client, "kafka")
    samples = sample_events()
    records: list[KafkaRecord] = [
        (r.event_type, json.dumps(p).encode(), str(p.get("user_id", "0"))) for r, p in samples
    ]
    produce(kafka_bootstrap, kafka.kafka_topics[0], records)
    wait_until(lambda: count(kafka.journal) == len(samples), "every sample journaled")
    found = rows(kafka.journal, "SELECT event_type, verdict, transport, headers FROM events")
    assert {(t, v, tr) for t, v, tr, _ in found} == {
        (r.event_type, "accepted", "kafka") for r, _ in samples
    }
    headers = json.loads(found[0][3])
    assert headers["header.type"] == found[0][0]
    assert headers["kafka.offset"] == "0"


def test_commit_offset_after_journal(kafka: Settings, running, kafka_bootstrap) -> None:
    client = running(kafka)
    wait_connected(client, "kafka")
    produce(kafka_bootstrap, kafka.kafka_topics[0], [("PAYMENT", payment("1", "p-1"), "1")] * 3)
    wait_until(lambda: count(kafka.journal) == 3, "three records journaled")
    wait_until(lambda: committed(kafka_bootstrap, kafka) == 3, "offset 3 committed")
    [(source, next_offset)] = rows(kafka.journal, "SELECT source, next_offset FROM broker_offsets")
    assert (source, next_offset) == (f"{kafka.kafka_topics[0]}:0@{kafka.kafka_group}", 3)


def test_reject_record_without_type_header(kafka: Settings, running, kafka_bootstrap) -> None:
    client = running(kafka)
    wait_connected(client, "kafka")
    produce(kafka_bootstrap, kafka.kafka_topics[0], [(None, payment("1", "p-1"), "1")])
    wait_until(lambda: count(kafka.journal) == 1, "the record journaled")
    event = client.get("/_mock/events").json()["data"][0]
    assert (event["verdict"], event["error_code"]) == ("rejected", "unknown_event_type")
    assert event["errors"][0]["path"] == "header.type"
    assert "Kafka record header `type` is missing" in event["errors"][0]["message"]


def test_reject_invalid_record_with_reason(kafka: Settings, running, kafka_bootstrap) -> None:
    client = running(kafka)
    wait_connected(client, "kafka")
    produce(kafka_bootstrap, kafka.kafka_topics[0], [("PAYMENT", b'{"user_id": 5}', "5")])
    wait_until(lambda: count(kafka.journal) == 1, "the record journaled")
    event = client.get("/_mock/events").json()["data"][0]
    assert event["error_code"] == "validation_failed"
    assert "$.user_id" in [p["path"] for p in event["errors"]]


def test_refetch_record_a_nack_rule_hits(kafka: Settings, running, kafka_bootstrap) -> None:
    client = running(kafka)
    wait_connected(client, "kafka")
    client.post("/_mock/faults", json={"action": "nack", "user_id": "2", "times": 2})
    records: list[KafkaRecord] = [("PAYMENT", payment(str(u), f"p-{u}"), str(u)) for u in (1, 2, 3)]
    produce(kafka_bootstrap, kafka.kafka_topics[0], records)
    wait_until(lambda: count(kafka.journal, "verdict = 'accepted'") == 3, "all accepted")
    found = rows(kafka.journal, "SELECT user_id, verdict FROM events ORDER BY id")
    assert found == [
        ("1", "accepted"),
        ("2", "faulted"),
        ("2", "faulted"),
        ("2", "accepted"),
        ("3", "accepted"),
    ]


def test_drain_backlog_after_kafka_pause(kafka: Settings, running, kafka_bootstrap) -> None:
    """Records behind the pausing one wait until the rule is removed, then all arrive in order."""
    client = running(kafka)
    wait_connected(client, "kafka")
    rule = {"action": "pause", "delay_ms": 600_000, "times": 1, "transport": "kafka"}
    client.post("/_mock/faults", json=rule).raise_for_status()
    records: list[KafkaRecord] = [
        ("PAYMENT", payment(str(i), f"p-{i}"), str(i)) for i in range(300)
    ]
    produce(kafka_bootstrap, kafka.kafka_topics[0], records)
    wait_until(
        lambda: client.get("/_mock/health").json()["brokers"][0]["state"] == "paused", "paused"
    )
    assert count(kafka.journal, "verdict = 'accepted'") == 0  # the first record paused it
    client.delete("/_mock/faults", headers=JSON_HEADERS).raise_for_status()
    wait_until(lambda: count(kafka.journal, "verdict = 'accepted'") == 300, "drained")
    assert count(kafka.journal, "verdict = 'faulted'") == 1
    offsets = rows(
        kafka.journal,
        "SELECT json_extract(headers, '$.\"kafka.offset\"') FROM events WHERE verdict = 'accepted'",
    )
    assert sorted(int(o) for (o,) in offsets) == list(range(300))


def test_rejoin_without_loss_after_close(kafka: Settings, running, kafka_bootstrap) -> None:
    client = running(kafka)
    wait_connected(client, "kafka")
    rule = {"action": "close_channel", "times": 1, "user_id": "40"}
    client.post("/_mock/faults", json=rule).raise_for_status()
    records: list[KafkaRecord] = [
        ("PAYMENT", payment(str(i), f"p-{i}"), str(i)) for i in range(100)
    ]
    produce(kafka_bootstrap, kafka.kafka_topics[0], records)
    wait_until(lambda: count(kafka.journal, "verdict = 'accepted'") >= 100, "all accepted")
    users = rows(kafka.journal, "SELECT user_id FROM events WHERE verdict = 'accepted'")
    assert sorted(int(u) for (u,) in users) == list(range(100))
