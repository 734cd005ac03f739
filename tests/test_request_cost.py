"""HTTP clients cost what they should.

An async request: httpcore looks its async library up with an
`import sniffio` on every lock it makes, and a failed import is not remembered, so without that
package each request searched the whole of sys.path four times (pyproject's dependencies).
A client: each builds an SSL context unless given one; the apps share one a process."""

from __future__ import annotations

import asyncio
import ssl
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

_ANSWER = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"


class _Lookups:
    """A meta path finder that finds nothing and records what was looked for."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        self.names.append(name)
        return None


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer each request on the connection with 200 "ok" until the client hangs up."""
    try:
        while True:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(_ANSWER)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()
        await writer.wait_closed()


async def _lookups_during_requests(count: int) -> list[str]:
    server = await asyncio.start_server(_serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    lookups = _Lookups()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            await client.get("/")  # the first request may import what it needs, once
            sys.meta_path.insert(0, lookups)
            try:
                for _ in range(count):
                    assert (await client.get("/")).text == "ok"
            finally:
                sys.meta_path.remove(lookups)
    finally:
        server.close()
        await server.wait_closed()
    return lookups.names


def test_send_async_requests_without_import_lookups() -> None:
    """Once warm, an async client's requests import nothing (no failed import per request)."""
    assert asyncio.run(_lookups_during_requests(5)) == []


class _ContextCount:
    """Counts the SSL contexts made with the ssl module's defaults (what httpx builds for a
    client that is given none), and makes them as before."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.made = 0
        self._create = ssl.create_default_context
        monkeypatch.setattr(ssl, "create_default_context", self)

    def __call__(self, *args: Any, **kwargs: Any) -> ssl.SSLContext:
        self.made += 1
        return self._create(*args, **kwargs)


def test_start_mock_twice_with_one_tls_context(monkeypatch: pytest.MonkeyPatch) -> None:
    """The mock's callback and lookup runners build their clients on every app start, on one
    TLS context for the process: loading the CA bundle costs 20-30 ms of CPU a time."""
    from mock_ft.crm import create_app
    from mock_ft.settings import Settings
    from mock_ft.tls import client_tls

    client_tls.cache_clear()
    contexts = _ContextCount(monkeypatch)
    # Lookups on (an operator URL); "testserver" is the host TestClient sends.
    settings = Settings(
        journal=":memory:", operator_url="http://127.0.0.1:9", allowed_hosts=["testserver"]
    )
    for _ in range(2):
        with TestClient(create_app(settings)) as client:
            assert client.get("/_mock/health").status_code == 200
    assert contexts.made == 1


def test_start_reference_operator_twice_with_one_tls_context(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The reference operator's publisher client too: one TLS context for any number of starts."""
    from reference_operator import app as operator_app
    from reference_operator.settings import OperatorSettings

    operator_app._tls.cache_clear()
    contexts = _ContextCount(monkeypatch)
    settings = OperatorSettings(database=str(tmp_path / "platform.sqlite3"), players=0)
    for _ in range(2):
        with TestClient(operator_app.create_app(settings)) as client:
            assert client.get("/platform/outbox").status_code == 200
    assert contexts.made == 1
