"""Two `mock-ft serve` processes on one PostgreSQL journal consuming one RabbitMQ queue (competing
consumers) and one Kafka consumer group (partitions split between them), issue 25: every message
is journaled exactly once, also when one instance is killed with SIGKILL mid-stream.

Real processes, the machine's RabbitMQ and PostgreSQL, a Tansu per worker. A `delay` fault rule
makes the instance that is killed hold one message's ack (RabbitMQ) or one batch's offset commit
(Kafka) for a minute, so at the kill there is always something journaled that the broker does
not know is taken: it comes back to the other instance, which must not journal it again.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import Iterator
from functools import partial
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from tests.brokers import unique_name
from tests.postgres import scratch_database
from tests.serve_process import serve_process
from tests.transports.conftest import AmqpMessage, payment, publish_amqp, wait_until

pytestmark = pytest.mark.slow

# The instances are left out of the run's coverage: they run the consumers the one-instance tests
# cover, at volume (measured 2026-12-07: this module's children took 31 s of CPU measured, 14 s
# not). The suite lost two lines by it, a race these runs meet only by chance: a Kafka offset
# commit that fails because its partition moved meanwhile (brokers/kafka.py, logged at info).
_instance = partial(serve_process, measured=False)

# The ack/commit of user 7's first event waits past the kill. Fault rules are the cluster's: the
# instance to be killed starts alone and meets it before the other joins.
HOLD_ONE = "delay hold=60s user=7 times=1"
HELD = "SELECT COUNT(*) FROM events WHERE fault IS NOT NULL"
PARTITIONS = 4
# Nobody is late however loaded the machine; no heartbeat commits to wait behind.
QUIET = {
    "MOCK_FT_FRESHNESS_TARGET_MS": str(24 * 3600 * 1000),
    "MOCK_FT_INSTANCE_LEASE_SECONDS": str(24 * 3600),
}


@pytest.fixture
def journal_url() -> Iterator[str]:
    with scratch_database() as url:
        yield url


def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql).fetchall()


AMQP = ("amqp.message_id",)  # the journaled headers that name a message
KAFKA = ("kafka.partition", "kafka.offset")


def _journaled_once(url: str, keys: tuple[str, ...]) -> tuple[int, list[str]]:
    """(how many distinct messages were accepted, those accepted more than once), a message
    named by the journaled headers `keys`."""
    named = " || '/' || ".join(f"(headers::jsonb ->> '{k}')" for k in keys)
    found = _rows(
        url,
        f"SELECT {named}, COUNT(*) FROM events WHERE verdict = 'accepted' GROUP BY 1",  # noqa: S608
    )
    return len(found), sorted(str(k) for k, n in found if n != 1)


def _distinct(url: str, keys: tuple[str, ...]) -> int:
    return _journaled_once(url, keys)[0]


def _broker(base: str) -> dict[str, Any]:
    brokers: list[dict[str, Any]] = httpx.get(f"{base}/_mock/health", timeout=30).json()["brokers"]
    return brokers[0]


def _wait_consuming(*bases: str) -> None:
    for base in bases:
        wait_until(lambda: _broker(base)["state"] == "connected", f"{base} consuming")


def _rabbit_env(url: str) -> dict[str, str]:
    name = unique_name()
    return {
        **QUIET,
        "MOCK_FT_RABBITMQ_URL": url,
        "MOCK_FT_RABBITMQ_EXCHANGE": name,
        "MOCK_FT_RABBITMQ_QUEUE": f"{name}.events",
        "MOCK_FT_RABBITMQ_DEAD_LETTER_EXCHANGE": f"{name}.dead-letter",
        "MOCK_FT_RABBITMQ_DEAD_LETTER_QUEUE": f"{name}.events.dead",
    }


def _messages(total: int) -> list[AmqpMessage]:
    """Users 0-48: a round-robin between two consumers gives each some of every player."""
    return [
        ("PAYMENT", payment(str(i % 49), f"p-{i}"), {"message_id": str(i)}) for i in range(total)
    ]


def _delete_rabbit(url: str, env: dict[str, str]) -> None:
    import aio_pika

    async def go() -> None:
        connection = await aio_pika.connect(url)
        async with connection:
            channel = await connection.channel()
            for queue in ("MOCK_FT_RABBITMQ_QUEUE", "MOCK_FT_RABBITMQ_DEAD_LETTER_QUEUE"):
                await channel.queue_delete(env[queue])
            for exchange in ("MOCK_FT_RABBITMQ_EXCHANGE", "MOCK_FT_RABBITMQ_DEAD_LETTER_EXCHANGE"):
                await channel.exchange_delete(env[exchange])

    asyncio.run(go())


def test_share_rabbitmq_queue_between_two_instances(rabbitmq_url: str, journal_url: str) -> None:
    """Competing consumers: both instances take some of the queue, each message journaled once."""
    env = _rabbit_env(rabbitmq_url)
    total = 2_000
    try:
        with (
            _instance("--journal", journal_url, env=env) as (a, _),
            _instance("--journal", journal_url, env=env) as (b, _),
        ):
            _wait_consuming(a, b)
            publish_amqp(rabbitmq_url, env["MOCK_FT_RABBITMQ_EXCHANGE"], _messages(total))
            wait_until(lambda: _distinct(journal_url, AMQP) >= total, "all journaled")
            assert _broker(a)["consumed"] > 0
            assert _broker(b)["consumed"] > 0
        assert _journaled_once(journal_url, AMQP) == (total, [])
    finally:
        _delete_rabbit(rabbitmq_url, env)


def test_journal_rabbitmq_once_when_one_of_two_instances_is_killed(
    rabbitmq_url: str, journal_url: str
) -> None:
    """A holds one journaled message's ack and is killed -9 mid-stream: B gets A's unacked
    messages, recognises the journaled one from the shared journal, and journals the rest."""
    env = _rabbit_env(rabbitmq_url)
    total, exchange = 2_000, env["MOCK_FT_RABBITMQ_EXCHANGE"]
    messages = _messages(total)
    try:
        with _instance("--journal", journal_url, env={**env, "MOCK_FT_FAULTS": HOLD_ONE}) as (
            a,
            killed,
        ):
            _wait_consuming(a)
            publish_amqp(rabbitmq_url, exchange, messages[:50])
            wait_until(lambda: _rows(journal_url, HELD)[0][0] >= 1, "A journaled one it holds")
            with _instance("--journal", journal_url, env=env) as (b, _):
                _wait_consuming(b)
                publisher = threading.Thread(
                    target=publish_amqp, args=(rabbitmq_url, exchange, messages[50:])
                )
                publisher.start()
                wait_until(lambda: _broker(b)["consumed"] >= 1, "B consuming")
                os.kill(killed.pid, signal.SIGKILL)
                publisher.join()
                wait_until(lambda: _distinct(journal_url, AMQP) >= total, "all journaled")
                wait_until(lambda: _broker(b)["redeliveries_skipped"] >= 1, "the held one skipped")
        assert _journaled_once(journal_url, AMQP) == (total, [])
    finally:
        _delete_rabbit(rabbitmq_url, env)


def _kafka_env(bootstrap: str) -> dict[str, str]:
    """A topic of PARTITIONS partitions (made here) and a group no other test uses."""
    name = unique_name()

    async def create() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(name, PARTITIONS, replication_factor=1)])
        finally:
            await admin.close()

    asyncio.run(create())
    return {
        **QUIET,
        "MOCK_FT_KAFKA_BOOTSTRAP": bootstrap,
        "MOCK_FT_KAFKA_TOPICS": name,
        "MOCK_FT_KAFKA_GROUP": f"{name}-group",
        "MOCK_FT_KAFKA_SESSION_TIMEOUT_MS": "2000",  # Tansu holds a join for half of it
    }


def _produce(bootstrap: str, topic: str, total: int, start: int = 0) -> None:
    """`total` PAYMENT records (numbered from `start`) round-robin over the partitions, acks=all."""

    async def go() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        await producer.start()
        try:
            for i in range(start, start + total):
                await producer.send(
                    topic,
                    payment(str(i % 49), f"p-{i}"),  # user 7 on every partition
                    partition=i % PARTITIONS,
                    headers=[("type", b"PAYMENT")],
                )
            await producer.flush()
        finally:
            await producer.stop()

    asyncio.run(go())


def _split(bases: list[str]) -> list[set[str]]:
    """Each instance's assigned partitions, from /_mock/health."""
    return [set(_broker(base)["partitions"]) for base in bases]


