"""One measured run of bench.instances: a setup (one or two mocks on one journal), the CPU its
processes and its PostgreSQL backends spend, wrk at saturation and wrk paced at a fixed rate.

CPU is read from the processes themselves (psutil: user + system), before and after each run:
the mocks with their threads, and the PostgreSQL backends serving the run's database (found in
pg_stat_activity; the server's shared processes, the WAL writer and checkpointer, are not counted).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psutil

from bench.servers import API_KEY, Server
from bench.tools import pace_ms, parse_wrk, run_tool, wrk_command

__all__ = ["Postgres", "PostgresAbsent", "Setup", "paced_run", "wrk_run"]

PAYMENT_PATH = "/v1/integration/payment"


class PostgresAbsent(RuntimeError):
    """No PostgreSQL to measure (the message says why); its rows are skipped."""


class Postgres:
    """The server at the maintenance URL: fresh databases, and the CPU of their backends."""

    def __init__(self, admin_url: str) -> None:
        try:
            import psycopg
        except ImportError as exc:
            raise PostgresAbsent(
                "psycopg is not installed (pip install 'mock-ft[postgres]')"
            ) from exc
        parts = urlsplit(admin_url)
        try:
            self.conn = psycopg.connect(admin_url, autocommit=True, connect_timeout=5)
        except psycopg.OperationalError as exc:
            where = f"{parts.hostname}:{parts.port or 5432}"
            raise PostgresAbsent(
                f"no PostgreSQL answers at {where} ({type(exc).__name__})"
            ) from exc
        self.admin_url = admin_url
        self.version = str(self.conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]

    @contextmanager
    def database(self) -> Iterator[str]:
        """A new database (its URL), dropped afterwards with whatever still connects to it."""
        name = f"mockft_bench_{uuid.uuid4().hex[:10]}"
        self.conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield urlunsplit(urlsplit(self.admin_url)._replace(path=f"/{name}"))
        finally:
            self.conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def backends(self, database_url: str) -> list[int]:
        """The pids of the backends connected to that database."""
        name = urlsplit(database_url).path.lstrip("/")
        rows = self.conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (name,))
        return [int(row[0]) for row in rows]

    def close(self) -> None:
        """Close the maintenance connection."""
        self.conn.close()


def _cpu_seconds(pids: list[int]) -> dict[int, float]:
    found = {}
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        found[pid] = times.user + times.system
    return found


@dataclass(slots=True)
class Setup:
    """One row of the table: its mocks (one or two on one journal) and their database."""

    name: str
    servers: list[Server]
    postgres: Postgres | None = None
    database: str | None = None  # the PostgreSQL database URL, None on SQLite
    runs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def pids(self) -> list[int]:
        """The processes this setup spends CPU in: its mocks and its database's backends."""
        mocks = [s.pid for s in self.servers if s.alive()]
        if self.postgres is None or self.database is None:
            return mocks
        return mocks + self.postgres.backends(self.database)

    def cpu(self) -> tuple[dict[int, float], dict[int, float]]:
        """CPU seconds so far of each mock and of each backend of its database."""
        mocks = _cpu_seconds([s.pid for s in self.servers if s.alive()])
        backends: dict[int, float] = {}
        if self.postgres is not None and self.database is not None:
            backends = _cpu_seconds(self.postgres.backends(self.database))
        return mocks, backends

    def counts(self) -> tuple[int, dict[str, int]]:
        """Events journaled as accepted, and the findings by code (the journal's counters,
        shared by its instances)."""
        stats = self.servers[0].get_json("/_mock/stats")
        return int(stats["by_verdict"].get("accepted", 0)), dict(stats["warnings"])


def _new(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {code: n - before.get(code, 0) for code, n in after.items() if n > before.get(code, 0)}


def _spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two readings (a process new since `before` counts from 0)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def _cpu_figures(setup: Setup, before: Any, after: Any, events: int) -> dict[str, Any]:
    mock_s, db_s = _spent(before[0], after[0]), _spent(before[1], after[1])
    figures: dict[str, Any] = {"mock_cpu_s": round(mock_s, 3), "db_cpu_s": None}
    # Each mock's share: with two instances, both must have taken load (the split is real).
    figures["mock_cpu_s_each"] = [
        round(seconds - before[0].get(pid, 0.0), 3) for pid, seconds in after[0].items()
    ]
    figures["events_per_mock_cpu_s"] = round(events / mock_s, 1) if mock_s else None
    figures["events_per_cpu_s"] = figures["events_per_mock_cpu_s"]  # SQLite: all in the mock
    if setup.database is not None:
        figures["db_cpu_s"] = round(db_s, 3)
        total = mock_s + db_s
        figures["events_per_cpu_s"] = round(events / total, 1) if total else None
    return figures


def wrk_run(
    setup: Setup,
    *,
    seconds: float,
    connections: int,
    script: Path,
    tag: str,
    rate: float | None = None,
) -> dict[str, Any]:
    """wrk with unique PAYMENT events, one thread per mock (round robin over their ports):
    at saturation, or paced at `rate` events/s in all (each thread at its mock's share)."""
    threads = 2 if rate is None else len(setup.servers)
    args = [tag, API_KEY] + ([] if rate is None else [pace_ms(rate, threads)])
    command = wrk_command(
        setup.servers[0].url + PAYMENT_PATH,
        seconds=seconds,
        connections=max(connections, threads),
        script=script,
        args=args,
        threads=threads,
    )
    ports = ",".join(str(s.port) for s in setup.servers)
    (accepted, warned), before = setup.counts(), setup.cpu()
    result = parse_wrk(run_tool(command, seconds + 60, env={"MOCK_FT_BENCH_PORTS": ports}))
    after, (accepted_after, warned_after) = setup.cpu(), setup.counts()
    figures = result.to_dict() | {"journaled": accepted_after - accepted}
    figures["warnings"] = _new(warned, warned_after)
    return figures | _cpu_figures(setup, before, after, result.ok_requests)


def paced_run(
    setup: Setup, *, seconds: float, rate: int, connections: int, script: Path, tag: str
) -> dict[str, Any]:
    """wrk paced at `rate` unique PAYMENT events/s in all (payment.lua's delay()), one thread
    per mock at its share; latency is counted from each request's send."""
    return wrk_run(
        setup, seconds=seconds, connections=connections, script=script, tag=tag, rate=rate
    )
