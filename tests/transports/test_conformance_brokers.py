"""The conformance corpus over RabbitMQ and Kafka (one mock per broker, the corpus in one batch),
and Kafka's event type taken from a topic named after it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from mock_ft.settings import Settings
from tests.conformance.judge import Answer, assert_conforms, journal_answer, load_corpus
from tests.ft_events import ft_event
from tests.transports.conftest import (
    count,
    delete_rabbit_topology,
    kafka_settings,
    publish_amqp,
    rabbit_settings,
    rows,
    wait_connected,
    wait_until,
)

pytestmark = pytest.mark.slow

CASES = load_corpus()
KafkaRecord = tuple[str | None, bytes, str]  # (type header, value, key)


def _body(case: dict[str, object]) -> bytes:
    return json.dumps(case["payload"]).encode()


def _journal_answers(journal: str, header: str) -> dict[str, Answer]:
    """Each case's verdict from the journal, found by the case index the message carried."""
    found = rows(
        journal,
        f"SELECT json_extract(headers, '$.\"{header}\"'), verdict, errors, warnings FROM events",  # noqa: S608
    )
    return {CASES[int(index)]["id"]: journal_answer(*rest) for index, *rest in found}


@pytest.fixture
def rabbit(rabbitmq_url: str, tmp_path: Path) -> Iterator[Settings]:
    settings = rabbit_settings(rabbitmq_url, tmp_path / "journal.sqlite3")
    yield settings
    delete_rabbit_topology(rabbitmq_url, settings)


def test_conform_over_rabbitmq(rabbit: Settings, running, rabbitmq_url: str) -> None:
    """The corpus published with the AMQP `type` property: FT's verdict for each message."""
    client = running(rabbit)
    wait_connected(client, "rabbitmq")
    messages = [
        (case["type"], _body(case), {"message_id": str(index)}) for index, case in enumerate(CASES)
    ]
    publish_amqp(rabbitmq_url, rabbit.rabbitmq_exchange, messages)
    wait_until(lambda: count(rabbit.journal) == len(CASES), "every case journaled")
    assert_conforms(CASES, _journal_answers(rabbit.journal, "amqp.message_id"), "rabbitmq")


def produce(bootstrap: str, records: list[tuple[str, KafkaRecord]]) -> None:
    """Produce (topic, (type header, value, key)) records with acks=all."""

    async def go() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        await producer.start()
        try:
            for topic, (event_type, value, key) in records:
                headers = [] if event_type is None else [("type", event_type.encode())]
                await producer.send(topic, value, key=key.encode(), headers=headers)
            await producer.flush()
        finally:
            await producer.stop()

    asyncio.run(go())


def test_conform_over_kafka(kafka_bootstrap: str, running, tmp_path: Path) -> None:
    """The corpus produced with the `type` header: FT's verdict for each record."""
    settings = kafka_settings(kafka_bootstrap, tmp_path / "journal.sqlite3")
    client = running(settings)
    wait_connected(client, "kafka")
    topic = settings.kafka_topics[0]
    produce(
        kafka_bootstrap,
        [(topic, (case["type"], _body(case), str(i))) for i, case in enumerate(CASES)],
    )
    wait_until(lambda: count(settings.journal) == len(CASES), "every case journaled")
    assert_conforms(CASES, _journal_answers(settings.journal, "kafka.key"), "kafka")


def _topic_per_type(bootstrap: str, journal: Path, **extra: object) -> tuple[Settings, str]:
    prefix = kafka_settings(bootstrap, journal).kafka_topics[0]  # a unique name
    topics = [f"{prefix}.GAME_ROUND", f"{prefix}.NOT_A_TYPE"]
    settings = kafka_settings(bootstrap, journal, **extra).model_copy(
        update={"kafka_topics": topics}
    )
    return settings, prefix


def test_take_event_type_from_topic_name(kafka_bootstrap: str, running, tmp_path: Path) -> None:
    """Without a `type` header, a topic named `<prefix>.GAME_ROUND` carries GAME_ROUND events;
    a topic named after no event type still needs the header."""
    settings, prefix = _topic_per_type(kafka_bootstrap, tmp_path / "journal.sqlite3")
    client = running(settings)
    wait_connected(client, "kafka")
    _, payload = ft_event("GAME_ROUND")
    body = json.dumps(payload).encode()
    produce(
        kafka_bootstrap,
        [
            (f"{prefix}.GAME_ROUND", (None, body, "7001")),
            (f"{prefix}.NOT_A_TYPE", (None, body, "7001")),
        ],
    )
    wait_until(lambda: count(settings.journal) == 2, "both records journaled")
    found = rows(
        settings.journal,
        "SELECT json_extract(headers, '$.\"kafka.topic\"'), event_type, verdict, error_code "
        "FROM events ORDER BY 1",
    )
    assert found == [
        (f"{prefix}.GAME_ROUND", "GAME_ROUND", "accepted", None),
        (f"{prefix}.NOT_A_TYPE", None, "rejected", "unknown_event_type"),
    ]


def test_require_type_header_when_topic_types_off(
    kafka_bootstrap: str, running, tmp_path: Path
) -> None:
    """With kafka_type_from_topic off, the topic name says nothing: the header is required."""
    settings, prefix = _topic_per_type(
        kafka_bootstrap, tmp_path / "journal.sqlite3", kafka_type_from_topic=False
    )
    client = running(settings)
    wait_connected(client, "kafka")
    _, payload = ft_event("GAME_ROUND")
    produce(kafka_bootstrap, [(f"{prefix}.GAME_ROUND", (None, json.dumps(payload).encode(), "1"))])
    wait_until(lambda: count(settings.journal) == 1, "the record journaled")
    event = client.get("/_mock/events").json()["data"][0]
    assert (event["verdict"], event["error_code"]) == ("rejected", "unknown_event_type")
    assert "topic named after it" in event["errors"][0]["message"]
