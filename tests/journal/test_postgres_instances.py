"""Several writers on one PostgreSQL journal (issue 25, item 2): the stream checks give the
verdict one writer would, whichever writer takes which attempt.

Each writer is a `Journal` with its own connection, as each `mock-ft serve` has; two of them in
one process let the test hold one writer's batch open at a chosen point, so the interleaving that
loses a duplicate without per-key locks happens every time, not by chance.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from mock_ft.contracts import EventRoute
from mock_ft.ingest.checks import apply_stream_checks, idempotency_key, stream_reads
from mock_ft.journal import Journal, NewEntry
from mock_ft.journal.instances import Heartbeat
from mock_ft.journal.tx import Tx
from mock_ft.samples import sample_events
from tests.postgres import empty_schema, listeners_cut_off, scratch_database
from tests.waiting import HANG_GUARD, wait_until

ROUTE, PAYMENT = next((r, p) for r, p in sample_events() if r.event_type == "PAYMENT")


@pytest.fixture
def url(postgres_database: str) -> str:
    return empty_schema(postgres_database)


def _checked(
    route: EventRoute, payload: dict[str, Any], then: Callable[[], None] = lambda: None
) -> tuple[Callable[[Tx], int | None], Any]:
    """A job that stream-checks and journals `payload` as the pipeline does, calls `then` inside
    the transaction, and returns the id it is a duplicate of (None: the first); and its reads."""
    key = idempotency_key(route, payload)
    user_id = str(payload["user_id"])

    def job(tx: Tx) -> int | None:
        entry = NewEntry("rest", time.time(), "accepted", 200, user_id=user_id)
        entry.event_type = route.event_type
        apply_stream_checks(tx, entry, route, payload, key, tx.next_id())
        tx.insert(entry)
        then()
        return entry.duplicate_of

    return job, stream_reads(route, payload, key, user_id)


def _waiting_on_locks(journal: Journal) -> int:
    """How many connections to the journal's database wait for a lock now."""
    rows = journal.run_sync(
        lambda tx: tx.conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database()"
        ).fetchone()
    )
    return int(rows[0])


def test_open_two_writers_on_one_postgres_journal(url: str) -> None:
    """A second Journal on the same database opens beside the first: each sees the other's
    events."""
    with Journal(url) as first, Journal(url) as second:
        one = first.run_sync(Journal.append(NewEntry("rest", 1.0, "accepted", 200)))
        two = second.run_sync(Journal.append(NewEntry("rest", 2.0, "accepted", 200)))
        assert first.run_sync(Journal.get(two)) is not None
        assert second.run_sync(Journal.get(one)) is not None
    assert two == one + 1


def test_flag_duplicate_taken_by_second_writer_while_first_commits(url: str) -> None:
    """Writer B checks an attempt of a key while writer A's batch with the same key is still
    open: B waits for A's commit and flags a duplicate of A's event, as one writer would."""
    payload = {**PAYMENT, "payment_id": "race-1", "user_id": "u-race"}
    inside, release = threading.Event(), threading.Event()
    results: dict[str, int | None] = {}

    def hold() -> None:
        inside.set()
        release.wait(timeout=60)

    with Journal(url) as a, Journal(url) as b:
        job_a, reads = _checked(ROUTE, payload, then=hold)
        job_b, _ = _checked(ROUTE, payload)
        thread_a = threading.Thread(target=lambda: results.update(a=a.run_sync(job_a, reads)))
        thread_b = threading.Thread(target=lambda: results.update(b=b.run_sync(job_b, reads)))
        thread_a.start()
        assert inside.wait(timeout=60)
        thread_b.start()
        with Journal(url) as observer:
            wait_until(lambda: _waiting_on_locks(observer) == 1, what="B waiting for A")
        release.set()
        thread_a.join(timeout=60)
        thread_b.join(timeout=60)
        first = a.run_sync(lambda tx: tx.conn.execute("SELECT min(id) FROM events").fetchone()[0])
    assert results == {"a": None, "b": first}


