"""REST transport of the Integration API, as a plain ASGI handler in front of FastAPI.

The hot path (every event the operator publishes) skips FastAPI's per-request layers, routing and
models: it reads the body within the size limit, checks the key, and hands an `Attempt` to the
shared pipeline. `MockApp` (crm/app.py) sends only FT's paths here; everything else is FastAPI.
"""

from __future__ import annotations

import difflib
import hmac
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from mock_ft.contracts import EventRoute, IntegrationContract
from mock_ft.crm.connection import client_gone, client_left_during, drop_connection
from mock_ft.faults import FaultInjector, FaultRule
from mock_ft.faultspec import CONNECTION_ACTIONS
from mock_ft.ingest.attempts import MASK, Attempt, Outcome, is_secret_header
from mock_ft.ingest.faulting import under_rule
from mock_ft.ingest.pipeline import Pipeline
from mock_ft.problems import Problem
from mock_ft.settings import Settings

__all__ = ["RestIngest"]

INGEST_PREFIXES = ("/v1/integration/", "/v2/integration/")
_JOURNALED_PREFIX_BYTES = 65_536  # how much of an oversized body the journal keeps
# An answer this late may find its client gone (its timeout fired): worth a look at the socket.
_SLOW_ANSWER_SECONDS = 0.05
_KNOWN_HEADER_NAMES = 1_024  # bound on the header-name cache (clients send a handful of names)
# The headers the transport itself reads (roles; 0 is any other header).
_CONTENT_TYPE, _CONTENT_LENGTH, _API_KEY = 1, 2, 3
_ROLES = {b"content-type": _CONTENT_TYPE, b"content-length": _CONTENT_LENGTH}


