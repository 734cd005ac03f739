"""The journal (SQLite, or PostgreSQL behind `journal/sql.Database`) with group commit on the loop.

Jobs submitted while the event loop handles its rounds of I/O are committed together in one
transaction; each caller is answered only after the commit. So an event answered 200 is in
SQLite's WAL before the answer leaves, and survives `kill -9` (a power cut too with
`sync="full"`). Doing this on the loop thread instead of a writer thread avoids a cross-thread
hand-off and GIL contention per event (measured: about half the cost of an ingest). Nothing is
held in memory beyond one batch, so RSS stays flat however large the journal grows.

A batch commits once a round of the loop adds no job to it (the requests that were on their way
have been read), or once its first job has waited `commit_interval` (5 ms). Committing after the
first round instead splits a burst into a commit of the first request or two and a commit of the
rest, and each commit costs about as much as a few events; a lone event waits one round more.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from mock_ft.errors import JournalError
from mock_ft.extras import require
from mock_ft.journal.migrations import Step
from mock_ft.journal.queries import Queries
from mock_ft.journal.sql import Database
from mock_ft.journal.sqlite import SqliteDatabase
from mock_ft.journal.tx import Reads, Tx, UserState
from mock_ft.journal_url import journal_scheme, redact, refusal

__all__ = ["Journal", "Reads", "Tx", "UserState"]

T = TypeVar("T")


Job = Callable[[Tx], Any]
_Work = tuple[Job, Reads | None]  # a job and the stream-check state it will read
_Pending = tuple[_Work, "asyncio.Future[Any] | None", "asyncio.AbstractEventLoop | None"]


class Journal(Queries):
    """The journal database. Use `start()`/`close()` or `with`."""

    def __init__(
        self,
        path: str,
        *,
        sync: str = "normal",
        commit_interval: float = 0.005,
        checkpoint_interval: float = 0.1,
    ) -> None:
        self._target = path  # as given: a PostgreSQL URL may hold a password
        self.path = redact(path)  # what messages, /_mock/health and the banner may show
        self._sync = sync  # SQLite's; PostgreSQL's is the server's `synchronous_commit`
        self._commit_interval = commit_interval
        self._checkpoint_interval = checkpoint_interval  # 0: SQLite checkpoints inside COMMIT
        self._db: Database | None = None
        self._batch_started = 0.0  # loop time of the waiting batch's first job
        self._batch_seen = 0  # how many jobs it had when the loop last looked
        self._db_lock = threading.Lock()  # the connection is used by one thread at a time
        self._pending_lock = threading.Lock()
        self._pending: list[_Pending] = []
        self._scheduled_on: asyncio.AbstractEventLoop | None = None  # loop holding the next flush
        self.commits = 0  # bumped after every commit
        # Bumped after every commit that journaled events, here or (PostgreSQL) by another
        # instance: lets waiters tell "nothing new" from "missed" (a read commits nothing new).
        self.changes = 0
        self._wrote_events = False  # the transactions since the last count journaled events
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._rule_watchers: list[Callable[[], None]] = []  # told of other instances' changes

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> Journal:
        """Open the database (creating a SQLite file and its folder), migrated to the latest
        schema version."""
        problem = refusal(self._target)
        if problem is not None:
            raise JournalError(problem)
        if journal_scheme(self._target) is not None:
            require("postgres", needed_by="a PostgreSQL journal (--journal postgresql://...)")
            from mock_ft.journal.postgres import PgDatabase  # an extra: loaded only here

            self._db = PgDatabase(
                self._target, self.path, heard=self._heard, heard_rules=self._heard_rules
            )
        else:
            self._db = SqliteDatabase(
                self.path,
                sync=self._sync,
                checkpoint_interval=self._checkpoint_interval,
                commits=lambda: self.commits,
            )
        self._db.open()
        return self

    @property
    def shared(self) -> bool:
        """Whether other instances may write this journal (PostgreSQL): rules and claims live in
        it. Known before `start`, from the journal's URL."""
        return journal_scheme(self._target) is not None

    def watch_rules(self, listener: Callable[[], None]) -> None:
        """Call `listener` (from the listening thread) when another instance changed the shared
        rules or reset the journal (journal/rules.py)."""
        self._rule_watchers.append(listener)

    def _heard_rules(self) -> None:
        for listener in list(self._rule_watchers):
            listener()

    @property
    def migrated(self) -> list[Step]:
        """The schema migration steps that `start` applied (none when it was up to date)."""
        return [] if self._db is None else self._db.migrated

    def close(self) -> None:
        """Commit what is still queued and close the database."""
        self._flush()
        if self._db is not None:
            self._db.close()

    def __enter__(self) -> Journal:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- submitting work -----------------------------------------------------------------

    def run(self, job: Callable[[Tx], T], reads: Reads | None = None) -> asyncio.Future[T]:
        """Run `job(tx)` in the next group commit on this loop; await the future for its result.

        `reads` names the stream-check state the job will read, so the batch fetches it all in
        one query per table rather than one per job. A plain method returning the future, not a
        coroutine: awaiting it then resumes one frame fewer per event.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        with self._pending_lock:
            self._pending.append(((job, reads), future, loop))
            holder = self._scheduled_on
            # Schedule a flush unless a live loop already holds one (a stopped loop never fires);
            # the running loop itself is live, which spares the checks on the hot path.
            schedule = holder is not loop and (
                holder is None or holder.is_closed() or not holder.is_running()
            )
            if schedule:
                self._scheduled_on = loop
                self._batch_started, self._batch_seen = loop.time(), 0
        if schedule:
            loop.call_soon(self._flush_when_settled, loop)
        return future

    def run_sync(self, job: Callable[[Tx], T], reads: Reads | None = None) -> T:
        """Run `job(tx)` in its own transaction now, from any thread; return its result."""
        [(ok, value)] = self._execute([(job, reads)])
        if self._count_commit():
            self._wake_waiters()
        if not ok:
            raise value
        result: T = value
        return result

    async def next_commit(self, timeout: float, *, after: int) -> None:
        """Wait until events are journaled after change number `after` (read `changes` before
        querying), or `timeout` seconds."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._pending_lock:
            if self.changes != after:  # journaled between the caller's query and now
                return
            self._waiters.append((loop, future))
        try:
            await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return

    # -- committing ----------------------------------------------------------------------

    def _flush_when_settled(self, loop: asyncio.AbstractEventLoop) -> None:
        """Commit the batch, unless the last round of the loop added to it and it is still young:
        then look again after the next round (the module's docstring says why)."""
        waiting = len(self._pending)
        young = loop.time() - self._batch_started < self._commit_interval
        if waiting > self._batch_seen and young:
            self._batch_seen = waiting
            loop.call_soon(self._flush_when_settled, loop)
            return
        self._flush()

    def _flush(self) -> None:
        with self._pending_lock:
            batch, self._pending, self._scheduled_on = self._pending, [], None
        if not batch:
            return
        outcomes = self._execute([work for work, _, _ in batch])
        wrote_events = self._count_commit()
        here: asyncio.AbstractEventLoop | None
        try:
            here = asyncio.get_running_loop()
        except RuntimeError:  # close() outside a loop
            here = None
        for (_, future, loop), (ok, value) in zip(batch, outcomes, strict=True):
            if future is None or loop is None:
                continue
            if loop is here:
                _settle(future, ok, value)
            elif not loop.is_closed():
                loop.call_soon_threadsafe(_settle, future, ok, value)
        if wrote_events:
            self._wake_waiters()

    def _execute(self, jobs: list[_Work]) -> list[tuple[bool, Any]]:
        """Run jobs in one transaction; if one fails, run each alone so only it fails."""
        with self._db_lock:
            try:
                return [(True, value) for value in self._transaction(jobs)]
            except Exception as exc:  # a failing job must not take its batch-mates down
                if len(jobs) == 1:
                    return [(False, self._as_journal_error(exc))]
            outcomes: list[tuple[bool, Any]] = []
            for job in jobs:
                try:
                    outcomes.append((True, self._transaction([job])[0]))
                except Exception as exc:
                    outcomes.append((False, self._as_journal_error(exc)))
            return outcomes

    def _as_journal_error(self, exc: Exception) -> Exception:
        db = self._db
        if db is not None and isinstance(exc, db.errors):
            return JournalError(f"journal {self.path} could not commit: {db.scrub(str(exc))}")
        return exc

    def _transaction(self, jobs: list[_Work]) -> list[Any]:
        db = self._db
        if db is None:
            msg = f"journal {self.path} is closed; start() it before use"
            raise JournalError(msg)
        conn = db.conn
        tx = Tx(conn, db.dialect)
        conn.execute(db.dialect.begin)
        try:
            tx.warm([reads for _, reads in jobs if reads is not None])
            results = [job(tx) for job, _ in jobs]
            tx.write_behind()
            if tx.wrote_events and db.dialect.notify is not None:
                conn.execute(db.dialect.notify)
            conn.execute("COMMIT")
            self._wrote_events = self._wrote_events or tx.wrote_events
        except BaseException:
            if db.in_transaction():
                conn.execute("ROLLBACK")
            raise
        return results

    def _count_commit(self) -> bool:
        """Count the commit; whether it journaled events (then waiters are woken)."""
        with self._pending_lock:  # the listener's thread counts too (`_heard`)
            self.commits += 1
            wrote, self._wrote_events = self._wrote_events, False
            self.changes += wrote
        return wrote

    def _heard(self) -> None:
        """Another writer of the database journaled events: wake this one's waiters."""
        with self._pending_lock:
            self.changes += 1
        self._wake_waiters()

    def _wake_waiters(self) -> None:
        with self._pending_lock:
            waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(_settle, future, True, None)


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.done():  # the awaiting request was cancelled (client went away)
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)
