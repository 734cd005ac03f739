"""A loopback TCP balancer: one address in front of several mock instances, as a cluster's load
balancer would be. Each new connection goes to the next backend in turn; a backend that refuses
(a killed instance) costs the client that connection, which it sees as a reset, as it would
behind a real balancer that had not yet noticed the instance was gone.

It is a process of its own (`python -m tests.round_robin PORT...`), like a real balancer: in
the test's process it would share the GIL with the operator's busy dispatcher, and a client's
hang-up (its timeout) would reach the mock late, after the mock had answered into the void
believing the client heard it. `connections` counts, per backend, the connections that reached it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.serve_process import unmeasured
from tests.waiting import HANG_GUARD


@dataclass
class RoundRobin:
    """A running balancer: its address, and (once stopped) the connections each backend took."""

    port: int
    connections: list[int] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def round_robin(ports: list[int]) -> Iterator[RoundRobin]:
    """A balancer process over the backends on `ports` of 127.0.0.1, stopped at the end."""
    env = unmeasured(dict(os.environ))  # not ours to measure
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.round_robin", *map(str, ports)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[1],
        env=env,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        raise RuntimeError(f"the balancer exited with {process.wait()}")
    balancer = RoundRobin(int(line))
    try:
        yield balancer
    finally:
        process.send_signal(signal.SIGTERM)
        counts, _ = process.communicate(timeout=HANG_GUARD)
    balancer.connections = json.loads(counts)


async def _serve(ports: list[int]) -> list[int]:
    connections = [0] * len(ports)
    turn = itertools.cycle(range(len(ports)))

    async def forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        backend = next(turn)
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", ports[backend])
        except OSError:  # the instance is down: the client's connection fails, as it would
            writer.close()
            return
        connections[backend] += 1
        try:
            await asyncio.gather(_pump(reader, up_writer), _pump(up_reader, writer))
        finally:
            for end in (writer, up_writer):
                end.close()

    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    server = await asyncio.start_server(forward, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await stop.wait()
    return connections


async def _pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    """Copy bytes until either side ends; then end the other direction too, at once: a client
    that hung up must look gone to the mock as soon as it is."""
    with contextlib.suppress(ConnectionError):
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    sink.close()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(_serve([int(port) for port in sys.argv[1:]]))))