class RestIngest:
    """ASGI handler serving FT's Integration API paths through the ingest pipeline."""

    def __init__(
        self,
        *,
        pipeline: Pipeline,
        faults: FaultInjector,
        settings: Settings,
        contract: IntegrationContract,
    ) -> None:
        self.faults = faults
        self.pipeline = pipeline
        self.settings = settings
        self.routes = contract.by_method_path()
        self.methods: dict[str, list[str]] = {}
        for route in contract.routes:
            self.methods.setdefault(route.path, []).append(route.method)
        self.key_header = settings.api_key_header.lower().encode()
        self.max_body_bytes = settings.max_body_bytes
        self.auth_enabled = settings.auth_enabled
        self._json_media: dict[bytes, bool] = {}  # raw Content-Type: is it application/json?
        self.api_key = settings.api_key.get_secret_value().encode()
        self._header_names: dict[bytes, tuple[str, bool, int]] = {}  # name, secret?, role

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        received_at = time.time()
        pipeline = self.pipeline
        method, path = scope["method"], scope["path"]
        headers = self._scan_headers(scope["headers"])
        message = await receive()
        body = message.get("body", b"")
        too_large = False
        # The usual request arrives whole in its first message; anything else is read in turn.
        if message.get("more_body", False) or message["type"] != "http.request":
            body, too_large, disconnected = await self._read_body(
                receive, headers.content_length, message
            )
            if disconnected:
                return  # nothing was answered, so nothing is promised; the client will retry
        elif len(body) > self.max_body_bytes:
            too_large, body = True, body[:_JOURNALED_PREFIX_BYTES]
        route = self.routes.get((method, path))
        event_type = route.event_type if route else None
        # Positional (transport, received_at, body, event_type, headers, method, path): keywords
        # would build a dict per request.
        attempt = Attempt("rest", received_at, body, event_type, headers.journaled, method, path)
        rule = None
        if route is not None and self.faults.active:
            rule = await self.faults.decide("rest", path, route.event_type, body)
        if rule is not None:
            await self._act(rule, attempt, (route, headers, too_large), pipeline, receive, send)
            return
        outcome = await self._decide(attempt, route, headers, too_large, pipeline)
        if (
            outcome.error_code is None
            and time.time() - received_at > _SLOW_ANSWER_SECONDS
            and client_gone(send)
        ):
            await pipeline.answer_lost(outcome.event_id, "client_left")
        start, answer = self._answer_messages(outcome, path)
        await send(start)
        await send(answer)

    async def _act(
        self,
        rule: FaultRule,
        attempt: Attempt,
        request: tuple[EventRoute | None, _Headers, bool],
        pipeline: Pipeline,
        receive: Receive,
        send: Send,
    ) -> None:
        """Do what a fault rule says to this attempt, journaling the rule with it. A refusal
        comes before auth and validation; `delay` and `drop_answer` take the event as usual."""
        outcome = await under_rule(
            pipeline, attempt, rule, lambda: self._decide(attempt, *request, pipeline)
        )
        hold = rule.hold_seconds()
        # A client gone before its answer never heard it: neither the 200 of a delay nor the
        # Retry-After of a 429 (its retry follows its own back-off). Timeout and reset answer
        # nothing anyway.
        answers = rule.action not in CONNECTION_ACTIONS
        if hold and await client_left_during(receive, hold):
            if answers:
                await pipeline.answer_lost(outcome.event_id, "client_left")
            return
        if rule.action in CONNECTION_ACTIONS:
            await drop_connection(send, receive, reset=rule.action == "reset")
            return
        if (
            answers
            and time.time() - attempt.received_at > _SLOW_ANSWER_SECONDS
            and client_gone(send)
        ):
            await pipeline.answer_lost(outcome.event_id, "client_left")
        await self._answer(send, outcome, attempt.path or "")

    async def _answer(self, send: Send, outcome: Outcome, path: str) -> None:
        start, body = self._answer_messages(outcome, path)
        await send(start)
        await send(body)

    def _answer_messages(self, outcome: Outcome, path: str) -> tuple[Message, Message]:
        """The answer's two ASGI messages (built apart, so the hot path awaits only `send`)."""
        extra: list[tuple[bytes, bytes]] = []
        if outcome.error_code == "method_not_allowed":
            extra.append((b"allow", ", ".join(self.methods[path]).encode()))
        elif outcome.retry_after is not None:
            extra.append((b"retry-after", str(outcome.retry_after).encode()))
        data = outcome.body_bytes()
        answer = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(data)).encode()),
            *extra,
        ]
        return (
            {"type": "http.response.start", "status": outcome.status_code, "headers": answer},
            {"type": "http.response.body", "body": data},
        )

    def _decide(
        self,
        attempt: Attempt,
        route: EventRoute | None,
        headers: _Headers,
        too_large: bool,
        pipeline: Pipeline,
    ) -> Coroutine[Any, Any, Outcome]:
        """The pipeline call that answers this attempt (returned, not awaited: one frame less)."""
        path = attempt.path or ""
        if route is None:
            if path in self.methods:
                allowed = ", ".join(self.methods[path])
                message = f"{attempt.method} is not allowed on {path}; use {allowed}"
                return pipeline.reject(attempt, "method_not_allowed", message)
            near = difflib.get_close_matches(path, self.methods, n=1)
            hint = f"; did you mean {near[0]}?" if near else "; GET /openapi.json lists them"
            message = f"{path} is not an FT Integration API path{hint}"
            return pipeline.reject(attempt, "unknown_endpoint", message)
        if self.auth_enabled and not hmac.compare_digest(headers.api_key, self.api_key):
            header = self.settings.api_key_header
            message = f"missing or wrong API key; send it in the {header} header"
            problem = Problem(f"header.{header}", "unauthorized", message)
            return pipeline.reject(attempt, "unauthorized", message, (problem,))
        if too_large:
            limit = self.max_body_bytes
            message = (
                f"the body exceeds {limit} bytes; raise MOCK_FT_MAX_BODY_BYTES if this is intended"
            )
            return pipeline.reject(attempt, "body_too_large", message)
        is_json = self._json_media.get(headers.content_type)
        if is_json is None:
            is_json = _is_json_media(headers.content_type)
            if len(self._json_media) < _KNOWN_HEADER_NAMES:  # bounded: clients send few values
                self._json_media[headers.content_type] = is_json
        if not is_json:
            content_type = headers.content_type.decode("latin-1")
            got = f"got {content_type!r}" if content_type else "none was sent"
            message = f"Content-Type must be application/json; {got}"
            problem = Problem("header.Content-Type", "unsupported_media_type", message)
            return pipeline.reject(attempt, "unsupported_media_type", message, (problem,))
        return pipeline.ingest(attempt)

    def _scan_headers(self, raw_headers: list[tuple[bytes, bytes]]) -> _Headers:
        """One pass over the headers: the journal's masked copy, and the few the answer needs.

        Where a header is repeated, the first one counts. What each header name is (its text,
        whether it may carry a secret, which of the needed headers it is) is cached per name
        (bounded), since a publisher sends the same few names every time.
        """
        names = self._header_names
        journaled: dict[str, str] = {}
        needed: dict[int, bytes] = {}
        for key, value in raw_headers:
            known = names.get(key)
            if known is None:
                known = self._describe_header(key)
            name, secret, role = known
            journaled[name] = MASK if secret else value.decode("latin-1")
            if role and role not in needed:
                needed[role] = value
        return _Headers(
            journaled,
            needed.get(_CONTENT_TYPE, b""),
            needed.get(_CONTENT_LENGTH, b""),
            needed.get(_API_KEY, b""),
        )

    def _describe_header(self, key: bytes) -> tuple[str, bool, int]:
        name = key.decode("latin-1")
        role = _ROLES.get(key, _API_KEY if key == self.key_header else 0)
        known = (name, is_secret_header(name, self.settings.api_key_header), role)
        if len(self._header_names) < _KNOWN_HEADER_NAMES:
            self._header_names[key] = known
        return known

    async def _read_body(
        self, receive: Receive, declared: bytes, message: Message
    ) -> tuple[bytes, bool, bool]:
        """Read the body, from its first `message` on, up to the limit: (body or its prefix,
        too large?, client gone?)."""
        limit = self.max_body_bytes
        if declared.isdigit() and int(declared) > limit:
            # Refused: read only the prefix the journal keeps, not the whole announced body.
            limit = min(limit, _JOURNALED_PREFIX_BYTES) - 1
        chunks: list[bytes] = []
        size = 0
        while True:
            if message["type"] == "http.disconnect":
                return b"", False, True
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                kept = b"".join([*chunks, chunk])[:_JOURNALED_PREFIX_BYTES]
                return kept, True, False
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), False, False
            message = await receive()


def _is_json_media(content_type: bytes) -> bool:
    """True for `application/json`, parameters (`; charset=utf-8`) and case aside."""
    return content_type.decode("latin-1").split(";", 1)[0].strip().lower() == "application/json"


@dataclass(slots=True)
class _Headers:
    """What one pass over a request's headers found."""

    journaled: dict[str, str]
    content_type: bytes  # b"" when absent, as the next two
    content_length: bytes
    api_key: bytes
