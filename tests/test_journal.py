"""The SQLite journal: durability across reopen, batch isolation, clear errors."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from mock_ft.errors import JournalError
from mock_ft.journal import EventFilter, Journal, NewEntry


def _entry(user_id: str) -> NewEntry:
    return NewEntry(
        transport="rest", received_at=1.0, verdict="accepted", status_code=200, user_id=user_id
    )


def test_keep_entries_after_reopen(journal_file: str) -> None:
    """What was committed is there when the file is opened again."""
    with Journal(journal_file) as journal:
        first = journal.run_sync(Journal.append(_entry("a")))
    with Journal(journal_file) as journal:
        [entry] = journal.run_sync(Journal.query(EventFilter(), limit=10))
    assert (entry.id, entry.user_id) == (first, "a")


def test_isolate_failing_job_from_its_batch(journal_file: str) -> None:
    """A job that raises rolls back alone; the others in its batch commit."""

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO counters (kind, key, n) VALUES ('x', 'y', 1)")
        raise ValueError("boom")

    with Journal(journal_file) as journal:
        with pytest.raises(ValueError, match="boom"):
            journal.run_sync(broken)
        journal.run_sync(Journal.append(_entry("ok")))
        assert journal.run_sync(Journal.counters) == {"type": {"?": 1}, "verdict": {"accepted": 1}}


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
        assert journal.run_sync(lambda c: c.execute("PRAGMA synchronous").fetchone()[0]) == 2
