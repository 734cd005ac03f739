"""The dispatcher: publishes the outbox to FT, in order per player, until FT takes each event.

One worker per player with pending events drains that player's events oldest first; a failed
attempt leaves the event at the head of its player's line with a later due time (exponential
backoff with jitter, or the server's `Retry-After`), so a player's events never overtake each
other. Events survive restarts because they live in the database until FT accepted them. How an
event travels (REST, RabbitMQ, Kafka) is the `Publisher`'s business, not the dispatcher's.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from contextlib import suppress

import httpx

from reference_operator.db import Database
from reference_operator.ft.outbox import PendingEvent
from reference_operator.ft.publishers import HttpPublisher, Publisher, retry_after_seconds
from reference_operator.settings import OperatorSettings

__all__ = ["Dispatcher", "retry_after_seconds"]

_IDLE_POLL_SECONDS = 0.5  # how often to look for due retries when nobody wakes the dispatcher


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

    def wake(self) -> None:
        """Tell the dispatcher new events are waiting (safe from any thread)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wakeup.set)

    async def run(self) -> None:
        """Dispatch until cancelled."""
        self._loop = asyncio.get_running_loop()
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
            for task in list(self._active.values()):
                task.cancel()
            await asyncio.gather(*self._active.values(), return_exceptions=True)

    def _forget(self, user_id: str) -> Callable[[asyncio.Task[None]], None]:
        """A done-callback that lets the player's next events start a new worker."""

        def forget(_: asyncio.Task[None]) -> None:
            self._active.pop(user_id, None)

        return forget

    async def _drain(self, user_id: str) -> None:
        """Publish one player's events in order, waiting out each retry delay, until none is left.

        Only the oldest pending event of a player is ever in flight, so none overtakes another.
        """
        while True:
            event = await asyncio.to_thread(self._head, user_id)
            if event is None:
                return
            wait = event.due_at - time.time()
            if wait > 0:
                await asyncio.sleep(wait)  # a retry delay or a late_events hold: keep the order
                continue
            async with self._slots:
                await self._publish(event)

    async def _publish(self, event: PendingEvent) -> bool:
        """One attempt; record the result. True when FT accepted the event."""
        sent = await self.publisher.send(event)
        if sent.ok:
            await asyncio.to_thread(self._delivered, event.id)
            return True
        error = sent.error or "not delivered"
        await asyncio.to_thread(self._failed, event, error, sent.retry_after, sent.unanswered)
        return False

    def _backoff(self, attempts: int) -> float:
        """Exponential backoff with equal jitter: half fixed, half random."""
        growth = float(2 ** max(0, attempts - 1))
        ceiling = min(self.settings.retry_max_seconds, self.settings.retry_base_seconds * growth)
        return ceiling / 2 + self._random.uniform(0, ceiling / 2)

    # -- database work (runs in a thread) ------------------------------------------------------

    def _players_waiting(self) -> list[str]:
        """Players with events still to publish, oldest first."""
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT user_id, MIN(id) AS head FROM outbox "
                "WHERE delivered_at IS NULL AND abandoned = 0 GROUP BY user_id ORDER BY head"
            ).fetchall()
        return [row[0] for row in rows]

    def _head(self, user_id: str) -> PendingEvent | None:
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT id, user_id, event_type, method, path, payload, attempts, due_at "
                "FROM outbox WHERE user_id = ? AND delivered_at IS NULL AND abandoned = 0 "
                "ORDER BY id LIMIT 1",
                (user_id,),
            ).fetchone()
        return None if row is None else PendingEvent(*tuple(row))

    def _delivered(self, event_id: int) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE outbox SET delivered_at = ?, attempts = attempts + 1, last_error = NULL "
                "WHERE id = ?",
                (time.time(), event_id),
            )

    def _failed(
        self, event: PendingEvent, error: str, retry_after: float | None, unanswered: bool
    ) -> None:
        attempts = event.attempts + 1
        give_up = self.settings.has("no_retry")
        if self.settings.has("ignores_retry_after"):
            retry_after = None
        delay = retry_after if retry_after is not None else self._backoff(attempts)
        if self.settings.has("no_backoff"):
            delay = 0.0
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE outbox SET attempts = ?, last_error = ?, due_at = ?, abandoned = ?, "
                "unanswered = unanswered + ? WHERE id = ?",
                (attempts, error, time.time() + delay, int(give_up), int(unanswered), event.id),
            )
