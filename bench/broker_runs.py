"""The broker benchmark's runs: a backlog drained by a bare consumer or by `mock-ft serve`, and the
mock fed at a paced rate. Consumers run pinned to core 0; this process (publisher, journal
polling) to core 1."""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import uvloop
from rich.console import Console

from bench.broker_infra import JournalReader
from bench.broker_loads import (
    Payments,
    RabbitNames,
    kafka_delete,
    kafka_fill,
    rabbit_cleanup,
    rabbit_fill,
)
from bench.quiet import Load, Meter
from bench.servers import SERVER_CPU, Server, ServerError, free_port, mock_command

__all__ = [
    "Bench",
    "alternate",
    "console",
    "events_per_commit",
    "kafka_drain",
    "load_figures",
    "rabbit_drain",
    "wait_connected",
]

BENCH = Path(__file__).resolve().parent
POLL_SECONDS = 0.01  # journal polling while a mock drains its backlog
console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)


@dataclass
class Bench:
    """What the phases share: settings, a scratch folder, and the processes to discount."""

    args: argparse.Namespace
    tmp: Path
    tag: str
    meter: Meter = field(init=False)
    pids: dict[str, int] = field(default_factory=dict)  # mock, broker processes

    def __post_init__(self) -> None:
        self.meter = Meter(
            lambda: [p for p in self.pids.values() if psutil.pid_exists(p)],
            console,
            patient=not self.args.no_wait,
        )

    def mock(self, env: dict[str, str], name: str) -> Server:
        """A `mock-ft serve` with a fresh journal and these settings, pinned to core 0."""
        port = free_port()
        journal = self.tmp / f"{name}.sqlite3"
        words = [f"{key}={value}" for key, value in env.items()]
        command = ["env", *words, *mock_command(port, journal)]
        return Server("mock", command, port, self.tmp / f"{name}.log", health="/_mock/health")

    def baseline(self, words: list[str]) -> dict[str, Any]:
        """Run a bare consumer (bench.broker_baseline) on core 0; its figures."""
        command = ["taskset", "-c", SERVER_CPU, sys.executable, "-m", "bench.broker_baseline"]
        done = subprocess.run(
            [*command, *words], capture_output=True, text=True, timeout=900, cwd=BENCH.parent
        )
        if done.returncode != 0:
            lines = done.stderr.strip().splitlines() or ["(no output)"]
            raise ServerError(f"the baseline consumer failed: {lines[-1]}")
        figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return figures


def wait_connected(server: Server, timeout: float = 30.0) -> float:
    """Poll /_mock/health until the broker consumer is connected; when it was seen so."""
    deadline = time.perf_counter() + timeout
    while True:
        [broker] = server.get_json("/_mock/health")["brokers"]
        if broker["state"] == "connected":
            return time.perf_counter()
        if time.perf_counter() > deadline or not server.alive():
            raise ServerError(f"the mock's {broker['transport']} consumer: {broker['error']}")
        time.sleep(0.005)


def drain_mock(bench: Bench, server: Server, count: int) -> dict[str, Any]:
    """Start the mock on a filled backlog; time it from its first journaled event to `count`."""
    with server:
        bench.pids["mock"] = server.pid
        connected = wait_connected(server)
        reader = JournalReader(Path(server.command[server.command.index("--journal") + 1]))
        deadline = connected + max(120.0, count / 100)
        first, already = 0.0, 0
        try:
            while (journaled := reader.last_id()) < count:
                if journaled and not first:
                    first, already = time.perf_counter(), journaled
                if time.perf_counter() > deadline or not server.alive():
                    raise ServerError(f"the mock journaled {journaled} of {count} events in time")
                time.sleep(POLL_SECONDS)
            finished = time.perf_counter()
            if not first:  # all of it landed between two polls
                first, already = finished - POLL_SECONDS, 0
            verdicts = reader.verdicts()
            per_commit = events_per_commit(server)
        finally:
            reader.close()
            bench.pids.pop("mock", None)
    seconds = finished - first
    return {
        "count": count,
        "windowed": count - already,
        "seconds": round(seconds, 4),
        "events_per_sec": round((count - already) / seconds, 1),
        "first_after_connect_s": round(first - connected, 4),
        "journal": verdicts,
        "events_per_commit": per_commit,
    }


