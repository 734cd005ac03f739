"""A loopback TCP proxy in front of RabbitMQ that reads the AMQP frames passing through it.

It sees what the broker delivered (per channel, delivery tag -> message id) and how the client
settled it (Basic.Ack / Nack / Reject with tag and `multiple` flag), on the wire, as RabbitMQ
does. With `hold=N`, the broker's frames from the first delivery on are held back until N
deliveries are in hand, then sent in one write: the client reads them together, as it would from
a busy broker. It runs its own event loop in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pamqp import commands, frame, header

_HEADER = struct.Struct("!BHI")  # frame type, channel, payload size; then payload and 0xCE
_PROTOCOL_HEADER = 8  # b"AMQP\x00\x00\x09\x01", sent once by the client


@dataclass(frozen=True, slots=True)
class Settled:
    kind: str  # "ack", "nack" or "reject"
    channel: int
    tag: int
    multiple: bool


class AmqpTap:
    def __init__(self, target_port: int, hold: int = 0) -> None:
        self.target = ("127.0.0.1", target_port)
        self.hold = hold
        self.port = 0
        self.delivered: dict[tuple[int, int], str] = {}  # (channel, tag) -> message id
        self.settled: list[Settled] = []
        self._last_tag: dict[int, int] = {}
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="amqp-tap", daemon=True)

    def acked(self) -> tuple[set[str], list[tuple[int, int]]]:
        """(message ids the client acked, (channel, tag)s it acked more than once), following
        `multiple`: an ack covers every delivered, not yet settled tag up to its own."""
        with self._lock:
            delivered, settled = dict(self.delivered), list(self.settled)
        done: set[tuple[int, int]] = set()
        acked: set[str] = set()
        twice: list[tuple[int, int]] = []
        for s in settled:
            key = (s.channel, s.tag)
            if key in done:
                twice.append(key)
            covered = (
                [k for k in delivered if k[0] == s.channel and k[1] <= s.tag and k not in done]
                if s.multiple
                else [key]
            )
            done.update(covered)
            if s.kind == "ack":
                acked.update(delivered[k] for k in covered if k in delivered)
        return acked, twice

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()
        for writer in self._writers:
            writer.close()
        for task in self._tasks:
            task.cancel()
        self._loop.run_until_complete(
            asyncio.gather(*self._tasks, server.wait_closed(), return_exceptions=True)
        )
        self._loop.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self._writers.update((writer, up_writer))
        try:
            await asyncio.gather(
                self._pipe(reader, up_writer, from_client=True),
                self._pipe(up_reader, writer, from_client=False),
                return_exceptions=True,
            )
        finally:
            up_writer.close()
            writer.close()

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, from_client: bool
    ) -> None:
        held: list[bytes] = []
        holding = False
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            if from_client:
                writer.write(await reader.readexactly(_PROTOCOL_HEADER))
            while True:
                head = await reader.readexactly(_HEADER.size)
                kind, channel, size = _HEADER.unpack(head)
                data = head + await reader.readexactly(size + 1)
                delivered = self._note(kind, channel, data)
                if delivered and not holding and self.hold and not from_client:
                    holding = len(self.delivered) < self.hold
                if holding:
                    held.append(data)
                    if len(self.delivered) < self.hold or kind != 3:  # up to the Nth body
                        continue
                    data, held, holding = b"".join(held), [], False
                writer.write(data)
                await writer.drain()
        writer.close()

    def _note(self, kind: int, channel: int, data: bytes) -> bool:
        """Record a delivery or a settlement; True for a Basic.Deliver."""
        if kind not in (1, 2):  # method and content header frames; bodies and heartbeats pass
            return False
        _, _, decoded = frame.unmarshal(data)
        with self._lock:
            if isinstance(decoded, commands.Basic.Deliver):
                self._last_tag[channel] = decoded.delivery_tag or 0
                return True
            if isinstance(decoded, header.ContentHeader) and channel in self._last_tag:
                tag = self._last_tag.pop(channel)
                self.delivered[(channel, tag)] = decoded.properties.message_id or ""
            elif isinstance(decoded, commands.Basic.Ack | commands.Basic.Nack):
                name = "ack" if isinstance(decoded, commands.Basic.Ack) else "nack"
                self.settled.append(Settled(name, channel, decoded.delivery_tag, decoded.multiple))
            elif isinstance(decoded, commands.Basic.Reject):
                self.settled.append(Settled("reject", channel, decoded.delivery_tag or 0, False))
        return False


@contextmanager
def amqp_tap(target_port: int, hold: int = 0) -> Iterator[AmqpTap]:
    """A running tap in front of the broker at 127.0.0.1:`target_port`."""
    tap = AmqpTap(target_port, hold)
    tap._thread.start()
    tap._ready.wait(30)
    try:
        yield tap
    finally:
        tap._loop.call_soon_threadsafe(tap._loop.stop)
        tap._thread.join(30)
