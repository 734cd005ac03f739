"""The journal, on each backend (SQLite and PostgreSQL: `journal_target`): durability across
reopen, batch isolation, clear errors; and what only the SQLite file has (folders, checkpoints)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from mock_ft.errors import JournalError
from mock_ft.journal import EventFilter, Journal, NewEntry
from mock_ft.journal.store import Tx
from tests.waiting import HANG_GUARD, wait_until


def _entry(user_id: str) -> NewEntry:
    return NewEntry(
        transport="rest", received_at=1.0, verdict="accepted", status_code=200, user_id=user_id
    )


def test_keep_entries_after_reopen(journal_target: str) -> None:
    """What was committed is there when the file is opened again."""
    with Journal(journal_target) as journal:
        first = journal.run_sync(Journal.append(_entry("a")))
    with Journal(journal_target) as journal:
        [entry] = journal.run_sync(Journal.query(EventFilter(), limit=10))
    assert (entry.id, entry.user_id) == (first, "a")


def test_isolate_failing_job_from_its_batch(journal_target: str) -> None:
    """Jobs committed together: one that raises fails alone; its batch-mates commit."""

    def broken(tx: Tx) -> None:
        tx.conn.execute("INSERT INTO counters (kind, key, n) VALUES ('x', 'y', 1)")
        raise ValueError("boom")

    async def submit_together(journal: Journal) -> list[object]:
        jobs = [Journal.append(_entry("a")), broken, Journal.append(_entry("b"))]
        return await asyncio.gather(*(journal.run(j) for j in jobs), return_exceptions=True)

    with Journal(journal_target) as journal:
        first, failure, third = asyncio.run(submit_together(journal))
        assert isinstance(failure, ValueError)
        entries = journal.run_sync(Journal.query(EventFilter(), limit=10))
        assert [(e.id, e.user_id) for e in entries] == [(first, "a"), (third, "b")]
        assert journal.run_sync(Journal.counters) == {
            "type": {"?": 2},
            "transport": {"rest": 2},
            "verdict": {"accepted": 2},
        }


def test_batch_jobs_of_one_loop_round_into_one_commit(journal_target: str) -> None:
    """Jobs submitted in the same loop round share one transaction (group commit)."""

    async def submit(journal: Journal) -> list[int]:
        return await asyncio.gather(
            *(journal.run(Journal.append(_entry(str(i)))) for i in range(50))
        )

    with Journal(journal_target) as journal:
        before = journal.commits
        ids = asyncio.run(submit(journal))
        commits = journal.commits - before
    assert (len(set(ids)), commits) == (50, 1)


async def _staggered(journal: Journal, rounds: int) -> tuple[list[int], int]:
    """One job per loop round, `rounds` rounds in a row, as requests read one poll after
    another arrive; their ids and how many commits they took."""

    async def late(index: int) -> int:
        for _ in range(index):
            await asyncio.sleep(0)  # one loop round each
        return await journal.run(Journal.append(_entry(str(index))))

    before = journal.commits
    ids = await asyncio.gather(*(late(i) for i in range(rounds)))
    return list(ids), journal.commits - before


def test_batch_jobs_of_consecutive_loop_rounds_into_one_commit(journal_target: str) -> None:
    """A burst spread over several loop rounds still shares one commit: the batch waits while
    each round adds to it (within the commit window)."""
    with Journal(journal_target, commit_interval=5.0) as journal:
        ids, commits = asyncio.run(_staggered(journal, 6))
    assert (len(set(ids)), commits) == (6, 1)


def test_commit_batch_once_its_window_has_passed(journal_target: str) -> None:
    """With no window, a batch commits after the round that made it: the burst takes a commit
    per round (the window bounds how long the first event of a batch waits)."""
    with Journal(journal_target, commit_interval=0.0) as journal:
        ids, commits = asyncio.run(_staggered(journal, 6))
    assert (len(set(ids)), commits) == (6, 6)


def test_refuse_use_after_close(journal_target: str) -> None:
    """A closed journal says so instead of crashing."""
    journal = Journal(journal_target).start()
    journal.close()
    with pytest.raises(JournalError, match="is closed"):
        journal.run_sync(Journal.counters)


def test_create_journal_folder(tmp_path: Path) -> None:
    """Missing parent folders are created."""
    path = tmp_path / "a" / "b" / "journal.sqlite3"
    with Journal(str(path)):
        pass
    assert path.exists()


def test_refuse_unusable_journal_path(tmp_path: Path) -> None:
    """A path that cannot hold a database is a JournalError saying what to do."""
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(JournalError, match="cannot create the folder"):
        Journal(str(blocker / "journal.sqlite3")).start()


def test_refuse_file_that_is_not_a_database(tmp_path: Path) -> None:
    """A non-SQLite file is refused with a hint."""
    path = tmp_path / "journal.sqlite3"
    path.write_bytes(b"definitely not sqlite" * 100)
    with pytest.raises(JournalError, match="use --journal :memory:"):
        Journal(str(path)).start()


def test_use_full_sync_when_asked(journal_file: str) -> None:
    """journal_sync=full sets SQLite's FULL synchronous mode."""
    with Journal(journal_file, sync="full") as journal:
        assert journal.run_sync(lambda tx: tx.conn.execute("PRAGMA synchronous").fetchone()[0]) == 2


