"""Fires Callback Actions off the ingest path, and journals each with every attempt.

After an accepted first sighting the pipeline tells `offer()`, which only queues the event when a
rule watches its type. One task evaluates queued events in order: it reads the event, folds the
player as of that event, and starts a call for each rule that matches. Calls run concurrently
(at most `_CONCURRENCY`), each retried on 5xx, 429, timeouts and connection errors with doubling
back-off, carrying the same `X-Fasttrack-Id` every time so the receiver can drop repeats.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
import uuid
from typing import Any

import httpx

from mock_ft.callbacks.rules import Rule
from mock_ft.callbacks.templates import Context, render, render_url
from mock_ft.journal import Journal
from mock_ft.journal.callbacks import CallAttempt, CallbackRecord, append_callback
from mock_ft.journal.jsontext import dumps
from mock_ft.lookups import LookupRunner
from mock_ft.players import PlayerModel
from mock_ft.players.model import base_amount

__all__ = ["CallbackRunner"]

_QUEUE_SIZE = 10_000
_CONCURRENCY = 16
_EVIDENCE_BYTES = 4096
_MAX_BACKOFF = 5.0
_LOOKUP_WAIT = 2.0  # how long a rule on profile/consents/blocks waits for the lookups
_ID_SPACE = uuid.UUID("5b0f0c2e-7a53-4d7e-9a3c-3c1f6f0f7f11")
_SECRET_HEADERS = frozenset({"x-api-key"})

_Job = tuple[int, str, str]  # event id, event type, user id


class CallbackRunner:
    """Holds the loaded rules and fires them; `start()` in the app's lifespan."""

    def __init__(self, journal: Journal, players: PlayerModel, lookups: LookupRunner) -> None:
        self.journal = journal
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
        self._client = httpx.AsyncClient(follow_redirects=False)
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

    def offer(self, event_id: int, event_type: str | None, user_id: str | None) -> None:
        """Queue an accepted event when a rule watches its type; never waits."""
        if self._queue is None or not user_id or not event_type:
            return
        if not any(rule.event_type == event_type for rule in self.rules.values()):
            return
        try:
            self._queue.put_nowait((event_id, event_type, user_id))
        except asyncio.QueueFull:
            self.dropped += 1

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
            try:
                await self._consider(*job)
            finally:
                self._queue.task_done()

    async def _consider(self, event_id: int, event_type: str, user_id: str) -> None:
        rules = [r for r in self.rules.values() if r.event_type == event_type and r.spec.enabled]
        entry = await self.journal.run(Journal.get(event_id))
        payload = entry.payload_json() if entry is not None else None
        if not isinstance(payload, dict):
            return  # gone in a reset
        event = {**payload, "event_id": event_id, "event_type": event_type}
        event["amount_base"] = round(base_amount(payload), 6)
        matching = [r for r in rules if all(c.holds(event) for c in r.where)]
        if not matching:
            return
        if any(r.needs_lookups for r in matching):
            await self.lookups.settled(user_id, _LOOKUP_WAIT)
        player = await self.players.view(user_id, upto=event_id) or {"user_id": user_id}
        for rule in matching:
            if all(c.holds(player) for c in rule.player):
                task = asyncio.create_task(self._fire(rule, event, player, user_id))
                self._calls.add(task)
                task.add_done_callback(self._calls.discard)

    # -- calling -------------------------------------------------------------------------

    async def _fire(
        self, rule: Rule, event: dict[str, Any], player: dict[str, Any], user_id: str
    ) -> None:
        async with self._slots:
            record = await self._call(rule, event, player, user_id)
        await self.journal.run(append_callback(record))

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
        headers = _headers(rule, event["event_id"], user_id)
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
            attempt, response, wait = await self._attempt(rule, url, headers, content)
            record.attempts.append(attempt)
            if response is not None:
                record.response = response.text[:_EVIDENCE_BYTES]
            if wait is None or number == spec.retries:
                break
            await asyncio.sleep(
                wait if wait >= 0 else min(spec.backoff_seconds * 2**number, _MAX_BACKOFF)
            )
        record.latency_ms = round((time.perf_counter() - started) * 1000, 3)
        return record

    async def _attempt(
        self, rule: Rule, url: str, headers: dict[str, str], content: bytes | None
    ) -> tuple[CallAttempt, httpx.Response | None, float | None]:
        """One request; the wait before a retry (-1: the back-off; None: do not retry)."""
        assert self._client is not None  # noqa: S101 - start() made it
        attempt = CallAttempt(time.time())
        started = time.perf_counter()
        timeout = rule.spec.timeout_seconds
        try:
            response = await self._client.request(
                rule.spec.request.method, url, headers=headers, content=content, timeout=timeout
            )
        except httpx.TimeoutException:
            attempt.error = f"no answer within {timeout:g} s (the rule's timeout_seconds)"
        except httpx.HTTPError as exc:
            attempt.error = _describe(exc)
        else:
            attempt.status_code = response.status_code
            attempt.latency_ms = round((time.perf_counter() - started) * 1000, 3)
            if response.is_success:
                return attempt, response, None
            attempt.error = f"answered {response.status_code}"
            if response.status_code == 401:
                attempt.error += "; check the rule's api_key (or MOCK_FT_CALLBACK_API_KEY)"
            if response.status_code == 429:
                return attempt, response, _retry_after(response)
            return attempt, response, (-1.0 if response.status_code >= 500 else None)
        attempt.latency_ms = round((time.perf_counter() - started) * 1000, 3)
        return attempt, None, -1.0


def _headers(rule: Rule, event_id: int, user_id: str) -> dict[str, str]:
    """FT's X-Fasttrack-* headers (facts file 3.8), the same on every attempt, and x-api-key."""
    spec = rule.spec
    trigger = f"{spec.activity_id}:{spec.action_id}:{user_id}:{event_id}"
    headers = {
        "X-Fasttrack-Id": str(uuid.uuid5(_ID_SPACE, f"{rule.id}:{trigger}")),
        "X-Fasttrack-Activityid": str(spec.activity_id),
        "X-Fasttrack-Actionid": str(spec.action_id),
        "X-Fasttrack-Actiongroupid": str(spec.action_group_id),
        "X-Fasttrack-Actioncommunicationprofileid": str(spec.action_communication_profile_id),
        "X-Fasttrack-Triggerhash": hashlib.sha256(trigger.encode()).hexdigest()[:32],
    }
    if rule.api_key:
        headers["x-api-key"] = rule.api_key
    return headers


def _retry_after(response: httpx.Response) -> float:
    value = response.headers.get("retry-after", "")
    return min(float(value), _MAX_BACKOFF) if value.isdigit() else -1.0


def _describe(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "cannot connect to the receiver; check the rule's url and that it is up"
    return f"{type(exc).__name__}: {exc}"
