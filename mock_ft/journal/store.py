"""SQLite journal with one writer thread and group commit.

Every database touch runs on the writer thread, in batches: a batch is one transaction, and a job's
caller is answered only after that transaction committed. So an event answered 200 is on disk (WAL,
fsync'd by SQLite's `synchronous` rule) before the answer leaves, and survives `kill -9`. Nothing is
held in memory beyond one batch: the journal can grow to millions of rows with flat RSS.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import queue
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from mock_ft.errors import JournalError
from mock_ft.journal.models import EventFilter, JournalEntry, NewEntry

__all__ = ["Journal"]

T = TypeVar("T")
Job = Callable[[sqlite3.Connection], Any]
_MAX_BATCH = 512
_STOP = object()

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    received_at REAL NOT NULL,
    transport TEXT NOT NULL,
    method TEXT,
    path TEXT,
    event_type TEXT,
    user_id TEXT,
    verdict TEXT NOT NULL,
    status_code INTEGER NOT NULL,
    error_code TEXT,
    payload TEXT,
    headers TEXT NOT NULL,
    errors TEXT NOT NULL,
    warnings TEXT NOT NULL,
    event_timestamp TEXT,
    latency_ms REAL,
    idempotency_key TEXT,
    duplicate_of INTEGER
);
CREATE INDEX IF NOT EXISTS ix_events_type ON events(event_type, id);
CREATE INDEX IF NOT EXISTS ix_events_user ON events(user_id, id);
CREATE INDEX IF NOT EXISTS ix_events_received ON events(received_at);
CREATE TABLE IF NOT EXISTS marks (
    kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT, event_id INTEGER,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counters (
    kind TEXT NOT NULL, key TEXT NOT NULL, n INTEGER NOT NULL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
"""

_INSERT = """
INSERT INTO events (received_at, transport, method, path, event_type, user_id, verdict,
    status_code, error_code, payload, headers, errors, warnings, event_timestamp, latency_ms,
    idempotency_key, duplicate_of)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
RETURNING id
"""
_BUMP = "INSERT INTO counters (kind, key, n) VALUES (?, ?, 1) ON CONFLICT DO UPDATE SET n = n + 1"


def insert_entry(conn: sqlite3.Connection, entry: NewEntry) -> int:
    """Write one entry and its counters (inside the caller's transaction); return its id."""
    row = conn.execute(
        _INSERT,
        (
            entry.received_at,
            entry.transport,
            entry.method,
            entry.path,
            entry.event_type,
            entry.user_id,
            entry.verdict,
            entry.status_code,
            entry.error_code,
            entry.payload,
            json.dumps(entry.headers),
            json.dumps([p.to_dict() for p in entry.errors]),
            json.dumps([p.to_dict() for p in entry.warnings]),
            entry.event_timestamp,
            entry.latency_ms,
            entry.idempotency_key,
            entry.duplicate_of,
        ),
    ).fetchone()
    bumps = [("verdict", entry.verdict), ("type", entry.event_type or "?")]
    if entry.error_code:
        bumps.append(("error", entry.error_code))
    bumps.extend(("warning", w.code) for w in entry.warnings)
    conn.executemany(_BUMP, bumps)
    event_id: int = row[0]
    return event_id


