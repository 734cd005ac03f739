"""Start `python -m mock_ft serve` as a real process on a free port, for real-socket tests."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

import httpx

from tests import web
from tests.waiting import HANG_GUARD, wait_until

_BANNER = re.compile(r"listening on (http://\S+)")


@contextmanager
def serve_process(
    *args: str, env: dict[str, str] | None = None, measured: bool = True
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """Run the server CLI; yield (base URL, process). Stopped with SIGINT unless already dead.

    `measured=False` leaves the server out of the run's coverage: for the volume runs, whose
    code the other tests cover, and which would spend a third of their time in the tracer."""
    environ = {**os.environ, **(env or {})}
    if not measured:
        environ = unmeasured(environ)
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_ft", "serve", "--port", "0", "--log-level", "warning", *args],
        stderr=subprocess.PIPE,
        text=True,
        env=environ,
    )
    try:
        assert process.stderr is not None
        url = None
        deadline = time.monotonic() + HANG_GUARD  # a hang guard: starting takes what it takes
        while url is None:
            assert time.monotonic() < deadline, f"no banner within {HANG_GUARD:g} s"
            line = process.stderr.readline()
            if not line:
                raise RuntimeError(f"server exited with {process.wait()}")
            match = _BANNER.search(line)
            url = match.group(1) if match else None
        # From here a thread reads the log as it comes: a server whose log outgrew the pipe
        # (64 KiB) would block on its next line and stop answering.
        drain = _Drain(process.stderr)
        _DRAINS[process.pid] = drain
        wait_until(lambda: _answers(f"{url}/_mock/health"), f"{url} answering /_mock/health")
        yield url, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        reader = _DRAINS.pop(process.pid, None)
        if reader is not None:
            reader.join(HANG_GUARD)  # the pipe ends with the process
        if process.stderr is not None:
            process.stderr.close()


def unmeasured(environ: dict[str, str]) -> dict[str, str]:
    """`environ` for a Python child that the run's coverage leaves out: coverage starts in every
    child that inherits its COVERAGE_* variables (pyproject's `patch = ["subprocess"]`)."""
    return {k: v for k, v in environ.items() if not k.startswith("COVERAGE_")}


class _Drain(threading.Thread):
    """Reads a server's stderr to its end, keeping the lines."""

    def __init__(self, stream: IO[str]) -> None:
        super().__init__(daemon=True, name="server log")
        self.stream = stream
        self.lines: list[str] = []
        self.start()

    def run(self) -> None:
        self.lines.extend(self.stream)


_DRAINS: dict[int, _Drain] = {}


def server_log(process: subprocess.Popen[str]) -> str:
    """What a `serve_process` server wrote to stderr after its banner, once it has exited."""
    process.wait(timeout=HANG_GUARD)
    drain = _DRAINS[process.pid]
    drain.join(HANG_GUARD)
    return "".join(drain.lines)


def _answers(url: str) -> bool:
    try:
        return web.get(url, timeout=HANG_GUARD).status_code == 200
    except httpx.TransportError:  # not listening yet
        return False


def run_cli(*args: str, timeout: float = HANG_GUARD) -> subprocess.CompletedProcess[str]:
    """Run `python -m mock_ft ARGS` to completion, capturing its text output."""
    return subprocess.run(
        [sys.executable, "-m", "mock_ft", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
