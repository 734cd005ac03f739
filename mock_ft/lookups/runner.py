"""Runs FT-style lookups in the background: never in the way of ingest.

After an accepted user event the pipeline calls `schedule()`, which only queues the lookups FT
would make (facts file, section 3.2); worker tasks call the operator with the configured auth
and FT's `X-Fasttrack-*` headers, check status, content type and FT's strict shape, and journal
each lookup linked to its event. A full queue drops the lookup and counts it, rather than slow
ingest down. On a shared (PostgreSQL) journal each lookup is a claim (journal/claims.py): the
accepting transaction claims it, and its outcome is journaled only while the claim is held.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from typing import Any
from urllib.parse import quote

import httpx

from mock_ft.journal import Journal
from mock_ft.journal.claims import Claims
from mock_ft.journal.lookups import LookupRecord, append_lookup
from mock_ft.lookups.auth import OperatorAuth, TokenError
from mock_ft.lookups.shapes import shape_problems
from mock_ft.problems import Problem
from mock_ft.settings import LOOKUP_CONCURRENCY, Settings
from mock_ft.tls import client_tls

__all__ = ["ENDPOINTS", "LOOKUPS_AFTER", "LOOKUP_CONCURRENCY", "LookupRunner"]

# endpoint: (path template, contract component)
ENDPOINTS = {
    "userdetails": ("/userdetails/{user_id}", "UserDetails"),
    "userconsents": ("/userconsents/{user_id}", "UserConsents"),
    "userblocks": ("/userblocks/{user_id}", "UserBlocks"),
}
# Which lookups FT makes after each event (section 3.2; a login triggers a user update too).
LOOKUPS_AFTER: dict[str, tuple[str, ...]] = {
    "USER_CREATE_V2": ("userdetails", "userconsents", "userblocks"),
    "USER_UPDATE_V2": ("userdetails", "userconsents", "userblocks"),
    "LOGIN_V2": ("userdetails", "userconsents", "userblocks"),
    "USER_CONSENTS_V2": ("userconsents",),
    "USER_BLOCK_V2": ("userblocks",),
}
_QUEUE_SIZE = 10_000
_EVIDENCE_BYTES = 4096

_Job = tuple[int, str, str]  # event id, user id, endpoint


class LookupRunner:
    """Queues and performs lookups for one mock; `start()` in the app's lifespan."""

    def __init__(self, settings: Settings, journal: Journal, claims: Claims | None = None) -> None:
        self.settings = settings
        self.journal = journal
        self.claims = claims  # None: one instance on the journal (SQLite)
        self.base_url = (settings.operator_url or "").rstrip("/")
        secret = settings.operator_auth.get_secret_value() if settings.operator_auth else None
        self.auth = OperatorAuth(secret, oauth_method=settings.operator_oauth_method)
        self.dropped = 0
        self._queue: asyncio.Queue[_Job] | None = None
        self._workers: list[asyncio.Task[None]] = []
        self._client: httpx.AsyncClient | None = None
        self._pending: dict[str, int] = {}  # user id: lookups queued or running
        self._settled: dict[str, asyncio.Event] = {}  # user id: set when none are left

    @property
    def enabled(self) -> bool:
        """True when an operator URL is configured."""
        return bool(self.base_url)

    async def start(self) -> None:
        """Start the workers (no-op without an operator URL)."""
        if not self.enabled:
            return
        self._queue = asyncio.Queue(_QUEUE_SIZE)
        self._client = httpx.AsyncClient(
            timeout=self.settings.lookup_timeout_seconds, verify=client_tls()
        )
        self._workers = [asyncio.create_task(self._work()) for _ in range(LOOKUP_CONCURRENCY)]

    async def stop(self) -> None:
        """Stop the workers; queued lookups that did not run are dropped."""
        for worker in self._workers:
            worker.cancel()
        for worker in self._workers:
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        self._workers = []
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def endpoints(self, event_type: str | None, user_id: str | None) -> tuple[str, ...]:
        """The lookups FT makes after this event (none when lookups are off)."""
        if self._queue is None or not user_id:
            return ()
        return LOOKUPS_AFTER.get(event_type or "", ())

    def schedule(self, event_id: int, event_type: str | None, user_id: str | None) -> None:
        """Queue the lookups FT makes after this event; never waits."""
        for endpoint in self.endpoints(event_type, user_id):
            self.resume(event_id, user_id or "", endpoint)

    def resume(self, event_id: int, user_id: str, endpoint: str) -> None:
        """Queue one lookup (also one taken over from another instance); never waits."""
        assert self._queue is not None  # noqa: S101 - only called once started
        try:
            self._queue.put_nowait((event_id, user_id, endpoint))
        except asyncio.QueueFull:
            self.dropped += 1  # shared journal: not held, its lease runs out and a sweep takes it
        else:
            self._pending[user_id] = self._pending.get(user_id, 0) + 1
            if self.claims is not None:
                self.claims.hold(event_id, endpoint)

    async def settled(self, user_id: str, timeout: float) -> bool:
        """Wait (at most `timeout` s) until no lookup of this user is queued or running.

        Callback rules that test the profile, consents or blocks wait for this, as FT decides
        on what it fetched. True when settled, False on timeout.
        """
        if not self._pending.get(user_id):
            return True
        event = self._settled.setdefault(user_id, asyncio.Event())
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def _done(self, user_id: str) -> None:
        left = self._pending.get(user_id, 1) - 1
        if left > 0:
            self._pending[user_id] = left
            return
        self._pending.pop(user_id, None)
        event = self._settled.pop(user_id, None)
        if event is not None:
            event.set()

    async def idle(self) -> None:
        """Wait until every queued lookup has been performed and journaled (for tests)."""
        if self._queue is not None:
            await self._queue.join()

    async def _work(self) -> None:
        assert self._queue is not None  # noqa: S101 - start() made it
        while True:
            event_id, user_id, endpoint = await self._queue.get()
            try:
                record = await self.lookup(endpoint, user_id, event_id)
                if self.claims is None:
                    await self.journal.run(append_lookup(record))
                else:
                    await self.claims.finish(event_id, endpoint, append_lookup(record))
            finally:
                if self.claims is not None:  # ended by finish(), or left for a sweep on a failure
                    self.claims.drop(event_id, endpoint)
                self._done(user_id)
                self._queue.task_done()

    async def lookup(self, endpoint: str, user_id: str, event_id: int | None) -> LookupRecord:
        """Call one Operator API endpoint as FT would and judge the answer."""
        assert self._client is not None  # noqa: S101 - start() made it
        template, component = ENDPOINTS[endpoint]
        url = self.base_url + template.format(user_id=quote(user_id, safe=""))
        record = LookupRecord(event_id, user_id, endpoint, "GET", url, time.time())
        started = time.perf_counter()
        try:
            response = await self._call(url, event_id)
        except (httpx.HTTPError, TokenError) as exc:
            record.latency_ms = round((time.perf_counter() - started) * 1000, 3)
            record.error = _describe_failure(exc, self.settings.lookup_timeout_seconds)
            return record
        record.latency_ms = round((time.perf_counter() - started) * 1000, 3)
        record.status_code = response.status_code
        record.response = response.text[:_EVIDENCE_BYTES]
        record.problems = _judge(response, component)
        if record.latency_ms > self.settings.lookup_budget_ms:
            message = (
                f"took {record.latency_ms:.0f} ms; budget {self.settings.lookup_budget_ms:g} ms"
            )
            record.problems.append(Problem("$", "slow", message))
        return record

    async def _call(self, url: str, event_id: int | None) -> httpx.Response:
        assert self._client is not None  # noqa: S101 - start() made it
        headers = {**_fasttrack_headers(event_id), **await self.auth.headers(self._client)}
        response = await self._client.get(url, headers=headers)
        if response.status_code == 401 and self.auth.tokens_fetched:
            self.auth.forget_token()  # FT fetches a new token once and tries again
            headers = {**_fasttrack_headers(event_id), **await self.auth.headers(self._client)}
            response = await self._client.get(url, headers=headers)
        return response


def _fasttrack_headers(event_id: int | None) -> dict[str, str]:
    """The X-Fasttrack-* headers FT sends on every Operator API request (section 3.8)."""
    return {
        "X-Fasttrack-Id": str(uuid.uuid4()),
        "X-Fasttrack-Activityid": str(event_id or 0),
        "X-Fasttrack-Triggerhash": uuid.uuid4().hex,
    }


def _judge(response: httpx.Response, component: str) -> list[Problem]:
    if response.status_code != 200:
        message = f"answered {response.status_code}; FT needs 200 with the {component} shape"
        return [Problem("$", "status", message)]
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        return [Problem("$", "content_type", f"Content-Type is {media or 'missing'}, not JSON")]
    try:
        body: Any = response.json()
    except ValueError:
        return [Problem("$", "json", "the body is not valid JSON")]
    return shape_problems(component, body)


def _describe_failure(exc: Exception, timeout: float) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer within {timeout:g} s (MOCK_FT_LOOKUP_TIMEOUT_SECONDS)"
    if isinstance(exc, httpx.ConnectError):
        return "cannot connect to the operator; check MOCK_FT_OPERATOR_URL and that it is up"
    return str(exc) if isinstance(exc, TokenError) else f"{type(exc).__name__}: {exc}"
