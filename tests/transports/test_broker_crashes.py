"""Crashes and restarts with real processes and brokers: nothing acknowledged is lost, nothing
the journal holds is journaled twice.

The mock is a real `mock-ft serve` process, killed with SIGKILL (no shutdown, no flush). A
`delay` fault rule holds one message's ack (RabbitMQ) or its batch's offset commit (Kafka) for a
minute, so at the kill there is always a message the journal has and the broker does not know
is taken: its redelivery must not make a second entry.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest

from tests import web
from tests.brokers import private_rabbitmq
from tests.serve_process import serve_process
from tests.transports.conftest import (
    AmqpMessage,
    count,
    delete_rabbit_topology,
    kafka_settings,
    payment,
    publish_amqp,
    rabbit_settings,
    rows,
    wait_until,
)
from tests.transports.test_kafka_ingest import KafkaRecord, produce

pytestmark = pytest.mark.slow

HOLD_ONE = "delay hold=60s user=7"  # the ack/commit of user 7's event waits past the kill


def _payment(index: int) -> bytes:
    return payment(str(index % 50), f"p-{index}")


def _env(**values: object) -> dict[str, str]:
    return {f"MOCK_FT_{k.upper()}": str(v) for k, v in values.items()}


def _health(url: str) -> dict[str, object]:
    brokers: list[dict[str, object]] = web.get(f"{url}/_mock/health").json()["brokers"]
    return brokers[0]


def _once_each(journal: Path, key: str, expected: int) -> None:
    """Every message (by `key` in the journaled headers) accepted exactly once."""
    found = rows(
        journal,
        f"SELECT json_extract(headers, '$.\"{key}\"'), COUNT(*) FROM events "  # noqa: S608
        "WHERE verdict = 'accepted' GROUP BY 1",
    )
    assert len(found) == expected
    assert [k for k, n in found if n != 1] == []


def test_journal_rabbitmq_messages_once_across_kill_9(rabbitmq_url: str, tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite3"
    settings = rabbit_settings(rabbitmq_url, journal)
    env = _env(
        rabbitmq_url=rabbitmq_url,
        rabbitmq_exchange=settings.rabbitmq_exchange,
        rabbitmq_queue=settings.rabbitmq_queue,
        rabbitmq_dead_letter_exchange=settings.rabbitmq_dead_letter_exchange,
        rabbitmq_dead_letter_queue=settings.rabbitmq_dead_letter_queue,
    )
    total = 2_000
    messages: list[AmqpMessage] = [
        ("PAYMENT", _payment(i), {"message_id": str(i)}) for i in range(total)
    ]
    try:
        with serve_process("--journal", str(journal), env={**env, "MOCK_FT_FAULTS": HOLD_ONE}) as (
            url,
            process,
        ):
            wait_until(lambda: _health(url)["state"] == "connected", "consuming")
            publisher = threading.Thread(
                target=publish_amqp, args=(rabbitmq_url, settings.rabbitmq_exchange, messages)
            )
            publisher.start()
            wait_until(lambda: count(journal) >= total // 2, "half journaled")
            os.kill(process.pid, signal.SIGKILL)
            publisher.join()
        with serve_process("--journal", str(journal), env=env) as (url, _):
            wait_until(lambda: count(journal, "verdict = 'accepted'") >= total, "all in")
            wait_until(lambda: int(str(_health(url)["redeliveries_skipped"])) >= 1, "skip")
        _once_each(journal, "amqp.message_id", total)
    finally:
        delete_rabbit_topology(rabbitmq_url, settings)


def test_journal_kafka_records_once_across_kill_9(kafka_bootstrap: str, tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite3"
    settings = kafka_settings(kafka_bootstrap, journal)
    env = _env(
        kafka_bootstrap=kafka_bootstrap,
        kafka_topics=settings.kafka_topics[0],
        kafka_group=settings.kafka_group,
        kafka_session_timeout_ms=settings.kafka_session_timeout_ms,
    )
    total = 2_000
    records: list[KafkaRecord] = [("PAYMENT", _payment(i), str(i % 50)) for i in range(total)]
    with serve_process("--journal", str(journal), env={**env, "MOCK_FT_FAULTS": HOLD_ONE}) as (
        url,
        process,
    ):
        wait_until(lambda: _health(url)["state"] == "connected", "consuming")
        produce(kafka_bootstrap, settings.kafka_topics[0], records)
        wait_until(lambda: count(journal) >= 1, "journaling, with a commit held back")
        os.kill(process.pid, signal.SIGKILL)
    with serve_process("--journal", str(journal), env=env) as (url, _):
        wait_until(lambda: count(journal, "verdict = 'accepted'") >= total, "all in")
    _once_each(journal, "kafka.offset", total)


def test_resume_after_rabbitmq_restart_without_loss(tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite3"
    with private_rabbitmq() as node:
        settings = rabbit_settings(node.url, journal)
        env = _env(
            rabbitmq_url=node.url,
            rabbitmq_exchange=settings.rabbitmq_exchange,
            rabbitmq_queue=settings.rabbitmq_queue,
        )
        first: list[AmqpMessage] = [
            ("PAYMENT", _payment(i), {"message_id": str(i)}) for i in range(1_000)
        ]
        second: list[AmqpMessage] = [
            ("PAYMENT", _payment(i), {"message_id": str(i)}) for i in range(1_000, 1_500)
        ]
        with serve_process("--journal", str(journal), env=env) as (url, _):
            wait_until(lambda: _health(url)["state"] == "connected", "consuming")
            publish_amqp(node.url, settings.rabbitmq_exchange, first)
            wait_until(lambda: count(journal) >= 100, "consuming the first batch")
            node.stop_app()  # mid-stream: unacked messages stay in the durable queue
            wait_until(lambda: _health(url)["state"] == "reconnecting", "noticed")
            node.start_app()
            wait_until(lambda: _health(url)["state"] == "connected", "reconnected")
            publish_amqp(node.url, settings.rabbitmq_exchange, second)
            wait_until(lambda: count(journal, "verdict = 'accepted'") >= 1_500, "all in")
        _once_each(journal, "amqp.message_id", 1_500)
