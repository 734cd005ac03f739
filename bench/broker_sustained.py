"""The broker benchmark's paced RabbitMQ run: a bare consumer, then the mock, each on a queue fed
at a steady rate; the achieved rate, the publish-to-consumer time (mock: to its journal row), the
mock's events per group commit and its CPU time per event."""

from __future__ import annotations

import functools
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import uvloop

from bench.broker_infra import JournalReader
from bench.broker_loads import Payments, RabbitNames, rabbit_cleanup, rabbit_fill
from bench.broker_paced import (
    DRAIN_SECONDS,
    WARMUP_EVENTS,
    paced_figures,
    paced_mock,
    paced_publish,
)
from bench.broker_runs import BENCH, Bench, console, events_per_commit, load_figures, wait_connected
from bench.servers import SERVER_CPU, ServerError

__all__ = ["sustained"]


def sustained(bench: Bench) -> dict[str, Any]:
    """A bare consumer, then the mock, each on a queue fed at a paced rate: the achieved rate and
    the publish-to-consumer time (mock: to its journal row)."""
    args = bench.args
    results: dict[str, Any] = {"target_rate": args.rate, "seconds": args.seconds}
    for side in ("baseline", "mock"):
        names = RabbitNames.unique(bench.tag)
        label = f"sustained {args.rate:,}/s for {args.seconds:g} s {side:>8}"
        run = _paced_baseline if side == "baseline" else _paced_mock
        try:
            figures, load = bench.meter.measure(label, functools.partial(run, bench, names))
        finally:
            uvloop.run(rabbit_cleanup(args.rabbitmq_url, names))
        results[side] = figures | load_figures(load)
        console.print(
            f"  {label}: {figures['consumed_rate']:,.0f} events/s, p50 {figures['p50_ms']:.1f} "
            f"ms, p99 {figures['p99_ms']:.1f} ms, max {figures['max_ms']:.1f} ms (broker confirm "
            f"p99 {figures['confirm']['p99_ms']:.1f} ms)  other load {load.foreign_cores:.2f} cores"
        )
    return results


def _payments(names: RabbitNames) -> Payments:
    return Payments(f"{names.queue.removesuffix('.q')}-{time.monotonic_ns()}")


def _paced_baseline(bench: Bench, names: RabbitNames) -> dict[str, Any]:
    args, url = bench.args, bench.args.rabbitmq_url
    uvloop.run(rabbit_fill(url, names, _payments(names), 0))  # the topology, for the consumer
    times = bench.tmp / f"{names.queue}-{time.monotonic_ns()}.json"
    total = WARMUP_EVENTS + int(args.rate * args.seconds)
    words = ["rabbitmq", url, names.queue, str(total), str(args.prefetch), "--times", str(times)]
    command = ["taskset", "-c", SERVER_CPU, sys.executable, "-m", "bench.broker_baseline", *words]
    before = _children_cpu()
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=BENCH.parent
    ) as process:
        assert process.stdout is not None  # noqa: S101 - piped above
        if "consuming" not in process.stdout.readline():
            process.kill()
            raise ServerError(f"the baseline consumer did not start: {process.communicate()[1]}")
        published = uvloop.run(
            paced_publish(url, names, _payments(names), rate=args.rate, seconds=args.seconds)
        )
        try:
            process.communicate(timeout=DRAIN_SECONDS + 60)
        except subprocess.TimeoutExpired:
            process.kill()
            raise ServerError("the baseline consumer did not take every message") from None
    figures = paced_figures(published, json.loads(times.read_text()), args.rate)
    return figures | {"cpu_us_per_event": _per_event(_children_cpu() - before, total)}


def _paced_mock(bench: Bench, names: RabbitNames) -> dict[str, Any]:
    args = bench.args
    env = {
        "MOCK_FT_RABBITMQ_URL": args.rabbitmq_url,
        "MOCK_FT_RABBITMQ_PREFETCH": str(args.prefetch),
    }
    server = bench.mock(env | names.env(), f"{names.queue}-{time.monotonic_ns()}")
    with server:
        bench.pids["mock"] = server.pid
        wait_connected(server)
        journal = Path(server.command[server.command.index("--journal") + 1])
        before = _process_cpu(server.pid)
        figures: dict[str, Any] = uvloop.run(
            paced_mock(
                args.rabbitmq_url,
                names,
                journal,
                _payments(names),
                rate=args.rate,
                seconds=args.seconds,
            )
        )
        total = WARMUP_EVENTS + int(args.rate * args.seconds)
        figures["cpu_us_per_event"] = _per_event(_process_cpu(server.pid) - before, total)
        figures["events_per_commit"] = events_per_commit(server)
        reader = JournalReader(journal)
        figures["journal"] = reader.verdicts()
        reader.close()
        bench.pids.pop("mock", None)
    return figures


def _children_cpu() -> float:
    """CPU seconds (user + system) of this process's children that have been waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _process_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a running process and its threads."""
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def _per_event(seconds: float, events: int) -> float:
    """CPU µs per event, warm-up included (the consumer's whole life for the baseline)."""
    return round(seconds / events * 1e6, 1) if events else 0.0
