"""The dispatcher: publishes the outbox to FT, in order per player, until FT takes each event.

One worker per player with pending events drains that player's events oldest first; a failed
attempt is retried after a delay (exponential backoff with jitter, or the server's
`Retry-After`) before the player's next event is tried, so a player's events never overtake each
other. Events survive restarts because they live in the database until FT accepted them. How an
event travels (REST, RabbitMQ, Kafka) is the `Publisher`'s business, not the dispatcher's.

The cost per attempt is kept to the send itself: a worker reads its player's next events in one
query, and every attempt's outcome is written before the worker moves on, but outcomes that
arrive together share one transaction (a group commit), so the database costs a fraction of a
query per attempt however many players are in flight.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import Any

import httpx

from ..db import Database
from ..ft.outbox import PendingEvent
from ..ft.publishers import HttpPublisher, Publisher, Sent, retry_after_seconds
from ..settings import OperatorSettings

__all__ = ["Dispatcher", "retry_after_seconds"]

_IDLE_POLL_SECONDS = 0.5  # how often to look for due retries when nobody wakes the dispatcher
_READ_AHEAD = 100  # a player's events read per query; a crash only means reading them again

_DELIVERED = (
    "UPDATE outbox SET delivered_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?"
)
_FAILED = (
    "UPDATE outbox SET attempts = ?, last_error = ?, due_at = ?, abandoned = ?, "
    "unanswered = unanswered + ? WHERE id = ?"
)
_Outcome = tuple[str, Sequence[Any], "asyncio.Future[None]"]


class Dispatcher:
    """Publishes pending outbox events; `run()` until cancelled, `wake()` after each commit."""

    def __init__(
        self, db: Database, settings: OperatorSettings, publisher: Publisher | httpx.AsyncClient
    ) -> None:
        self.db = db
        self.settings = settings
        # A bare HTTP client still means REST, as before publishers existed.
        if isinstance(publisher, httpx.AsyncClient):
            publisher = HttpPublisher(settings, publisher)
        self.publisher = publisher
        self._random = random.Random()  # noqa: S311 - jitter, not security
        self._wakeup = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._active: dict[str, asyncio.Task[None]] = {}
        self._slots = asyncio.Semaphore(settings.dispatch_concurrency)
        self._outcomes: asyncio.Queue[_Outcome] = asyncio.Queue()

    def wake(self) -> None:
        """Tell the dispatcher new events are waiting (safe from any thread)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wakeup.set)

    async def run(self) -> None:
        """Dispatch until cancelled."""
        self._loop = asyncio.get_running_loop()
        recorder = asyncio.create_task(self._record_outcomes())
        try:
            while True:
                self._wakeup.clear()
                for user_id in await asyncio.to_thread(self._players_waiting):
                    if user_id not in self._active:
                        task = asyncio.create_task(self._drain(user_id))
                        self._active[user_id] = task
                        task.add_done_callback(self._forget(user_id))
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), _IDLE_POLL_SECONDS)
        finally:
            tasks = [*self._active.values(), recorder]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def _forget(self, user_id: str) -> Callable[[asyncio.Task[None]], None]:
        """A done-callback that lets the player's next events start a new worker."""

        def forget(_: asyncio.Task[None]) -> None:
            self._active.pop(user_id, None)

        return forget

    async def _drain(self, user_id: str) -> None:
        """Publish one player's events in order until none is left.

        Only one event of a player is ever in flight, and the next is not tried before FT took
        it (or the `no_retry` defect gave it up), so none overtakes another.
        """
        after = 0
        while True:
            events = await asyncio.to_thread(self._pending, user_id, after)
            if not events:
                return
            for event in events:
                await self._deliver(event)
                after = event.id

    async def _deliver(self, event: PendingEvent) -> None:
        """Attempt `event` until FT takes it, waiting out each retry delay in between."""
        while True:
            wait = event.due_at - time.time()
            if wait > 0:
                await asyncio.sleep(wait)  # a retry delay or a late_events hold: keep the order
            async with self._slots:
                sent = await self.publisher.send(event)
            if sent.ok:
                await self._record(_DELIVERED, (time.time(), event.id))
                return
            event, row = self._failed(event, sent)
            await self._record(_FAILED, (*row, event.id))
            if self.settings.has("no_retry"):
                return  # the defect: given up (abandoned), never retried

    def _failed(self, event: PendingEvent, sent: Sent) -> tuple[PendingEvent, Sequence[Any]]:
        """The event as it stands after a failed attempt, and the outbox row's new values."""
        give_up = self.settings.has("no_retry")
        retry_after = None if self.settings.has("ignores_retry_after") else sent.retry_after
        delay = retry_after if retry_after is not None else self._backoff(event.attempts + 1)
        if self.settings.has("no_backoff"):
            delay = 0.0
        event = dataclasses.replace(event, attempts=event.attempts + 1, due_at=time.time() + delay)
        error = sent.error or "not delivered"
        return event, (event.attempts, error, event.due_at, int(give_up), int(sent.unanswered))

    def _backoff(self, attempts: int) -> float:
        """Exponential backoff with equal jitter: half fixed, half random."""
        growth = float(2 ** max(0, attempts - 1))
        ceiling = min(self.settings.retry_max_seconds, self.settings.retry_base_seconds * growth)
        return ceiling / 2 + self._random.uniform(0, ceiling / 2)

    # -- database work ---------------------------------------------------------------------------

    async def _record(self, sql: str, row: Sequence[Any]) -> None:
        """Write one attempt's outcome; return once it is committed."""
        committed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._outcomes.put_nowait((sql, row, committed))
        await committed

    async def _record_outcomes(self) -> None:
        """Commit the outcomes waiting, all in one transaction, until cancelled."""
        while True:
            batch = [await self._outcomes.get()]
            while not self._outcomes.empty():
                batch.append(self._outcomes.get_nowait())
            try:
                await asyncio.to_thread(self._write, [(sql, row) for sql, row, _ in batch])
            except Exception as exc:  # each waiting worker gets it raised
                for *_, committed in batch:
                    if not committed.done():
                        committed.set_exception(exc)
                continue
            for *_, committed in batch:
                if not committed.done():  # its worker may have been cancelled meanwhile
                    committed.set_result(None)

    def _players_waiting(self) -> list[str]:
        """Players with events still to publish, oldest first."""
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT user_id, MIN(id) AS head FROM outbox "
                "WHERE delivered_at IS NULL AND abandoned = 0 GROUP BY user_id ORDER BY head"
            ).fetchall()
        return [row[0] for row in rows]

    def _pending(self, user_id: str, after: int) -> list[PendingEvent]:
        """The player's next pending events after event `after`, oldest first."""
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT id, user_id, event_type, method, path, payload, attempts, due_at "
                "FROM outbox WHERE user_id = ? AND id > ? AND delivered_at IS NULL "
                "AND abandoned = 0 ORDER BY id LIMIT ?",
                (user_id, after, _READ_AHEAD),
            ).fetchall()
        return [PendingEvent(*tuple(row)) for row in rows]

    def _write(self, outcomes: list[tuple[str, Sequence[Any]]]) -> None:
        with self.db.transaction() as conn:
            for sql, row in outcomes:
                conn.execute(sql, row)