def _disjoint_cover(parts: list[set[str]], topic: str) -> bool:
    everything = {f"{topic}:{p}" for p in range(PARTITIONS)}
    return all(parts) and set.union(*parts) == everything and sum(map(len, parts)) == PARTITIONS


def test_split_kafka_partitions_between_two_instances(
    kafka_bootstrap: str, journal_url: str
) -> None:
    """One group over two instances: the partitions are split between them, both journal, and
    every record is journaled once."""
    env = _kafka_env(kafka_bootstrap)
    topic, total = env["MOCK_FT_KAFKA_TOPICS"], 2_000
    with (
        _instance("--journal", journal_url, env=env) as (a, _),
        _instance("--journal", journal_url, env=env) as (b, _),
    ):
        wait_until(lambda: _disjoint_cover(_split([a, b]), topic), "partitions split")
        _produce(kafka_bootstrap, topic, total)
        wait_until(lambda: _distinct(journal_url, KAFKA) >= total, "all journaled")
        assert _broker(a)["consumed"] > 0
        assert _broker(b)["consumed"] > 0
    assert _journaled_once(journal_url, KAFKA) == (total, [])


def test_journal_kafka_once_when_partitions_move_from_a_killed_instance(
    kafka_bootstrap: str, journal_url: str
) -> None:
    """A journals a batch but holds its offset commit; B joins and the partitions are split;
    A is killed -9: its partitions move to B, which starts them at the journal's offsets (not
    the broker's), so nothing is journaled twice and nothing is lost."""
    env = _kafka_env(kafka_bootstrap)
    topic, total = env["MOCK_FT_KAFKA_TOPICS"], 2_000
    with _instance("--journal", journal_url, env={**env, "MOCK_FT_FAULTS": HOLD_ONE}) as (
        a,
        killed,
    ):
        wait_until(lambda: len(_split([a])[0]) == PARTITIONS, "A has every partition")
        _produce(kafka_bootstrap, topic, 200)
        wait_until(lambda: _rows(journal_url, HELD)[0][0] >= 1, "A journaled a batch it holds")
        with _instance("--journal", journal_url, env=env) as (b, _):
            wait_until(lambda: _disjoint_cover(_split([a, b]), topic), "partitions split")
            _produce(kafka_bootstrap, topic, total - 200, start=200)
            wait_until(lambda: _broker(b)["consumed"] >= 1, "B consuming")
            os.kill(killed.pid, signal.SIGKILL)
            wait_until(lambda: len(_split([b])[0]) == PARTITIONS, "A's partitions moved to B")
            wait_until(lambda: _distinct(journal_url, KAFKA) >= total, "all journaled")
    assert _journaled_once(journal_url, KAFKA) == (total, [])


