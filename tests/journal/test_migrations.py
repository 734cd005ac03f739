"""Versioned schema migrations: each step once, in order, on both backends; journal files from
before versioning (with or without the old ad-hoc column upgrade) open and are brought up to date;
a journal from a newer mock-ft is refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from mock_ft.errors import JournalError
from mock_ft.journal import EventFilter, Journal, NewEntry
from mock_ft.journal.ddl import ADDED_INDEX, SQLITE_V1
from mock_ft.journal.migrations import LATEST, STEPS

OLD_EVENT = (
    "INSERT INTO events (received_at, transport, verdict, status_code, user_id, headers, errors, "
    "warnings) VALUES (1.0, 'rest', 'accepted', 200, 'old', '{}', '[]', '[]')"
)


def _unversioned_file(path: Path, *, ad_hoc_columns: bool) -> None:
    """A journal as an older mock-ft left it: no schema_version, one event."""
    conn = sqlite3.connect(path)
    conn.executescript(SQLITE_V1)
    if ad_hoc_columns:  # what the old ADDED_COLUMNS / ADDED_INDEXES upgrade did
        conn.execute("ALTER TABLE events ADD COLUMN fault TEXT")
        conn.execute("ALTER TABLE events ADD COLUMN broker_ref TEXT")
        conn.execute(ADDED_INDEX)
    conn.execute(OLD_EVENT)
    conn.commit()
    conn.close()


def _versions(journal: Journal) -> list[int]:
    rows = journal.run_sync(
        lambda tx: tx.conn.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
    )
    return [row[0] for row in rows]


@pytest.mark.parametrize("ad_hoc_columns", [False, True], ids=["first-release", "ad-hoc-upgraded"])
def test_open_sqlite_journal_from_before_versioning(tmp_path: Path, ad_hoc_columns: bool) -> None:
    """An unversioned file opens with its events, at the latest version, with every column."""
    path = tmp_path / "old.sqlite3"
    _unversioned_file(path, ad_hoc_columns=ad_hoc_columns)
    with Journal(str(path)) as journal:
        assert [step.version for step in journal.migrated] == [s.version for s in STEPS]
        [old] = journal.run_sync(Journal.query(EventFilter(), limit=10))
        assert (old.id, old.user_id, old.fault) == (1, "old", None)
        assert _versions(journal) == [s.version for s in STEPS]
        columns = journal.run_sync(
            lambda tx: {row[1] for row in tx.conn.execute("PRAGMA table_info(events)")}
        )
        assert {"fault", "broker_ref"} <= columns
        new = NewEntry("rest", 2.0, "accepted", 200, user_id="new", broker_ref="q:1")
        assert journal.run_sync(Journal.append(new)) == 2


def test_apply_each_step_once(journal_target: str) -> None:
    """A new journal takes every step at its first start, and none at the next."""
    with Journal(journal_target) as journal:
        assert [step.version for step in journal.migrated] == [s.version for s in STEPS]
    with Journal(journal_target) as journal:
        assert journal.migrated == []
        assert _versions(journal) == [s.version for s in STEPS]


def test_refuse_journal_of_a_newer_mock_ft(journal_target: str) -> None:
    """A schema version above what this mock-ft knows is refused, saying what to do."""
    with Journal(journal_target) as journal:
        journal.run_sync(
            lambda tx: tx.conn.execute(
                "INSERT INTO schema_version (version, title, applied_at) VALUES (?, 'later', 0)",
                (LATEST + 1,),
            )
        )
    with pytest.raises(JournalError, match="newer mock-ft"):
        Journal(journal_target).start()
