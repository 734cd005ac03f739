"""A loopback TCP proxy in front of RabbitMQ that can stall an AMQP connection at a chosen stage.

It runs its own event loop in a thread. `mode` decides what a connection gets:
- "forward": everything, both ways;
- "handshake": accepted, but the broker is never reached (the client waits for the greeting);
- "channel": the connection is set up, but nothing for a channel (frames on channel > 0) comes
  back, so opening the first channel hangs.
`sever()` closes every connection (the broker "went away"); `clients` counts the open ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import threading
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import pytest

T = TypeVar("T")
Mode = Literal["forward", "handshake", "channel"]
_FRAME_HEADER = struct.Struct("!BHI")  # type, channel, payload size; then payload and 0xCE


class StallProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.mode: Mode = "forward"
        self.port = 0
        self.accepted = 0
        self._clients: set[asyncio.StreamWriter] = set()
        self._brokers: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stall-proxy", daemon=True)

    @property
    def clients(self) -> int:
        """Connections from clients that are still open."""

        async def count() -> int:
            return len(self._clients)

        return self._call(count)

    def sever(self, then: Mode) -> None:
        """Close every connection now; later connections get `then`."""

        async def close_all() -> None:
            self.mode = then
            for writer in [*self._clients, *self._brokers]:
                writer.close()

        self._call(close_all)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()
        for writer in [*self._clients, *self._brokers]:
            writer.close()
        self._loop.run_until_complete(asyncio.sleep(0))
        self._loop.close()

    def _call(self, job: Callable[[], Coroutine[Any, Any, T]]) -> T:
        return asyncio.run_coroutine_threadsafe(job(), self._loop).result(timeout=30)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        self._clients.add(writer)
        mode = self.mode
        try:
            if mode == "handshake":
                await reader.read()  # until the client hangs up; nothing goes upstream
                return
            up_reader, up_writer = await asyncio.open_connection(*self.target)
            self._brokers.add(up_writer)
            try:
                await asyncio.gather(
                    _pipe(reader, up_writer),
                    _pipe_frames(up_reader, writer, stall_channels=mode == "channel"),
                    return_exceptions=True,
                )
            finally:
                self._brokers.discard(up_writer)
                up_writer.close()
        finally:
            self._clients.discard(writer)
            writer.close()

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(30)

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


async def _pipe_frames(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, stall_channels: bool
) -> None:
    """Broker to client, frame by frame; with `stall_channels`, the first frame for a channel
    (Channel.OpenOk) and all after it are held back, so the client's channel never opens."""
    with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
        while True:
            header = await reader.readexactly(_FRAME_HEADER.size)
            _, channel, size = _FRAME_HEADER.unpack(header)
            rest = await reader.readexactly(size + 1)
            if stall_channels and channel > 0:
                await reader.read()  # hold everything until the broker side closes
                return
            writer.write(header + rest)
            await writer.drain()
    writer.close()


@dataclass
class LateConnect:
    """aio-pika connects that ignore a cancellation, from `armed` on; `reached` once one has."""

    armed: threading.Event = field(default_factory=threading.Event)
    reached: threading.Event = field(default_factory=threading.Event)


@contextmanager
def connect_despite_cancel() -> Iterator[LateConnect]:
    """Within, once armed, aio-pika's connects (a reconnect) wait, swallow the cancellation that
    a close sends them, and connect after all, as Python 3.11's `asyncio.wait_for` does when the
    connect finishes in the same turn of the loop as the cancellation (it returns the result)."""
    from aio_pika.abc import UnderlayConnection

    late = LateConnect()
    real = UnderlayConnection.make_connection

    async def make(cls: type, /, url: Any, timeout: Any = None, **kwargs: Any) -> Any:
        if late.armed.is_set():
            late.reached.set()
            with contextlib.suppress(asyncio.CancelledError):
                # Only the close's cancellation ends this wait; it is swallowed here.
                await asyncio.get_running_loop().create_future()
        return await real(url, timeout=timeout, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(UnderlayConnection, "make_connection", classmethod(make))
        yield late


@contextmanager
def stall_proxy(target_host: str, target_port: int) -> Iterator[StallProxy]:
    proxy = StallProxy(target_host, target_port)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()
