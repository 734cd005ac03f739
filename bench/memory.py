"""Memory phase: RSS of a fresh mock at 10k journaled events and again at N (default 1M)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from bench.quiet import Meter
from bench.servers import API_KEY, Server, ServerError, free_port, mock_command
from bench.tools import ToolError, parse_wrk, wrk_command

__all__ = ["SMALL_EVENTS", "measure_memory", "register_user"]

SMALL_EVENTS = 10_000
MIB = 1024 * 1024
_PAYMENT_PATH = "/v1/integration/payment"
_SETTLE_SECONDS = 1.0  # let the writer drain and the allocator settle before reading RSS
_STALL_SECONDS = 60.0


def register_user(server: Server) -> None:
    """Register the benchmark's user (7001) so payments take the registered-user path."""
    from mock_ft.samples import sample_events

    for route, payload in sample_events():
        if route.event_type == "USER_CREATE_V2":
            status = server.post_json(route.path, {**payload, "user_id": "7001"})
            if status != 200:
                raise ServerError(f"the {server.name} server answered {status} to USER_CREATE_V2")
            return


def _total(server: Server) -> int:
    stats = server.get_json("/_mock/stats")
    total: int = stats["total"]
    return total


def _journal_bytes(journal: Path) -> int:
    files = [journal, journal.with_name(journal.name + "-wal")]
    return sum(f.stat().st_size for f in files if f.exists())


def fill(
    server: Server,
    target: int,
    *,
    script: Path,
    connections: int,
    tag: str,
    poll: float,
    console: Console | None = None,
) -> dict[str, Any]:
    """Load the server with wrk until its journal holds `target` entries; wrk's report as a dict."""
    start_total = _total(server)
    command = wrk_command(
        server.url + _PAYMENT_PATH,
        seconds=86_400,
        connections=connections,
        script=script,
        args=[tag, API_KEY],
    )
    wrk = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    started = last_print = last_progress = time.monotonic()
    total = last_total = start_total
    samples: list[tuple[int, int]] = []
    try:
        while total < target:
            time.sleep(poll)
            if wrk.poll() is not None:
                raise ToolError(f"wrk stopped early (exit {wrk.returncode}) while filling")
            if not server.alive():
                raise ServerError(f"the {server.name} server died while filling the journal")
            total = _total(server)
            now = time.monotonic()
            if total > last_total:
                last_total, last_progress = total, now
            elif now - last_progress > _STALL_SECONDS:
                raise ServerError(f"the {server.name} journal stopped growing at {total:,}")
            if console is not None and now - last_print >= 5:
                rss = server.rss_bytes()
                samples.append((total, rss))
                rate = (total - start_total) / (now - started)
                eta = (target - total) / rate if rate else float("inf")
                console.print(
                    f"  filling: {total:>9,} / {target:,} events  {rate:>7,.0f} events/s  "
                    f"RSS {rss / MIB:6.1f} MiB  ETA {eta:4.0f} s"
                )
                last_print = now
        os.killpg(wrk.pid, signal.SIGINT)  # wrk prints its summary on SIGINT
        output, _ = wrk.communicate(timeout=30)
    finally:
        if wrk.poll() is None:
            os.killpg(wrk.pid, signal.SIGKILL)
            wrk.wait()
    elapsed = time.monotonic() - started
    report = parse_wrk(output.decode(errors="replace"))
    return {
        "target": target,
        "journaled": total,
        "seconds": round(elapsed, 1),
        "events_per_sec": round((total - start_total) / elapsed, 1),
        "wrk": report.to_dict(),
        "rss_samples": samples,
    }


def measure_memory(
    tmp: Path, *, events: int, script: Path, connections: int, console: Console
) -> dict[str, Any]:
    """Fresh mock, fresh journal: RSS after 10k events, after `events`, and after the read paths."""
    journal = tmp / "memory" / "journal.sqlite3"
    port = free_port()
    command = mock_command(port, journal)
    health = "/_mock/health"
    with Server("mock (memory)", command, port, tmp / "mock-memory.log", health) as mock:
        register_user(mock)
        rss_start = mock.rss_bytes()
        tag = f"mem{int(time.time())}"
        small = fill(mock, SMALL_EVENTS, script=script, connections=connections, tag=tag, poll=0.1)
        time.sleep(_SETTLE_SECONDS)
        rss_small = mock.rss_bytes()
        small_total = _total(mock)
        console.print(f"  {small_total:,} events journaled: RSS {rss_small / MIB:.1f} MiB")
        meter = Meter(lambda: [mock.pid] if mock.alive() else [], console)
        before = meter.snapshot()
        large = fill(
            mock,
            events,
            script=script,
            connections=connections,
            tag=tag + "b",
            poll=1.0,
            console=console,
        )
        load = meter.since(before)
        large["foreign_cores"], large["steal_cores"] = load.foreign_cores, load.steal_cores
        time.sleep(_SETTLE_SECONDS)
        rss_large = mock.rss_bytes()
        large_total = _total(mock)
        console.print(f"  {large_total:,} events journaled: RSS {rss_large / MIB:.1f} MiB")
        page = mock.get_json("/_mock/events?limit=1000")
        mock.get_json("/_mock/stats")
        rss_reads = mock.rss_bytes()
        console.print(
            f"  after GET /_mock/events?limit=1000 ({page['count']} rows) and /_mock/stats: "
            f"RSS {rss_reads / MIB:.1f} MiB"
        )
    return {
        "rss_start": rss_start,
        "events_small": small_total,
        "rss_small": rss_small,
        "events_large": large_total,
        "rss_large": rss_large,
        "rss_after_reads": rss_reads,
        "growth": round(max(rss_large, rss_reads) / rss_small, 3),
        "journal_bytes": _journal_bytes(journal),
        "fill_small": small,
        "fill_large": large,
    }