def test_see_every_instance_until_it_leaves(url: str) -> None:
    """Two heartbeats on one journal see each other; one that stops is no longer seen."""

    async def run() -> tuple[list[str], list[str], list[str]]:
        with Journal(url) as a, Journal(url) as b:
            first, second = Heartbeat(a, "first"), Heartbeat(b, "second")
            await first.start()
            await second.start()
            both = [i.id for i in await first.seen()]
            also = [i.id for i in await second.seen()]
            await second.stop()
            left = [i.id for i in await first.seen()]
            await first.stop()
        return both, also, left

    both, also, left = asyncio.run(run())
    assert both == also == ["first", "second"]
    assert left == ["first"]


def test_forget_instance_whose_lease_ran_out(url: str) -> None:
    """An instance that stops beating without leaving (kill -9) is seen until its lease ends,
    then no more."""

    async def run() -> None:
        with Journal(url) as a, Journal(url) as b:
            watcher, silent = Heartbeat(a, "watcher"), Heartbeat(b, "silent", lease=3600)
            await watcher.start()
            await silent.beat()
            assert {i.id for i in await watcher.seen()} == {"watcher", "silent"}
            silent.lease = 0.5
            await silent.beat()  # the last beat: never renewed
            while {i.id for i in await watcher.seen()} != {"watcher"}:
                await asyncio.sleep(0.05)  # the lease's end is the condition; the guard below
            await watcher.stop()

    asyncio.run(asyncio.wait_for(run(), HANG_GUARD))


def test_wake_waiter_of_one_writer_on_commit_of_another(url: str) -> None:
    """A waiter on writer A wakes when writer B commits an event (LISTEN/NOTIFY): A's count
    of changes moves although A journaled nothing."""

    async def run() -> tuple[int, int]:
        with Journal(url) as a, Journal(url) as b:
            seen = a.changes
            waiting = asyncio.create_task(a.next_commit(HANG_GUARD, after=seen))
            await asyncio.sleep(0)  # lets the task start; after=seen wakes it even if B wins
            await asyncio.to_thread(
                b.run_sync, Journal.append(NewEntry("rest", 1.0, "accepted", 200))
            )
            await waiting
            return seen, a.changes

    seen, after = asyncio.run(run())
    assert after > seen


def _listeners(journal: Journal) -> set[int]:
    """The backend pids of the commit listeners connected to the journal's database now."""
    rows = journal.run_sync(
        lambda tx: tx.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'mock-ft listener' "
            "AND datname = current_database()"
        ).fetchall()
    )
    return {int(r[0]) for r in rows}


def test_wake_waiter_on_commit_made_while_its_listener_was_cut_off() -> None:
    """A's listening connection is terminated and cannot come back (the database refuses new
    connections) when B commits, so no notification can reach A: once connections are allowed
    again, A's listener reconnects and its waiter wakes; the next commit is heard as usual."""

    async def run(url: str) -> int:
        with Journal(url) as a, Journal(url) as b:
            seen = a.changes
            waiting = asyncio.create_task(a.next_commit(HANG_GUARD, after=seen))
            await asyncio.sleep(0)  # lets the task register before anything can wake it
            with listeners_cut_off(url):  # A's and B's: which is A's does not matter
                await asyncio.to_thread(
                    b.run_sync, Journal.append(NewEntry("rest", 1.0, "accepted", 200))
                )
                assert a.changes == seen  # nobody listened: nothing heard
            await waiting
            await asyncio.to_thread(wait_until, lambda: len(_listeners(a)) == 2, "listeners back")
            heard = a.changes
            again = asyncio.create_task(a.next_commit(HANG_GUARD, after=heard))
            await asyncio.sleep(0)
            await asyncio.to_thread(
                b.run_sync, Journal.append(NewEntry("rest", 2.0, "accepted", 200))
            )
            await again
            return a.changes - heard

    with scratch_database() as url:
        assert asyncio.run(asyncio.wait_for(run(url), HANG_GUARD)) > 0
