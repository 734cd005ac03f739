"""A broker delivery taken over by a second writer on one PostgreSQL journal (issue 25): the
second writer never journals what the first is still committing.

Each writer is a `Pipeline` on its own `Journal` and thread, as each `mock-ft serve` has. The test
holds every journal commit back with the row lock each commit takes (`journal_ids`), so the first
writer's batch is open while the second looks for the delivery: the interleaving a `kill -9`
during a commit leaves to chance happens every time.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from mock_ft.contracts import integration_contract
from mock_ft.ingest.attempts import Attempt, Outcome
from mock_ft.ingest.pipeline import Pipeline
from mock_ft.journal import Journal
from mock_ft.samples import sample_events
from tests.postgres import empty_schema
from tests.waiting import HANG_GUARD, wait_until

PAYMENT = next(p for r, p in sample_events() if r.event_type == "PAYMENT")


@pytest.fixture
def url(postgres_database: str) -> str:
    return empty_schema(postgres_database)


@pytest.fixture
def writers(url: str) -> Iterator[tuple[Pipeline, Pipeline]]:
    contract = integration_contract()
    with Journal(url) as a, Journal(url) as b:
        yield (
            Pipeline(a, contract, freshness_target_ms=1e9),
            Pipeline(b, contract, freshness_target_ms=1e9),
        )


def _waiting_on_locks(url: str) -> int:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database()"
        ).fetchone()
    return int(row[0]) if row else 0


def _ingest_aside(pipeline: Pipeline, attempt: Attempt, into: list[Outcome]) -> threading.Thread:
    """Ingest `attempt` on a thread (and event loop) of its own, as another process would."""
    thread = threading.Thread(target=lambda: into.append(asyncio.run(pipeline.ingest(attempt))))
    thread.start()
    return thread


def _entries(url: str, where: str) -> list[tuple[int, str]]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        sql = f"SELECT id, verdict FROM events WHERE {where} ORDER BY id"  # noqa: S608
        return [(int(i), str(v)) for i, v in conn.execute(sql)]


@contextmanager
def _journal_commits_held(url: str) -> Iterator[Callable[[], None]]:
    """Hold every journal commit back (each takes the `journal_ids` row lock) until the
    yielded `release()`."""
    import psycopg

    with psycopg.connect(url) as blocker:
        blocker.execute("SELECT last FROM journal_ids WHERE name = 'events' FOR UPDATE")
        yield blocker.rollback


def _delivery(*, redelivered: bool, offset: tuple[str, int] | None = None) -> Attempt:
    body = json.dumps({**PAYMENT, "user_id": "u-taken", "payment_id": "p-taken"}).encode()
    return Attempt(
        transport="kafka" if offset else "rabbitmq",
        received_at=time.time(),
        body=body,
        event_type="PAYMENT",
        broker_ref=None if offset else "amqp:taken-over",
        redelivered=redelivered,
        offset=offset,
    )


def test_journal_redelivery_once_when_it_overtakes_first_delivery_commit(
    url: str, writers: tuple[Pipeline, Pipeline]
) -> None:
    """A journals a RabbitMQ message; before A's commit ends, the broker (A's connection gone)
    redelivers it to B, whose look-up before the batch finds nothing yet. B waits for A's batch
    in its own transaction, finds A's entry there and writes nothing."""
    a, b = writers
    first: list[Outcome] = []
    again: list[Outcome] = []
    with _journal_commits_held(url) as release:
        thread_a = _ingest_aside(a, _delivery(redelivered=False), first)
        wait_until(lambda: _waiting_on_locks(url) == 1, "A's batch open")
        assert asyncio.run(b.journaled_as("amqp:taken-over")) is None  # the batch's look-up
        thread_b = _ingest_aside(b, _delivery(redelivered=True), again)
        wait_until(lambda: _waiting_on_locks(url) == 2, "B's batch waiting too")
        release()
    thread_a.join(HANG_GUARD)
    thread_b.join(HANG_GUARD)
    assert _entries(url, "broker_ref = 'amqp:taken-over'") == [(first[0].event_id, "accepted")]
    assert again[0].already


def test_journal_kafka_record_once_when_its_partition_moves_mid_batch(
    url: str, writers: tuple[Pipeline, Pipeline]
) -> None:
    """A journals record 0 of a partition; before A's commit ends the partition moves to B, which
    starts where the journal stands (before record 0) and takes record 0 too. B waits for A's
    batch, sees the partition's offset past record 0 and writes nothing."""
    a, b = writers
    source = "fasttrack.events:0@mock-ft"
    first: list[Outcome] = []
    again: list[Outcome] = []
    with _journal_commits_held(url) as release:
        thread_a = _ingest_aside(a, _delivery(redelivered=False, offset=(source, 0)), first)
        wait_until(lambda: _waiting_on_locks(url) == 1, "A's batch open")
        thread_b = _ingest_aside(b, _delivery(redelivered=False, offset=(source, 0)), again)
        wait_until(lambda: _waiting_on_locks(url) == 2, "B's batch waiting too")
        release()
    thread_a.join(HANG_GUARD)
    thread_b.join(HANG_GUARD)
    assert _entries(url, "transport = 'kafka'") == [(first[0].event_id, "accepted")]
    assert again[0].already
