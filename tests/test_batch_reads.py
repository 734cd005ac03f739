"""A batch fetches the stream-check state its jobs declare (`Reads`) once, and stays exact."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from typing import Any

from mock_ft.contracts import integration_contract
from mock_ft.ingest.attempts import Attempt, Outcome
from mock_ft.ingest.pipeline import Pipeline
from mock_ft.journal import Journal
from mock_ft.journal.tx import Reads, Tx
from mock_ft.samples import ft_timestamp, sample_events

PAYMENT = next(payload for route, payload in sample_events() if route.event_type == "PAYMENT")


def _payment(payment_id: str, status: str = "Approved", user_id: str = "7") -> Attempt:
    body = {**PAYMENT, "payment_id": payment_id, "status": status, "user_id": user_id}
    body["timestamp"] = ft_timestamp()
    return Attempt("rest", time.time(), json.dumps(body).encode(), "PAYMENT")


def _trace(journal: Journal) -> list[str]:
    """Every statement the journal's connection runs from now on."""
    statements: list[str] = []
    assert journal._db is not None
    conn: sqlite3.Connection = journal._db.conn  # type: ignore[assignment]
    conn.set_trace_callback(statements.append)
    return statements


async def _together(pipeline: Pipeline, attempts: list[Attempt]) -> list[Outcome]:
    return list(await asyncio.gather(*(pipeline.ingest(a) for a in attempts)))


def _codes(outcome: Outcome) -> list[str]:
    return [w.code for w in outcome.warnings]


def test_fetch_batch_reads_in_one_query_per_table() -> None:
    """Thirty payments for thirty players in one batch: their marks and players fetched with a
    query per table and kind of mark, not once per event; every duplicate of an earlier batch is
    still found."""

    async def run() -> tuple[list[Outcome], list[str]]:
        journal = Journal(":memory:", commit_interval=0.05).start()
        pipeline = Pipeline(journal, integration_contract(), freshness_target_ms=60_000)
        try:
            await _together(pipeline, [_payment(f"p{i}", user_id=f"u{i}") for i in range(0, 30, 2)])
            statements = _trace(journal)
            attempts = [_payment(f"p{i}", user_id=f"u{i}") for i in range(30)]
            return await _together(pipeline, attempts), statements
        finally:
            journal.close()

    outcomes, statements = asyncio.run(run())
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    marks = [s for s in reads if "marks" in s]
    users = [s for s in reads if "users" in s]
    assert (len(marks), len(users)) == (2, 1), reads  # one per kind of mark: idempotency, payment
    duplicates = [i for i, o in enumerate(outcomes) if o.duplicate_of is not None]
    assert duplicates == list(range(0, 30, 2))


def _around(job: Any, payment_id: str, *, known_before: bool = False) -> list[Any]:
    """The same payment, `job`, the same payment again, all in one batch; their results."""

    async def run() -> list[Any]:
        journal = Journal(":memory:", commit_interval=0.05).start()
        pipeline = Pipeline(journal, integration_contract(), freshness_target_ms=60_000)
        try:
            if known_before:  # journaled earlier, so the batch fetches its marks
                await pipeline.ingest(_payment(payment_id))

            async def middle() -> Any:
                return await journal.run(job)  # submitted in turn, between the two

            before = journal.commits
            outcomes = await asyncio.gather(
                pipeline.ingest(_payment(payment_id)),
                middle(),
                pipeline.ingest(_payment(payment_id)),
            )
            assert journal.commits == before + 1, "the three did not share one batch"
            return list(outcomes)
        finally:
            journal.close()

    return asyncio.run(run())


def test_read_marks_written_earlier_in_the_batch_after_a_write_behind() -> None:
    """A job reading tables flushes the batch's held-back marks; later jobs must still see them
    (not the state fetched before the batch)."""

    def peek(tx: Tx) -> int:
        return int(tx.conn.execute("SELECT COUNT(*) FROM marks").fetchone()[0])

    first, marks_seen, again = _around(peek, "same")
    assert marks_seen == 2  # the first payment's idempotency and payment marks, written behind
    assert again.duplicate_of == first.event_id


def test_forget_fetched_marks_after_a_reset_in_the_batch() -> None:
    """A payment, a reset, the same payment again, in one batch: not a duplicate any more."""
    duplicate, _, after_reset = _around(Journal.reset, "kept", known_before=True)
    assert duplicate.duplicate_of is not None
    assert after_reset.duplicate_of is None
    assert "duplicate" not in _codes(after_reset)


def test_fall_back_to_a_query_for_undeclared_reads() -> None:
    """A job that reads a mark it did not declare still gets the stored value."""

    def write(tx: Tx) -> None:
        tx.set_mark("payment", "p1", "Requested", 1)

    def read(tx: Tx) -> object:
        return tx.mark("payment", "p1"), tx.mark("payment", "absent")

    with Journal(":memory:") as journal:
        journal.run_sync(write)

        async def run() -> object:
            declared = Reads([("payment", "other")])
            return await journal.run(read, declared)

        assert asyncio.run(run()) == (("Requested", 1), None)
