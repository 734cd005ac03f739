"""What jobs see of a connection, and the statements whose SQL differs between the backends.

Jobs write plain SQL with `?` placeholders (SQLite's style) that both backends run: the
PostgreSQL connection (`postgres.PgConnection`) translates the placeholders. The few statements
that need a backend's own functions are in a `Dialect`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["POSTGRES", "SQLITE", "Connection", "Cursor", "Database", "Dialect"]


class Cursor(Protocol):
    """The result of a statement: rows (by index, or by column name), and how many it changed."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """A connection as jobs use it: `?` placeholders, on either backend."""

    def execute(self, sql: str, parameters: Any = (), /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Any, /) -> Cursor: ...


class Database(Protocol):
    """A backend as the journal drives it (`sqlite.SqliteDatabase`, `postgres.PgDatabase`)."""

    dialect: Dialect
    errors: tuple[type[Exception], ...]  # the driver's errors, reported as JournalError
    migrated: list[Any]  # the migration steps `open` applied

    @property
    def conn(self) -> Connection: ...

    def open(self) -> None: ...

    def close(self) -> None: ...

    def in_transaction(self) -> bool: ...

    def scrub(self, text: str) -> str: ...


INSERT_EVENT = """
INSERT INTO events (id, received_at, transport, method, path, event_type, user_id, verdict,
    status_code, error_code, payload, headers, errors, warnings, event_timestamp, latency_ms,
    idempotency_key, duplicate_of, fault, broker_ref)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
SET_MARK = (
    "INSERT INTO marks (kind, key, value, event_id) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value, event_id = excluded.event_id"
)
SET_USER = (
    "INSERT INTO users (user_id, registered, last_epoch, last_event_id) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (user_id) DO UPDATE SET registered = excluded.registered, "
    "last_epoch = excluded.last_epoch, last_event_id = excluded.last_event_id"
)
BUMP = (
    "INSERT INTO counters (kind, key, n) VALUES (?, ?, ?) "
    "ON CONFLICT (kind, key) DO UPDATE SET n = counters.n + excluded.n"
)


@dataclass(frozen=True, slots=True)
class Dialect:
    """A backend's statements for what plain SQL cannot say the same way on both."""

    name: str
    # Ids are assigned by the journal inside the write transaction (see Tx.insert), so a whole
    # batch is written with one executemany instead of one INSERT ... RETURNING per event.
    next_event_id: str
    record_event_id: str | None  # stores the highest id given (None: the database does)
    set_offset: str
    # A batch's reads of stream-check state, one query per table (and kind of mark): the keys
    # arrive as one JSON array, each looked up by primary key.
    warm_marks: str
    warm_users: str
    begin: str  # starts a write transaction
    # Locks the keys (sorted 64-bit hashes, one array) until the transaction ends: several
    # writers on one database check one key one after the other (None: one writer per file).
    lock_keys: str | None = None
    # Locks the shared fault rules (their state row) for a batch that decides or changes them,
    # right after the keys: every writer takes it at the same point, so a batch never holds a
    # rule's row, the draw counter or the event ids while waiting for it (None: rules in memory).
    lock_rules: str | None = None
    # Sent in a transaction that wrote events: other writers' waiters hear of the commit.
    notify: str | None = None


SQLITE = Dialect(
    name="sqlite",
    next_event_id=(
        "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0) + 1"
    ),
    record_event_id=None,  # inserting an id moves AUTOINCREMENT's sqlite_sequence
    set_offset=(
        "INSERT INTO broker_offsets (source, next_offset) VALUES (?, ?) ON CONFLICT (source) "
        "DO UPDATE SET next_offset = MAX(broker_offsets.next_offset, excluded.next_offset)"
    ),
    # CROSS JOIN keeps json_each the outer loop.
    warm_marks=(
        "SELECT m.key, m.value, m.event_id FROM json_each(?) AS j "
        "CROSS JOIN marks AS m ON m.kind = ? AND m.key = j.value"
    ),
    warm_users=(
        "SELECT u.user_id, u.registered, u.last_epoch, u.last_event_id FROM json_each(?) AS j "
        "CROSS JOIN users AS u ON u.user_id = j.value"
    ),
    begin="BEGIN IMMEDIATE",
)

POSTGRES = Dialect(
    name="postgresql",
    # FOR UPDATE: a second writer on the database waits here until this batch commits.
    next_event_id="SELECT last + 1 FROM journal_ids WHERE name = 'events' FOR UPDATE",
    record_event_id="UPDATE journal_ids SET last = ? WHERE name = 'events'",
    set_offset=(
        "INSERT INTO broker_offsets (source, next_offset) VALUES (?, ?) ON CONFLICT (source) "
        "DO UPDATE SET next_offset = GREATEST(broker_offsets.next_offset, excluded.next_offset)"
    ),
    warm_marks=(
        "SELECT m.key, m.value, m.event_id FROM jsonb_array_elements_text(?::jsonb) AS j(value) "
        "JOIN marks AS m ON m.kind = ? AND m.key = j.value"
    ),
    warm_users=(
        "SELECT u.user_id, u.registered, u.last_epoch, u.last_event_id "
        "FROM jsonb_array_elements_text(?::jsonb) AS j(value) "
        "JOIN users AS u ON u.user_id = j.value"
    ),
    begin="BEGIN",
    # unnest keeps the array's order: every writer takes its locks in ascending order, so two
    # batches never wait for each other in a cycle.
    notify="NOTIFY mock_ft_commits",  # journal/pglisten.py
    lock_keys="SELECT count(pg_advisory_xact_lock(k)) FROM unnest(?::bigint[]) AS k",
    lock_rules="SELECT 1 FROM rules_state WHERE name = 'rules' FOR UPDATE",
)
