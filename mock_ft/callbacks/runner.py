"""Fires Callback Actions off the ingest path, and journals each with every attempt.

After an accepted first sighting the pipeline tells `offer()`, which only queues the event when a
rule watches its type. One task evaluates queued events in order: it reads the event, folds the
player as of that event, and starts a call for each rule that matches. Calls run concurrently
(at most `_CONCURRENCY`), each retried on 5xx, 429, timeouts and connection errors with doubling
back-off, carrying the same `X-Fasttrack-Id` every time so the receiver can drop repeats.

On a shared (PostgreSQL) journal an event's evaluation is a claim (journal/claims.py): each action
is journaled only while the claim is held, and the claim ends when every action is journaled. An
instance that takes an evaluation over skips the rules already journaled for the event.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Coroutine
from typing import Any

import httpx

from mock_ft.callbacks.rules import Rule
from mock_ft.callbacks.sending import MAX_BACKOFF, ft_headers, send_once
from mock_ft.callbacks.templates import Context, render, render_url
from mock_ft.journal import Journal
from mock_ft.journal.callbacks import (
    CallbackFilter,
    CallbackRecord,
    append_callback,
    query_callbacks,
)
from mock_ft.journal.claims import CALLBACKS, Claims
from mock_ft.journal.jsontext import dumps
from mock_ft.lookups import LookupRunner
from mock_ft.players import PlayerModel
from mock_ft.players.model import base_amount
from mock_ft.tls import client_tls

__all__ = ["CallbackRunner"]

_QUEUE_SIZE = 10_000
_CONCURRENCY = 16
_EVIDENCE_BYTES = 4096
_LOOKUP_WAIT = 2.0  # how long a rule on profile/consents/blocks waits for the lookups
_SECRET_HEADERS = frozenset({"x-api-key"})

_Job = tuple[int, str, str]  # event id, event type, user id


class CallbackRunner:
    """Holds the loaded rules and fires them; `start()` in the app's lifespan."""

    def __init__(
        self,
        journal: Journal,
        players: PlayerModel,
        lookups: LookupRunner,
        claims: Claims | None = None,
    ) -> None:
        self.journal = journal
        self.claims = claims  # None: one instance on the journal (SQLite)
        self.players = players
        self.lookups = lookups
        self.rules: dict[str, Rule] = {}
        self.dropped = 0
        self._queue: asyncio.Queue[_Job] | None = None
        self._evaluator: asyncio.Task[None] | None = None
        self._calls: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(_CONCURRENCY)
        self._client: httpx.AsyncClient | None = None

    # -- rules ---------------------------------------------------------------------------

    def add(self, rule: Rule) -> None:
        """Load a rule; one with the same id is replaced."""
        self.rules[rule.id] = rule

    def remove(self, rule_id: str) -> bool:
        """Unload a rule; False when no rule had that id."""
        return self.rules.pop(rule_id, None) is not None

    def clear(self) -> int:
        """Unload every rule; return how many there were."""
        count = len(self.rules)
        self.rules.clear()
        return count

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Start the evaluator."""
        self._queue = asyncio.Queue(_QUEUE_SIZE)
        # Never follow a redirect: it could lead the callback key to an origin no one allowed.
        self._client = httpx.AsyncClient(follow_redirects=False, verify=client_tls())
        self._evaluator = asyncio.create_task(self._evaluate())

    async def stop(self) -> None:
        """Stop evaluating and cancel calls in flight (they are not journaled)."""
        tasks = [*self._calls, *([self._evaluator] if self._evaluator else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._evaluator, self._queue = None, None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def watches(self, event_type: str | None, user_id: str | None) -> bool:
        """Whether a rule watches this event's type (then the event is evaluated)."""
        if self._queue is None or not user_id or not event_type:
            return False
        return any(rule.event_type == event_type for rule in self.rules.values())

    def offer(self, event_id: int, event_type: str | None, user_id: str | None) -> None:
        """Queue an accepted event when a rule watches its type; never waits."""
        if self.watches(event_type, user_id):
            self.resume(event_id, event_type or "", user_id or "")

    def resume(self, event_id: int, event_type: str, user_id: str) -> None:
        """Queue an event's evaluation (also one taken over from another instance)."""
        assert self._queue is not None  # noqa: S101 - only called once started
        try:
            self._queue.put_nowait((event_id, event_type, user_id))
        except asyncio.QueueFull:
            self.dropped += 1  # shared journal: not held, its lease runs out and a sweep takes it
        else:
            if self.claims is not None:
                self.claims.hold(event_id, CALLBACKS)

    async def idle(self) -> None:
        """Wait until every queued event is evaluated and its calls journaled (for tests)."""
        if self._queue is not None:
            await self._queue.join()
        while self._calls:
            await asyncio.gather(*list(self._calls), return_exceptions=True)

    # -- evaluating ----------------------------------------------------------------------

    async def _evaluate(self) -> None:
        assert self._queue is not None  # noqa: S101 - start() made it
        while True:
            job = await self._queue.get()
            calls: list[asyncio.Task[None]] | None = None
            try:
                calls = await self._consider(*job)
            finally:
                self._queue.task_done()
                if self.claims is not None:
                    self._close(job[0], calls)

    async def _consider(
        self, event_id: int, event_type: str, user_id: str
    ) -> list[asyncio.Task[None]]:
        """Start a call for each rule that matches the event; the calls started."""
        rules = [r for r in self.rules.values() if r.event_type == event_type and r.spec.enabled]
        if self.claims is not None:  # a taken-over evaluation skips what was journaled
            done = await self.journal.run(
                query_callbacks(CallbackFilter(event_id=event_id), limit=1000)
            )
            rules = [r for r in rules if r.id not in {c.rule_id for c in done}]
        entry = await self.journal.run(Journal.get(event_id))
        payload = entry.payload_json() if entry is not None else None
        if not isinstance(payload, dict):
            return []  # gone in a reset
        event = {**payload, "event_id": event_id, "event_type": event_type}
        event["amount_base"] = round(base_amount(payload), 6)
        matching = [r for r in rules if all(c.holds(event) for c in r.where)]
        if not matching:
            return []
        if any(r.needs_lookups for r in matching):
            await self.lookups.settled(user_id, _LOOKUP_WAIT)
        player = await self.players.view(user_id, upto=event_id) or {"user_id": user_id}
        calls = []
        for rule in matching:
            if all(c.holds(player) for c in rule.player):
                calls.append(self._track(self._fire(rule, event, player, user_id)))
        return calls

    def _track(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(work)
        self._calls.add(task)
        task.add_done_callback(self._calls.discard)
        return task

    def _close(self, event_id: int, calls: list[asyncio.Task[None]] | None) -> None:
        """End the event's claim once its calls are journaled; a failed evaluation (None) is
        left for a sweep to take over."""
        assert self.claims is not None  # noqa: S101 - only called with claims
        claims = self.claims
        if calls is None:
            claims.drop(event_id, CALLBACKS)
            return

        async def close() -> None:
            results = await asyncio.gather(*calls, return_exceptions=True)
            if any(isinstance(r, BaseException) for r in results):
                claims.drop(event_id, CALLBACKS)  # a call not journaled: a sweep retries it
            else:
                await claims.end(event_id, CALLBACKS)

        self._track(close())

    # -- calling -------------------------------------------------------------------------

    async def _fire(
        self, rule: Rule, event: dict[str, Any], player: dict[str, Any], user_id: str
    ) -> None:
        async with self._slots:
            record = await self._call(rule, event, player, user_id)
        if self.claims is None:
            await self.journal.run(append_callback(record))
        else:
            await self.claims.finish(
                record.event_id or 0, CALLBACKS, append_callback(record), last=False
            )

    async def _call(
        self, rule: Rule, event: dict[str, Any], player: dict[str, Any], user_id: str
    ) -> CallbackRecord:
        assert self._client is not None  # noqa: S101 - start() made it
        spec = rule.spec
        ctx = Context(event, player, {}, [])
        ctx.action_fields = render(spec.request.action_fields, ctx)
        url = render_url(rule.url, ctx)
        body = render(spec.request.body, ctx) if spec.request.method == "POST" else None
        content = None if body is None else dumps(body)
        headers = ft_headers(rule, event["event_id"], user_id)
        if content is not None:
            headers["Content-Type"] = "application/json"
        shown = {k: ("***" if k.lower() in _SECRET_HEADERS else v) for k, v in headers.items()}
        record = CallbackRecord(
            rule.id,
            event["event_id"],
            user_id,
            spec.request.method,
            url,
            shown,
            None if content is None else content.decode(),
            time.time(),
            notes=ctx.notes,
        )
        started = time.perf_counter()
        for number in range(spec.retries + 1):
            attempt, response, wait = await send_once(self._client, rule, url, headers, content)
            record.attempts.append(attempt)
            if response is not None:
                record.response = response.text[:_EVIDENCE_BYTES]
            if wait is None or number == spec.retries:
                break
            await asyncio.sleep(
                wait if wait >= 0 else min(spec.backoff_seconds * 2**number, MAX_BACKOFF)
            )
        record.latency_ms = round((time.perf_counter() - started) * 1000, 3)
        return record