def _lock_waiters(url: str) -> int:
    """Sessions of the journal's database waiting for a lock (journal commits held up)."""
    found = _rows(
        url,
        "SELECT COUNT(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )
    return int(found[0][0])


def test_journal_kafka_once_when_partitions_move_mid_batch(
    kafka_bootstrap: str, journal_url: str
) -> None:
    """A has fetched a batch and is journaling it when B joins and takes half of A's partitions:
    B starts them where the journal stands, before A's batch is in it. Whichever commits
    second must not journal the records again (the test holds every journal commit back with
    the row lock each commit takes, until both instances' batches wait on it)."""
    import psycopg

    env = _kafka_env(kafka_bootstrap)
    topic, total = env["MOCK_FT_KAFKA_TOPICS"], 400
    with _instance("--journal", journal_url, env=env) as (a, _):
        wait_until(lambda: len(_split([a])[0]) == PARTITIONS, "A has every partition")
        with psycopg.connect(journal_url) as blocker:
            blocker.execute("SELECT last FROM journal_ids WHERE name = 'events' FOR UPDATE")
            _produce(kafka_bootstrap, topic, total)
            wait_until(lambda: _lock_waiters(journal_url) >= 1, "A's batch waits to commit")
            with _instance("--journal", journal_url, env=env) as (b, _):
                wait_until(lambda: _lock_waiters(journal_url) >= 2, "B's batch waits too")
                blocker.rollback()
                wait_until(lambda: _distinct(journal_url, KAFKA) >= total, "all journaled")
                assert _broker(b)["consumed"] > 0
    assert _journaled_once(journal_url, KAFKA) == (total, [])