def test_wake_waiter_that_missed_a_commit(journal_target: str) -> None:
    """A commit between a waiter's query and its wait is not missed (the wait returns at once)."""

    async def scenario(journal: Journal) -> None:
        seen = journal.changes
        await journal.run(Journal.append(_entry("raced")))  # commits before the wait starts
        # A wait that missed the commit would sleep the whole hour: the hang guard fails it.
        await asyncio.wait_for(journal.next_commit(3600.0, after=seen), HANG_GUARD)

    with Journal(journal_target) as journal:
        asyncio.run(scenario(journal))


def test_keep_waiter_waiting_through_commits_that_journal_no_event(journal_target: str) -> None:
    """A read (a waiter's own query) commits nothing new: a waiter that read `changes` before it
    keeps waiting, instead of querying again at once in a busy loop."""

    async def scenario(journal: Journal) -> None:
        seen = journal.changes
        await journal.run(Journal.query(EventFilter(), limit=1))
        wait = journal.next_commit(3600.0, after=seen)
        with pytest.raises(TimeoutError):  # still waiting, as it should: nothing was journaled
            await asyncio.wait_for(wait, 0.2)

    with Journal(journal_target) as journal:
        asyncio.run(scenario(journal))


def test_never_reuse_ids_after_reset(journal_target: str) -> None:
    """Ids keep growing after a reset, so old cursors and old event ids stay unambiguous."""
    with Journal(journal_target) as journal:
        before = journal.run_sync(Journal.append(_entry("a")))
        journal.run_sync(Journal.reset)
        after = journal.run_sync(Journal.append(_entry("b")))
    assert after > before


def test_commit_pending_jobs_on_close(journal_target: str) -> None:
    """close() commits what is still queued."""

    async def queue_then_close(journal: Journal) -> None:
        task = asyncio.ensure_future(journal.run(Journal.append(_entry("late"))))
        await asyncio.sleep(0)  # queued, flush not yet run
        journal.close()
        await task

    journal = Journal(journal_target).start()
    asyncio.run(queue_then_close(journal))
    with Journal(journal_target) as reopened:
        [entry] = reopened.run_sync(Journal.query(EventFilter(), limit=5))
    assert entry.user_id == "late"


def test_number_batch_entries_in_order(journal_target: str) -> None:
    """A batch's ids are consecutive, in submission order, and continue across batches."""

    async def batch(journal: Journal, names: list[str]) -> list[int]:
        return await asyncio.gather(*(journal.run(Journal.append(_entry(n))) for n in names))

    with Journal(journal_target) as journal:
        first = asyncio.run(batch(journal, ["a", "b", "c"]))
        second = asyncio.run(batch(journal, ["d", "e"]))
        entries = journal.run_sync(Journal.query(EventFilter(), limit=10))
    assert first + second == list(range(first[0], first[0] + 5))
    assert [(e.id, e.user_id) for e in entries] == list(zip(first + second, "abcde", strict=True))


def test_see_own_batch_in_queries(journal_target: str) -> None:
    """A query in the same batch as inserts sees them (held-back writes are written first)."""

    async def batch(journal: Journal) -> tuple[Any, ...]:
        return await asyncio.gather(
            journal.run(Journal.append(_entry("a"))),
            journal.run(Journal.query(EventFilter(), limit=10)),
            journal.run(Journal.counters),
        )

    with Journal(journal_target) as journal:
        event_id, entries, counters = asyncio.run(batch(journal))
    assert [e.id for e in entries] == [event_id]
    assert counters["verdict"] == {"accepted": 1}


def test_reset_removes_entries_of_its_own_batch(journal_target: str) -> None:
    """A reset after an insert in the same batch removes that entry too; ids still grow."""

    async def batch(journal: Journal) -> tuple[Any, ...]:
        return await asyncio.gather(
            journal.run(Journal.append(_entry("a"))), journal.run(Journal.reset)
        )

    with Journal(journal_target) as journal:
        event_id, removed = asyncio.run(batch(journal))
        later = journal.run_sync(Journal.append(_entry("b")))
        entries = journal.run_sync(Journal.query(EventFilter(), limit=10))
    assert removed == 1
    assert [e.id for e in entries] == [later]
    assert later > event_id


def test_checkpoint_on_its_own_thread(journal_file: str) -> None:
    """Commits are copied back from the WAL by the checkpoint thread, not inside COMMIT."""
    journal = Journal(journal_file, checkpoint_interval=0.02).start()
    try:
        checkpointer = journal._db.checkpointer  # type: ignore[union-attr]
        assert checkpointer is not None
        assert checkpointer.is_alive()
        wal_limit = journal.run_sync(lambda tx: tx.conn.execute("PRAGMA wal_autocheckpoint"))
        assert wal_limit.fetchone()[0] == 20_000  # the writer's backstop only
        for name in ("a", "b", "c"):
            journal.run_sync(Journal.append(_entry(name)))
        wait_until(lambda: checkpointer.checkpoints >= 1, "a checkpoint by the thread")
    finally:
        journal.close()
    assert not checkpointer.is_alive()


def test_leave_checkpoints_to_sqlite_when_asked(journal_file: str) -> None:
    """checkpoint_interval=0 (and :memory:) start no thread."""
    with Journal(journal_file, checkpoint_interval=0) as journal:
        assert journal._db.checkpointer is None  # type: ignore[union-attr]
    with Journal(":memory:") as journal:
        assert journal._db.checkpointer is None  # type: ignore[union-attr]
