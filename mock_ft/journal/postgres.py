"""The PostgreSQL backend: the journal in a database, `--journal postgresql://...`.

Same interface, same group commit as SQLite (see store.py): the batch's transaction runs on the
event loop, and every job's caller is answered only after COMMIT returned, i.e. after PostgreSQL
flushed its WAL (`synchronous_commit` as the server has it; `on` by default).

**Several writers per database.** Any number of `mock-ft serve` processes may share one
database (issue 25, item 2). Each batch first takes a transaction advisory lock per key its
stream checks will read (idempotency keys, players, payments, bets: `Tx.warm`, `lock_keys`),
in ascending order of their hashes so that two batches never wait for each other in a cycle,
and only then reads the stream-check state: a batch checking a key sees everything the last
batch of that key committed, on whichever instance. Event ids come from one row locked per batch
(`sql.POSTGRES.next_event_id`), taken after the key locks, so ids never repeat across writers.
Migrations run under their own advisory lock, so instances starting together migrate once.

**Sync driver, on the loop.** Jobs are plain functions that query as they go (`tx.conn.execute`)
all over mock-ft; an async driver would need every job rewritten as a coroutine, and awaiting
each round trip would let other coroutines run in the middle of a batch. psycopg 3's sync API
keeps one code path for both backends. The cost is that the loop waits for each round trip and
for the commit's WAL flush, as it waits for SQLite; see docs/postgresql.md for what that costs.
A batch costs a fixed number of round trips (BEGIN, the key locks, the id row, one query per
kind of state read, one pipelined executemany per table, COMMIT), not one per event.

Readers off the loop (the dashboard's charts, `read_snapshot`) take connections from a small
psycopg-pool pool. The URL's password is never shown: `Journal.path` is the URL with it
replaced by `***`, and errors are scrubbed of it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool

from mock_ft.errors import JournalError
from mock_ft.journal.migrations import Step, migrate
from mock_ft.journal.pgconn import PgConnection, configure, connect, connection_options
from mock_ft.journal.pglisten import CHANNEL, CommitListener
from mock_ft.journal.sql import POSTGRES, Connection, Dialect

__all__ = ["PgDatabase", "read_snapshot"]

T = TypeVar("T")

MIGRATION_LOCK = 0x6D6F636C  # advisory lock key ("mocl") taken by migrations
_READERS: dict[str, ConnectionPool[Any]] = {}  # open journals' reader pools, by shown URL


class PgDatabase:
    """A PostgreSQL journal's writer connection and its reader pool."""

    dialect: Dialect = POSTGRES
    errors: tuple[type[Exception], ...] = (psycopg.Error,)

    def __init__(
        self,
        url: str,
        shown: str,
        heard: Callable[[], None] = lambda: None,
        heard_rules: Callable[[], None] = lambda: None,
    ) -> None:
        self._url = url
        self._listener = CommitListener(url, heard, self._backend_pid, heard_rules)
        self.path = shown
        self._raw: psycopg.Connection[Any] | None = None
        self._conn: PgConnection | None = None
        self._pool: ConnectionPool[Any] | None = None
        self.migrated: list[Step] = []

    @property
    def conn(self) -> Connection:
        """The writer connection; JournalError once closed."""
        if self._conn is None:
            msg = f"journal {self.path} is closed; start() it before use"
            raise JournalError(msg)
        return self._conn

    def in_transaction(self) -> bool:
        """Whether a transaction is open (to roll back after a failed job)."""
        raw = self._raw
        return raw is not None and raw.info.transaction_status != TransactionStatus.IDLE

    def scrub(self, text: str) -> str:
        """`text` without the URL's password (psycopg's messages do not show it; be sure)."""
        password = urlsplit(self._url).password
        for form in {password, unquote(password or "")} - {None, ""}:
            text = text.replace(str(form), "***")
        return text

    def open(self) -> None:
        """Connect, migrate, open the reader pool."""
        try:
            self._raw = connect(self._url)
            self._conn = PgConnection(self._raw)
            self.migrated = migrate(
                self._conn,
                "postgresql",
                POSTGRES.begin,
                f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})",
            )
            self._pool = ConnectionPool(
                self._url,
                min_size=1,
                max_size=2,
                kwargs=connection_options("mock-ft reader"),
                configure=configure,
                name="mock-ft-readers",
                open=True,
            )
            self._listener.start()
        except psycopg.Error as exc:
            self.close()
            msg = (
                f"cannot open journal {self.path}: {self.scrub(str(exc)).strip()}; check that "
                "PostgreSQL listens there and the database exists (createdb NAME)"
            )
            raise JournalError(msg) from None
        except JournalError:
            self.close()
            raise
        _READERS[self.path] = self._pool

    def _notify(self) -> None:
        if self._raw is not None:
            self._raw.execute(f"NOTIFY {CHANNEL}")

    def _backend_pid(self) -> int:
        raw = self._raw
        return -1 if raw is None else int(raw.info.backend_pid)

    def close(self) -> None:
        """Stop listening, close the pool and the writer connection."""
        self._listener.stop(wake=self._notify)
        if self._pool is not None:
            _READERS.pop(self.path, None)
            self._pool.close()
            self._pool = None
        if self._raw is not None:
            with contextlib.suppress(psycopg.Error):
                self._raw.close()
            self._raw = None
            self._conn = None


def read_snapshot(path: str, read: Callable[[Connection], T]) -> T:
    """Run `read` on a reader connection of the open journal shown as `path` (any thread)."""
    pool = _READERS.get(path)
    if pool is None:
        msg = f"journal {path} is not open in this process"
        raise JournalError(msg)
    with pool.connection() as raw:
        return read(PgConnection(raw))