def events_per_commit(server: Server) -> float:
    """Events the mock's consumer journaled per batch (one group commit each), from its health."""
    [broker] = server.get_json("/_mock/health")["brokers"]
    return round(broker["consumed"] / broker["batches"], 2) if broker["batches"] else 0.0


def rabbit_drain(bench: Bench, side: str) -> dict[str, Any]:
    """Fill a fresh queue with the backlog, drain it with `side`, delete the topology."""
    args, url = bench.args, bench.args.rabbitmq_url
    names = RabbitNames.unique(bench.tag)
    payments = Payments(names.queue.removesuffix(".q"))
    try:
        uvloop.run(rabbit_fill(url, names, payments, args.events))
        if side == "baseline":
            words = ["rabbitmq", url, names.queue, str(args.events), str(args.prefetch)]
            return bench.baseline(words)
        env = {"MOCK_FT_RABBITMQ_URL": url, "MOCK_FT_RABBITMQ_PREFETCH": str(args.prefetch)}
        return drain_mock(bench, bench.mock(env | names.env(), names.queue), args.events)
    finally:
        uvloop.run(rabbit_cleanup(url, names))


def kafka_drain(bench: Bench, side: str, bootstrap: str) -> dict[str, Any]:
    """Produce the backlog to a fresh topic, drain it with `side` in a fresh group: `baseline`
    takes and commits; `durable` also writes each fetch to SQLite in one transaction."""
    topic = f"mockft-bench-{bench.tag}-{uuid.uuid4().hex[:8]}"
    try:
        uvloop.run(kafka_fill(bootstrap, topic, Payments(topic), bench.args.events))
        words = ["kafka", bootstrap, topic, f"{topic}-g", str(bench.args.events)]
        if side == "baseline":
            return bench.baseline(words)
        if side == "durable":
            return bench.baseline([*words, "--sqlite", str(bench.tmp / f"{topic}.sqlite3")])
        env = {
            "MOCK_FT_KAFKA_BOOTSTRAP": bootstrap,
            "MOCK_FT_KAFKA_TOPICS": topic,
            "MOCK_FT_KAFKA_GROUP": f"{topic}-g",
            "MOCK_FT_KAFKA_SESSION_TIMEOUT_MS": "2000",
            "MOCK_FT_KAFKA_CREATE_TOPICS": "false",
        }
        return drain_mock(bench, bench.mock(env, topic), bench.args.events)
    finally:
        uvloop.run(kafka_delete(bootstrap, topic))


def alternate(
    bench: Bench,
    name: str,
    drain: Callable[[str], dict[str, Any]],
    sides: tuple[str, ...] = ("baseline", "mock"),
) -> dict[str, Any]:
    """Drains of each side (the mock last), alternating, `rounds` times each; medians, and the
    mock's ratio to each other side (`ratio` to `baseline`, `durable_ratio` to `durable`)."""
    runs: dict[str, list[dict[str, Any]]] = {side: [] for side in sides}
    rounds = bench.args.rounds
    for round_no in range(1, rounds + 1):
        for side in sides:
            label = f"{name} drain {round_no}/{rounds} {side:>8}"
            figures, load = bench.meter.measure(label, functools.partial(drain, side))
            runs[side].append(figures | load_figures(load))
            console.print(
                f"  {label}: {figures['events_per_sec']:>9,.0f} events/s over "
                f"{figures['seconds']:.2f} s (first event {figures['first_after_connect_s']:.2f} s "
                f"after connecting)  other load {load.foreign_cores:.2f} cores"
            )
    summary: dict[str, Any] = {"events": bench.args.events, "runs": runs}
    for side, results in runs.items():
        summary[side] = {
            "events_per_sec": statistics.median(r["events_per_sec"] for r in results),
            "foreign_cores_max": max(r["foreign_cores"] for r in results),
            "steal_cores_max": max(r["steal_cores"] for r in results),
        }
    summary["journal"] = [r["journal"] for r in runs["mock"]]
    summary["mock"]["events_per_commit"] = statistics.median(
        r["events_per_commit"] for r in runs["mock"]
    )
    for side in sides[:-1]:
        rate = summary[side]["events_per_sec"]
        key = "ratio" if side == "baseline" else f"{side}_ratio"
        summary[key] = round(summary["mock"]["events_per_sec"] / rate, 3) if rate else 0.0
    return summary


def load_figures(load: Load) -> dict[str, float]:
    return {"foreign_cores": load.foreign_cores, "steal_cores": load.steal_cores}
