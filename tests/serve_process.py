"""Start `python -m mock_ft serve` as a real process on a free port, for real-socket tests."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from tests import web

_BANNER = re.compile(r"listening on (http://\S+)")


@contextmanager
def serve_process(
    *args: str, env: dict[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """Run the server CLI; yield (base URL, process). Stopped with SIGINT unless already dead."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_ft", "serve", "--port", "0", "--log-level", "warning", *args],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    try:
        assert process.stderr is not None
        url = None
        deadline = time.monotonic() + 20
        while url is None and time.monotonic() < deadline:
            line = process.stderr.readline()
            if not line:
                raise RuntimeError(f"server exited with {process.wait()}")
            match = _BANNER.search(line)
            url = match.group(1) if match else None
        assert url is not None, "no banner within 20 s"
        while time.monotonic() < deadline:
            try:
                if web.get(f"{url}/_mock/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        yield url, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stderr is not None:
            process.stderr.close()


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run `python -m mock_ft ARGS` to completion, capturing its text output."""
    return subprocess.run(
        [sys.executable, "-m", "mock_ft", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
