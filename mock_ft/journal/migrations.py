"""Versioned schema migrations, one small mechanism for both backends (SQLite and PostgreSQL).

The journal records each step it has taken in `schema_version` (version, title, when); `migrate`
applies the steps above the highest recorded version, in order, each in its own transaction with
its row, so a crash leaves the journal at a whole step. A tool (Alembic, yoyo) would bring
SQLAlchemy or its own runtime and config into every install for a handful of additive steps;
the steps here are a few lines of SQL per backend, applied at start, and `mock-ft journal
migrate|check` shows them. Files from before versioning have no `schema_version`: every step
is written to adopt them (`CREATE ... IF NOT EXISTS`, columns added only when missing), so they
open as version 0 and are brought up to date like a new file.

A step is appended, never edited: the version numbers are what journals out there recorded.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from mock_ft.errors import JournalError
from mock_ft.journal.ddl import (
    ADDED_INDEX,
    INSTANCES,
    POSTGRES_IDS,
    POSTGRES_INSTANCES,
    POSTGRES_REACTIONS,
    POSTGRES_RULES,
    POSTGRES_V1,
    REACTIONS,
    SQLITE_V1,
)
from mock_ft.journal.sql import Connection

__all__ = ["LATEST", "STEPS", "Step", "applied", "migrate", "pending"]


@dataclass(frozen=True, slots=True)
class Step:
    """One schema change: its version, a title, and how each backend applies it."""

    version: int
    title: str
    sqlite: Callable[[Connection], None]
    postgres: Callable[[Connection], None]


def _script(sql: str) -> Callable[[Connection], None]:
    statements = [s.strip() for s in re.split(r";\s*\n", sql) if s.strip()]

    def apply(conn: Connection) -> None:
        for statement in statements:
            conn.execute(statement)

    return apply


def _nothing(conn: Connection) -> None:
    """A step that this backend needs nothing for."""


def _sqlite_add_columns(conn: Connection) -> None:
    # Journals written before versioning may already have them (the old ad-hoc upgrade).
    present = {row[1] for row in conn.execute("PRAGMA table_info(events)")}
    for column in ("fault", "broker_ref"):
        if column not in present:
            conn.execute(f"ALTER TABLE events ADD COLUMN {column} TEXT")
    conn.execute(ADDED_INDEX)


STEPS: tuple[Step, ...] = (
    Step(1, "the journal's tables", _script(SQLITE_V1), _script(POSTGRES_V1)),
    Step(
        2,
        "events.fault and events.broker_ref, with an index on broker_ref",
        _sqlite_add_columns,
        _script(
            'ALTER TABLE events ADD COLUMN IF NOT EXISTS fault TEXT COLLATE "C";\n'
            'ALTER TABLE events ADD COLUMN IF NOT EXISTS broker_ref TEXT COLLATE "C";\n'
            f"{ADDED_INDEX}"
        ),
    ),
    # SQLite keeps it in sqlite_sequence (AUTOINCREMENT); PostgreSQL in a row, locked per batch.
    Step(3, "the high-water mark of event ids", _nothing, _script(POSTGRES_IDS)),
    Step(4, "the instances writing the journal", _script(INSTANCES), _script(POSTGRES_INSTANCES)),
    # SQLite's one process keeps its rules in memory; instances on PostgreSQL share them here.
    Step(5, "fault and callback rules shared by instances", _nothing, _script(POSTGRES_RULES)),
    Step(
        6,
        "lookups and callback actions claimed with a lease",
        _script(REACTIONS),
        _script(POSTGRES_REACTIONS),
    ),
)
LATEST = STEPS[-1].version

_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_version "
    "(version INTEGER PRIMARY KEY, title TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)"
)


def applied(conn: Connection, backend: str) -> int:
    """The journal's schema version: the highest step recorded (0: none, or a new file)."""
    if backend == "sqlite":
        exists = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    else:
        exists = (
            "SELECT 1 FROM pg_tables WHERE tablename = 'schema_version' "
            "AND schemaname = current_schema()"
        )
    if conn.execute(exists).fetchone() is None:
        return 0
    row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()
    return int(row[0])


def pending(conn: Connection, backend: str) -> list[Step]:
    """The steps this journal has not taken yet; a journal newer than this mock-ft is refused."""
    version = applied(conn, backend)
    if version > LATEST:
        msg = (
            f"the journal is at schema version {version}, written by a newer mock-ft (this one "
            f"knows up to {LATEST}); upgrade mock-ft, or give this one another --journal"
        )
        raise JournalError(msg)
    return [step for step in STEPS if step.version > version]


def migrate(conn: Connection, backend: str, begin: str, lock: str | None = None) -> list[Step]:
    """Apply the pending steps in order, each in a transaction with its schema_version row.

    `begin` starts a write transaction; `lock`, run first in it, makes concurrent starts on one
    database (PostgreSQL) migrate one after the other: the later one finds nothing pending.
    """
    done: list[Step] = []
    while True:
        conn.execute(begin)
        try:
            if lock is not None:
                conn.execute(lock)
            conn.execute(_TABLE)
            steps = pending(conn, backend)
            if steps:
                step = steps[0]
                (step.sqlite if backend == "sqlite" else step.postgres)(conn)
                conn.execute(
                    "INSERT INTO schema_version (version, title, applied_at) VALUES (?, ?, ?)",
                    (step.version, step.title, time.time()),
                )
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):  # the failure may have ended the transaction
                conn.execute("ROLLBACK")
            raise
        if not steps:
            return done
        done.append(step)
