"""The tests' one-off HTTP calls, through one shared client.

`httpx.get(...)` builds a client per call, and with it an SSL context that loads the CA bundle:
about 50 ms of CPU, paid again on every poll of a wait loop, for plain-HTTP calls that never use
it. These share one client that keeps no connection alive, so each call still opens (and closes)
its own connection, as `httpx.get` does: no test can reach another's server through a pooled one.
A call waits as long as the hang guard unless it says otherwise.
"""

from __future__ import annotations

import functools
from typing import Any

import httpx

from tests.waiting import HANG_GUARD

__all__ = ["delete", "get", "patch", "post", "put", "request"]


@functools.cache
def _client() -> httpx.Client:
    # httpx's default 5 s would make a loaded machine's slow answer a failure: the hang guard
    return httpx.Client(limits=httpx.Limits(max_keepalive_connections=0), timeout=HANG_GUARD)


def request(method: str, url: str, **kwargs: Any) -> httpx.Response:
    """`httpx.request`, without building a client."""
    return _client().request(method, url, **kwargs)


def get(url: str, **kwargs: Any) -> httpx.Response:
    """`httpx.get`, without building a client."""
    return request("GET", url, **kwargs)


def post(url: str, **kwargs: Any) -> httpx.Response:
    """`httpx.post`, without building a client."""
    return request("POST", url, **kwargs)


def put(url: str, **kwargs: Any) -> httpx.Response:
    """`httpx.put`, without building a client."""
    return request("PUT", url, **kwargs)


def patch(url: str, **kwargs: Any) -> httpx.Response:
    """`httpx.patch`, without building a client."""
    return request("PATCH", url, **kwargs)


def delete(url: str, **kwargs: Any) -> httpx.Response:
    """`httpx.delete`, without building a client."""
    return request("DELETE", url, **kwargs)
