"""Start the servers under test as pinned subprocesses, wait until they serve, and stop them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import psutil

__all__ = [
    "API_KEY",
    "API_KEY_HEADER",
    "SERVER_CPU",
    "Server",
    "ServerError",
    "bare_command",
    "free_port",
    "mock_command",
    "uvicorn_settings",
]

SERVER_CPU = "0"
API_KEY = "mock-ft-local-key"  # the mock's default key (mock_ft.settings.DEFAULT_API_KEY)
API_KEY_HEADER = "X-API-Key"
_ROOT = Path(__file__).resolve().parent.parent


class ServerError(RuntimeError):
    """A server did not start (or died)."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def uvicorn_settings() -> dict[str, Any]:
    """The uvicorn settings both servers run with (mock_ft.crm.runner.uvicorn_config)."""
    from bench.bare_app import app
    from mock_ft.crm.runner import uvicorn_config

    config = uvicorn_config(app, log_level="warning")
    names = (
        "loop", "http", "lifespan", "access_log", "proxy_headers", "server_header", "date_header",
        "backlog", "timeout_keep_alive", "timeout_graceful_shutdown", "limit_concurrency",
        "h11_max_incomplete_event_size", "workers",
    )  # fmt: skip
    settings = {name: getattr(config, name, None) for name in names}
    settings["log_level"] = "warning"
    return settings


def bare_command(port: int) -> list[str]:
    """The baseline, served by the mock's own runner: the very same uvicorn.Config and socket."""
    return [
        "taskset", "-c", SERVER_CPU, sys.executable, "-m", "bench.bare_app",
        "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip


def mock_command(port: int, journal: Path | str) -> list[str]:
    """`mock-ft serve` with a durable journal (a SQLite path or a postgresql:// URL), auth and
    validation on (the defaults)."""
    return [
        "taskset", "-c", SERVER_CPU, sys.executable, "-m", "mock_ft", "serve",
        "--host", "127.0.0.1", "--port", str(port), "--journal", str(journal),
        "--log-level", "warning",
    ]  # fmt: skip


class Server:
    """One server subprocess: `with Server(name, command, port, log, health) as server:`."""

    def __init__(
        self,
        name: str,
        command: list[str],
        port: int,
        log: Path,
        health: str | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.env = env  # added to this process's environment
        self.command = command
        self.port = port
        self.log = log
        self.health = health  # a GET path answering 200 once ready; None = TCP connect
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL of the server."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """The server's process id (taskset execs into the server, so this is Python's)."""
        if self.process is None:
            raise ServerError(f"the {self.name} server is not running")
        return self.process.pid

    def start(self, timeout: float = 30.0) -> Server:
        """Launch and wait until it answers; ServerError with its log tail if it does not."""
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=_ROOT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **self.env} if self.env else None,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches us only; we stop it in order
            )
        deadline = time.monotonic() + timeout
        while not self._ready():
            if self.process.poll() is not None:
                self.stop()
                raise ServerError(f"the {self.name} server exited at start: {self._tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise ServerError(f"the {self.name} server did not answer in {timeout:.0f} s")
            time.sleep(0.05)
        return self

    def _ready(self) -> bool:
        if self.health is None:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return True
            except OSError:
                return False
        try:
            return httpx.get(self.url + self.health, timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def _tail(self) -> str:
        try:
            lines = self.log.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "(no log)"
        return " | ".join(lines[-5:]) or "(no output)"

    def alive(self) -> bool:
        """True while the process runs."""
        return self.process is not None and self.process.poll() is None

    def rss_bytes(self) -> int:
        """Resident memory of the server and any children it started."""
        process = psutil.Process(self.pid)
        total: int = process.memory_info().rss
        for child in process.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        return total

    def get_json(self, path: str, timeout: float = 30.0) -> Any:
        """GET a control endpoint and return its JSON (raises on a non-2xx answer)."""
        response = httpx.get(self.url + path, timeout=timeout)
        response.raise_for_status()
        return response.json()

    def post_json(self, path: str, payload: dict[str, Any]) -> int:
        """POST an event with the API key; return the status code."""
        response = httpx.post(
            self.url + path, json=payload, headers={API_KEY_HEADER: API_KEY}, timeout=10.0
        )
        return response.status_code

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM (graceful: the mock flushes its journal), then SIGKILL if it lingers."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        except ProcessLookupError:
            pass

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
