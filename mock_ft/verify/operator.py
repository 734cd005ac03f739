"""The operator as verification sees it: authenticated calls, timed and kept as evidence."""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any, Literal, cast

import httpx
import orjson

from mock_ft.errors import OperatorUnreachable
from mock_ft.lookups.auth import OperatorAuth
from mock_ft.verify.model import Exchange, VerifyOptions

__all__ = ["OperatorClient", "body_of"]

_SECRET_HEADERS = ("authorization", "x-api-key")
_EVIDENCE_CHARS = 2000


class OperatorClient:
    """Calls the Operator API with FT's auth; every call's latency is kept per endpoint."""

    def __init__(self, options: VerifyOptions, client: httpx.AsyncClient) -> None:
        self.base = options.operator_url.rstrip("/")
        self.client = client
        method = cast(Literal["post", "get"], options.oauth_method)
        self.auth = OperatorAuth(options.auth, oauth_method=method)
        self.latencies: dict[str, list[float]] = defaultdict(list)

    async def call(
        self,
        method: str,
        path: str,
        *,
        endpoint: str,
        json: Any = None,
        headers: dict[str, str] | None = None,
        authenticated: bool = True,
        extensions: dict[str, Any] | None = None,
        timed: bool = True,
    ) -> tuple[httpx.Response | None, Exchange]:
        """One call; (None, exchange) when no answer came. Auth is FT's unless told otherwise.

        `extensions` go to httpx as they are (a `trace` hook can abandon the call once sent).
        `timed` calls count in the sequential latency figures (concurrent ones are kept apart).
        """
        sent = dict(headers or {})
        if authenticated:
            sent = {**await self.auth.headers(self.client), **sent}
        body = None if json is None else orjson.dumps(json).decode()
        if body is not None:
            sent.setdefault("Content-Type", "application/json")
        url = self.base + path
        started = time.perf_counter()
        try:
            response = await self.client.request(
                method, url, content=body, headers=sent, extensions=extensions
            )
        except httpx.ConnectError as exc:
            msg = f"cannot connect to the operator at {self.base}: {exc}; is it running?"
            raise OperatorUnreachable(msg) from None
        except httpx.HTTPError as exc:
            elapsed = (time.perf_counter() - started) * 1000
            exchange = Exchange(
                method, url, _mask(sent), body, None, f"{type(exc).__name__}", elapsed
            )
            return None, exchange
        elapsed = round((time.perf_counter() - started) * 1000, 3)
        if authenticated and timed:
            self.latencies[endpoint].append(elapsed)
        exchange = Exchange(
            method,
            url,
            _mask(sent),
            body,
            response.status_code,
            response.text[:_EVIDENCE_CHARS],
            elapsed,
        )
        return response, exchange


def _mask(headers: dict[str, str]) -> dict[str, str]:
    return {k: "***" if k.lower() in _SECRET_HEADERS else v for k, v in headers.items()}


def body_of(response: httpx.Response | None) -> Any:
    """The JSON body, or None when there is none or it is not JSON."""
    if response is None:
        return None
    try:
        return response.json()
    except ValueError:
        return None