class Journal:
    """The journal database and its writer thread. Use `start()`/`close()` or `with`."""

    def __init__(self, path: str, *, sync: str = "normal") -> None:
        self.path = path
        self._sync = sync
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._conn: sqlite3.Connection | None = None
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._waiters_lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> Journal:
        """Open the database (creating it and its folder) and start the writer thread."""
        self._conn = self._open()
        self._thread = threading.Thread(
            target=self._run, args=(self._conn,), name="mock-ft-journal", daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Finish queued jobs, stop the writer and close the database."""
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join()
            self._thread = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Journal:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _open(self) -> sqlite3.Connection:
        if self.path != ":memory:":
            try:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                msg = f"cannot create the folder of journal {self.path}: {exc.strerror}"
                raise JournalError(msg) from None
        try:
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self._sync.upper()}")
            conn.execute("PRAGMA cache_size=-16000")  # 16 MiB page cache: bounds memory
            conn.execute("PRAGMA busy_timeout=5000")
            conn.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            msg = (
                f"cannot open journal {self.path}: {exc}; check the path or use --journal :memory:"
            )
            raise JournalError(msg) from None
        return conn

    # -- the writer thread ---------------------------------------------------------------

    def _run(self, conn: sqlite3.Connection) -> None:
        stopping = False
        while not stopping:
            batch = [self._queue.get()]
            while len(batch) < _MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if _STOP in batch:
                stopping = True
                batch = [item for item in batch if item is not _STOP]
            if batch:
                self._run_batch(conn, batch)

    def _run_batch(self, conn: sqlite3.Connection, batch: list[Any]) -> None:
        outcomes: list[tuple[bool, Any]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for job, _, _ in batch:
                conn.execute("SAVEPOINT job")
                try:
                    outcomes.append((True, job(conn)))
                    conn.execute("RELEASE job")
                except Exception as exc:  # a failing job must not take its batch-mates down
                    conn.execute("ROLLBACK TO job")
                    conn.execute("RELEASE job")
                    outcomes.append((False, exc))
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            failure = JournalError(f"journal {self.path} could not commit: {exc}")
            outcomes = [(False, failure)] * len(batch)
        for (_, target, loop), (ok, value) in zip(batch, outcomes, strict=True):
            if loop is None:
                if ok:
                    target.set_result(value)
                else:
                    target.set_exception(value)
            else:
                loop.call_soon_threadsafe(_settle, target, ok, value)
        self._wake_waiters()

    def _wake_waiters(self) -> None:
        with self._waiters_lock:
            waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            loop.call_soon_threadsafe(_settle, future, True, None)

    # -- submitting work -----------------------------------------------------------------

    async def run(self, job: Callable[[sqlite3.Connection], T]) -> T:
        """Run `job(conn)` on the writer thread inside a committed transaction; await its result."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put((job, future, loop))
        return await future

    def run_sync(self, job: Callable[[sqlite3.Connection], T]) -> T:
        """Blocking variant of `run`, for code outside an event loop."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._queue.put((job, future, None))
        return future.result()

    async def next_commit(self, timeout: float) -> None:
        """Wait until the next batch commits, or `timeout` seconds pass."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._waiters_lock:
            self._waiters.append((loop, future))
        try:
            await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return

    # -- queries (run through `run`/`run_sync`) ------------------------------------------

    @staticmethod
    def append(entry: NewEntry) -> Callable[[sqlite3.Connection], int]:
        """A job that writes `entry` and returns its id."""
        return lambda conn: insert_entry(conn, entry)

    @staticmethod
    def query(
        flt: EventFilter, *, limit: int, newest_first: bool = False
    ) -> Callable[[sqlite3.Connection], list[JournalEntry]]:
        """A job returning up to `limit` entries matching `flt`, ordered by id."""
        where, params = flt.where()
        order = "DESC" if newest_first else "ASC"
        sql = f"SELECT * FROM events{where} ORDER BY id {order} LIMIT ?"  # noqa: S608 - fixed columns

        def job(conn: sqlite3.Connection) -> list[JournalEntry]:
            return [JournalEntry.from_row(r) for r in conn.execute(sql, [*params, limit])]

        return job

    @staticmethod
    def get(entry_id: int) -> Callable[[sqlite3.Connection], JournalEntry | None]:
        """A job returning one entry by id, or None."""

        def job(conn: sqlite3.Connection) -> JournalEntry | None:
            row = conn.execute("SELECT * FROM events WHERE id = ?", (entry_id,)).fetchone()
            return JournalEntry.from_row(row) if row else None

        return job

    @staticmethod
    def counters(conn: sqlite3.Connection) -> dict[str, dict[str, int]]:
        """Job: every counter, as {kind: {key: n}}."""
        out: dict[str, dict[str, int]] = {}
        for row in conn.execute("SELECT kind, key, n FROM counters"):
            out.setdefault(row["kind"], {})[row["key"]] = row["n"]
        return out

    @staticmethod
    def recent_latencies(conn: sqlite3.Connection, limit: int = 10_000) -> list[float]:
        """Job: delivery latencies (ms) of the newest accepted events, sorted ascending."""
        rows = conn.execute(
            "SELECT latency_ms FROM (SELECT latency_ms FROM events WHERE verdict = 'accepted' "
            "AND latency_ms IS NOT NULL ORDER BY id DESC LIMIT ?) ORDER BY latency_ms",
            (limit,),
        )
        return [r[0] for r in rows]

    @staticmethod
    def reset(conn: sqlite3.Connection) -> int:
        """Job: delete every entry, mark and counter; return how many entries went."""
        removed = conn.execute("DELETE FROM events").rowcount
        conn.execute("DELETE FROM marks")
        conn.execute("DELETE FROM counters")
        return removed


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.done():  # the awaiting request was cancelled (client went away)
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)
