"""The dispatcher: publishes the outbox to FT, in order per player, until FT answers 200.

One worker per player with pending events drains that player's events oldest first; a failed
attempt leaves the event at the head of its player's line with a later due time (exponential
backoff with jitter, or the server's `Retry-After`), so a player's events never overtake each
other. Events survive restarts because they live in the database until FT accepted them.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Callable
from contextlib import suppress

import httpx

from reference_operator.db import Database
from reference_operator.ft.outbox import PendingEvent
from reference_operator.settings import OperatorSettings

__all__ = ["Dispatcher", "retry_after_seconds"]

_IDLE_POLL_SECONDS = 0.5  # how often to look for due retries when nobody wakes the dispatcher
_RETRY_AFTER_CAP_SECONDS = 300.0


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """Seconds to wait per a `Retry-After` header (delta-seconds or HTTP-date), if usable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), _RETRY_AFTER_CAP_SECONDS)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return min(max(0.0, moment.timestamp() - now), _RETRY_AFTER_CAP_SECONDS)


class Dispatcher:
    """Publishes pending outbox events; `run()` until cancelled, `wake()` after each commit."""

    def __init__(self, db: Database, settings: OperatorSettings, client: httpx.AsyncClient) -> None:
        self.db = db
        self.settings = settings
        self.client = client
        self._headers = {
            "Content-Type": "application/json",
            settings.ft_api_key_header: settings.ft_api_key.get_secret_value(),
        }
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
                now = time.time()
                due, next_due = await asyncio.to_thread(self._schedule, now)
                for user_id in due:
                    if user_id not in self._active:
                        task = asyncio.create_task(self._drain(user_id))
                        self._active[user_id] = task
                        task.add_done_callback(self._forget(user_id))
                pause = _IDLE_POLL_SECONDS if next_due is None else next_due - now
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), min(_IDLE_POLL_SECONDS, pause))
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
        """Publish one player's due events in order; stop at the first that fails."""
        async with self._slots:
            while True:
                event = await asyncio.to_thread(self._head, user_id, time.time())
                if event is None or not await self._publish(event):
                    return

    async def _publish(self, event: PendingEvent) -> bool:
        """One attempt; record the result. True when FT accepted the event."""
        url = self.settings.ft_url.rstrip("/") + event.path
        retry_after: float | None = None
        try:
            response = await self.client.request(
                event.method,
                url,
                content=event.payload.encode(),
                headers=self._headers,
                timeout=self.settings.ft_timeout_seconds,
            )
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        else:
            if response.status_code == 200:
                await asyncio.to_thread(self._delivered, event.id)
                return True
            error = f"HTTP {response.status_code}: {response.text[:300]}"
            retry_after = retry_after_seconds(response.headers.get("retry-after"), time.time())
        await asyncio.to_thread(self._failed, event, error, retry_after)
        return False

    def _backoff(self, attempts: int) -> float:
        """Exponential backoff with equal jitter: half fixed, half random."""
        growth = float(2 ** max(0, attempts - 1))
        ceiling = min(self.settings.retry_max_seconds, self.settings.retry_base_seconds * growth)
        return ceiling / 2 + self._random.uniform(0, ceiling / 2)

    # -- database work (runs in a thread) ------------------------------------------------------

    def _schedule(self, now: float) -> tuple[list[str], float | None]:
        """Players whose oldest pending event is due, and when the next one falls due."""
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT o.user_id, o.due_at FROM outbox o JOIN (SELECT user_id, MIN(id) AS head "
                "FROM outbox WHERE delivered_at IS NULL AND abandoned = 0 GROUP BY user_id) h "
                "ON o.id = h.head ORDER BY o.id"
            ).fetchall()
        due = [row[0] for row in rows if row[1] <= now]
        later = [row[1] for row in rows if row[1] > now]
        return due, (min(later) if later else None)

    def _head(self, user_id: str, now: float) -> PendingEvent | None:
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT id, user_id, event_type, method, path, payload, attempts, due_at "
                "FROM outbox WHERE user_id = ? AND delivered_at IS NULL AND abandoned = 0 "
                "ORDER BY id LIMIT 1",
                (user_id,),
            ).fetchone()
        if row is None or row["due_at"] > now:
            return None
        return PendingEvent(*tuple(row)[:7])

    def _delivered(self, event_id: int) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE outbox SET delivered_at = ?, attempts = attempts + 1, last_error = NULL "
                "WHERE id = ?",
                (time.time(), event_id),
            )

    def _failed(self, event: PendingEvent, error: str, retry_after: float | None) -> None:
        attempts = event.attempts + 1
        give_up = self.settings.has("no_retry")
        delay = retry_after if retry_after is not None else self._backoff(attempts)
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE outbox SET attempts = ?, last_error = ?, due_at = ?, abandoned = ? "
                "WHERE id = ?",
                (attempts, error, time.time() + delay, int(give_up), event.id),
            )
