"""An async HTTP request costs what it should: httpcore looks its async library up with an
`import sniffio` on every lock it makes, and a failed import is not remembered, so without that
package each request searched the whole of sys.path four times (pyproject's dependencies)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

import httpx

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
