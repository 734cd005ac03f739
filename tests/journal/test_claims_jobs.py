"""Claims on a shared PostgreSQL journal, job by job (journal/claims.py): two writers in one
process, each a `Journal` with its own connection as each `mock-ft serve` has. A lease that has
already run out when it is written stands for an instance that stalled or died: no test waits
for a lease."""

from __future__ import annotations

import asyncio
import time

import pytest

from mock_ft.journal import Journal
from mock_ft.journal.claims import Claimed, Claims
from mock_ft.journal.lookups import LookupRecord, append_lookup
from tests.postgres import empty_schema
from tests.waiting import HANG_GUARD


@pytest.fixture
def url(postgres_database: str) -> str:
    return empty_schema(postgres_database)


def _record(by: str) -> LookupRecord:
    return LookupRecord(7, "u1", "userdetails", "GET", f"http://{by}/userdetails/u1", time.time())


def test_journal_nothing_from_finisher_whose_claim_was_taken_over(url: str) -> None:
    """A's claim ran out and B took it over: A's late outcome is not journaled, B's is, once,
    and the claim ends with it."""
    with Journal(url) as first, Journal(url) as second:
        a = Claims(first, "a", lease=-1.0)  # written already run out
        b = Claims(second, "b", lease=HANG_GUARD)
        first.run_sync(lambda tx: a.stage(tx, 7, ["userdetails"], "LOGIN_V2", "u1"))

        async def race() -> tuple[list[Claimed], int | None, int | None]:
            taken = await b.sweep(["userdetails"])
            late = await a.finish(7, "userdetails", append_lookup(_record("a")))
            done = await b.finish(7, "userdetails", append_lookup(_record("b")))
            return taken, late, done

        taken, late, done = asyncio.run(race())
        assert taken == [Claimed(7, "userdetails", "LOGIN_V2", "u1")]
        assert late is None
        assert done is not None
        rows = second.run_sync(
            lambda tx: tx.conn.execute("SELECT event_id, url FROM lookups").fetchall()
        )
        assert [tuple(r) for r in rows] == [(7, "http://b/userdetails/u1")]
        left = second.run_sync(lambda tx: tx.conn.execute("SELECT * FROM reactions").fetchall())
        assert left == []


def test_leave_running_claim_to_its_holder(url: str) -> None:
    """A sweep takes no claim whose lease still runs, nor one of a kind it was not asked for."""
    with Journal(url) as first, Journal(url) as second:
        a = Claims(first, "a", lease=HANG_GUARD)
        gone = Claims(first, "gone", lease=-1.0)
        b = Claims(second, "b", lease=HANG_GUARD)
        first.run_sync(lambda tx: a.stage(tx, 7, ["userdetails"], "LOGIN_V2", "u1"))
        first.run_sync(lambda tx: gone.stage(tx, 8, ["callbacks"], "PAYMENT", "u2"))
        assert asyncio.run(b.sweep(["userdetails"])) == []
        assert b.taken == 0
