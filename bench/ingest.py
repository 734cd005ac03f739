"""REST ingest benchmark: the mock (validation + durable journal) against a bare ASGI app.

`python -m bench.ingest [--quick]` (or `make bench`). Both servers run pinned to core 0 under the
mock's uvicorn settings; wrk runs pinned to core 1. Prints a table, writes JSON, exits 0
whatever the figures (it is a report); exits 2 if a tool is missing or a server will not start.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from types import FrameType
from typing import Any

from rich.console import Console

from bench.memory import measure_memory, register_user
from bench.quiet import Load, Meter
from bench.report import code_version, machine_info, render, run_and_report
from bench.servers import (
    API_KEY,
    Server,
    ServerError,
    bare_command,
    free_port,
    mock_command,
    uvicorn_settings,
)
from bench.tools import (
    ToolError,
    WrkResult,
    missing_tools,
    pace_ms,
    parse_wrk,
    run_tool,
    wrk_command,
)

__all__ = ["main", "paired_ratios"]

BENCH = Path(__file__).resolve().parent
SCRIPT = BENCH / "payment.lua"
PAYMENT_PATH = "/v1/integration/payment"
console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line; --quick shortens everything for a smoke run."""
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per run [10]")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections [32]")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per server [5]")
    parser.add_argument("--rate", type=int, default=1000, help="paced rate, events/s [1000]")
    parser.add_argument(
        "--paced-connections", type=int, default=50, help="wrk connections at --rate [50]"
    )
    parser.add_argument(
        "--memory-events", type=int, default=1_000_000, help="journal size for the RSS check [1M]"
    )
    parser.add_argument("--quick", action="store_true", help="3 s runs, 1 round, 100k events")
    parser.add_argument(
        "--json", type=Path, default=BENCH / "results" / "latest.json", help="where to write JSON"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.rounds, args.memory_events = 3.0, 1, 100_000
    return args


def _accepted(server: Server) -> tuple[int, int]:
    verdicts = server.get_json("/_mock/stats")["by_verdict"]
    return int(verdicts.get("accepted", 0)), int(verdicts.get("rejected", 0))


def _journal(server: Server) -> dict[str, int]:
    """The mock's journal counters a paced run is checked against (the bare app has none)."""
    if server.name != "mock":
        return {}
    stats = server.get_json("/_mock/stats")
    verdicts, warnings = stats["by_verdict"], stats["warnings"]
    return {
        "accepted": int(verdicts.get("accepted", 0)),
        "rejected": int(verdicts.get("rejected", 0)),
        "duplicate": int(warnings.get("duplicate", 0)),
        "warned": sum(int(n) for n in warnings.values()),
    }


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(run[key] for run in runs))


def measure_throughput(
    servers: list[Server], args: argparse.Namespace, tag: str, meter: Meter
) -> dict[str, Any]:
    """Saturate each server with wrk, alternating bare and mock, `rounds` times."""
    runs: dict[str, list[dict[str, Any]]] = {s.name: [] for s in servers}
    check = {"accepted": 0, "rejected": 0, "wrk_ok": 0, "wrk_non_2xx": 0}
    warmup = min(3.0, args.duration)
    for server in servers:
        run_tool(_wrk(server, args, f"{tag}-warm-{server.name}", warmup), timeout=warmup + 30)
    for round_no in range(1, args.rounds + 1):
        for server in servers:
            label = f"throughput {round_no}/{args.rounds} {server.name:>4}"
            run_tag = f"{tag}-{server.name}-{round_no}"

            def one_run(server: Server = server, run_tag: str = run_tag) -> _WrkRun:
                # A fresh tag per attempt: a redone run must not repeat payment ids (duplicates).
                command = _wrk(server, args, f"{run_tag}-{time.monotonic_ns()}", args.duration)
                before = _accepted(server) if server.name == "mock" else (0, 0)
                result = parse_wrk(run_tool(command, timeout=args.duration + 60))
                after = _accepted(server) if server.name == "mock" else (0, 0)
                return result, after[0] - before[0], after[1] - before[1]

            (result, accepted, rejected), load = meter.measure(label, one_run)
            runs[server.name].append(result.to_dict() | _load(load))
            if server.name == "mock":
                check["accepted"] += accepted
                check["rejected"] += rejected
                check["wrk_ok"] += result.ok_requests
                check["wrk_non_2xx"] += result.non_2xx
            console.print(
                f"  {label}: {result.requests_per_sec:>9,.0f} req/s  p50 {result.p50_ms:6.2f} ms  "
                f"p99 {result.p99_ms:6.2f} ms  non-2xx {result.non_2xx}  "
                f"other load {load.foreign_cores:.2f} cores"
            )
    mock = next(s for s in servers if s.name == "mock")
    warnings = mock.get_json("/_mock/stats")["warnings"]
    check["warned"] = sum(warnings.values())
    summary: dict[str, Any] = {"runs": runs, "journal_check": check, "mock_warnings": warnings}
    for name, results in runs.items():
        summary[name] = _summarise(results)
        summary[name]["socket_errors"] = sum(sum(r["socket_errors"].values()) for r in results)
    summary["round_ratios"] = paired_ratios(runs["bare"], runs["mock"])
    summary["ratio"] = round(statistics.median(summary["round_ratios"]), 3)
    summary["ratio_of_medians"] = round(
        summary["mock"]["requests_per_sec"] / summary["bare"]["requests_per_sec"], 3
    )
    # Every 2xx wrk counted was journaled first; up to one per connection per run may have been
    # in flight when wrk stopped (journaled, never counted by wrk).
    slack = args.connections * args.rounds
    check["ok"] = check["wrk_ok"] <= check["accepted"] <= check["wrk_ok"] + slack
    return summary


_WrkRun = tuple[WrkResult, int, int]


def paired_ratios(bare: list[dict[str, Any]], mock: list[dict[str, Any]]) -> list[float]:
    """Each round's mock/bare throughput: runs of one round are adjacent, so they share the
    machine's speed of the moment, which on a shared VM drifts by more than the effect measured;
    the median of these is the headline ratio (the ratio of the two medians is kept as info)."""
    return [
        round(m["requests_per_sec"] / b["requests_per_sec"], 3)
        for b, m in zip(bare, mock, strict=True)
    ]


def _load(load: Load) -> dict[str, float]:
    return {"foreign_cores": load.foreign_cores, "steal_cores": load.steal_cores}


def _summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    summary: dict[str, Any] = {
        key: _median(results, key) for key in ("requests_per_sec", "p50_ms", "p99_ms")
    }
    summary["non_2xx"] = sum(r["non_2xx"] for r in results)
    summary["foreign_cores_max"] = max(r["foreign_cores"] for r in results)
    summary["steal_cores_max"] = max(r["steal_cores"] for r in results)
    return summary


def _wrk(server: Server, args: argparse.Namespace, tag: str, seconds: float) -> list[str]:
    return wrk_command(
        server.url + PAYMENT_PATH,
        seconds=seconds,
        connections=args.connections,
        script=SCRIPT,
        args=[tag, API_KEY],
    )


def measure_latency(
    servers: list[Server], args: argparse.Namespace, meter: Meter
) -> dict[str, Any]:
    """wrk paced at a fixed total rate (unique PAYMENT events, as at saturation) against each
    server, alternating; p50/p99, the achieved rate, and what the mock journaled meanwhile."""
    runs: dict[str, list[dict[str, Any]]] = {s.name: [] for s in servers}
    tag = f"p{int(time.time())}"
    for round_no in range(1, args.rounds + 1):
        for server in servers:
            label = f"{args.rate:,}/s {round_no}/{args.rounds} {server.name:>4}"

            def one_run(server: Server = server) -> tuple[WrkResult, dict[str, int]]:
                command = wrk_command(
                    server.url + PAYMENT_PATH,
                    seconds=args.duration,
                    connections=args.paced_connections,
                    script=SCRIPT,
                    args=[f"{tag}-{time.monotonic_ns()}", API_KEY, pace_ms(args.rate, 1)],
                )
                before = _journal(server)
                result = parse_wrk(run_tool(command, timeout=args.duration + 60))
                after = _journal(server)
                return result, {key: after[key] - before[key] for key in after}

            (result, journaled), load = meter.measure(label, one_run)
            run = result.to_dict() | {"journaled": journaled} | _load(load)
            runs[server.name].append(run)
            console.print(
                f"  {label}: {result.requests_per_sec:>7,.0f} req/s  p50 {result.p50_ms:6.2f} ms  "
                f"p99 {result.p99_ms:6.2f} ms  non-2xx {result.non_2xx}  "
                f"journaled {journaled or '-'}  other load {load.foreign_cores:.2f} cores"
            )
    summary: dict[str, Any] = {"rate": args.rate, "connections": args.paced_connections}
    summary["runs"] = runs
    for name, results in runs.items():
        summary[name] = _summarise(results)
    mock = runs["mock"]
    summary["journal_check"] = {
        key: sum(r["journaled"][key] for r in mock)
        for key in ("accepted", "rejected", "duplicate", "warned")
    } | {"wrk_ok": sum(r["requests"] - r["non_2xx"] for r in mock)}
    return summary


def run(args: argparse.Namespace, command_line: str) -> dict[str, Any]:
    """All three phases; servers are stopped on the way out, whatever happens."""
    results: dict[str, Any] = {
        "command": command_line,
        "machine": machine_info(),
        "code": code_version(),
        "uvicorn": uvicorn_settings(),
        "settings": {k: v for k, v in vars(args).items() if k != "json"},
    }
    tag = f"r{int(time.time())}"
    with tempfile.TemporaryDirectory(prefix="mock-ft-bench-") as name, ExitStack() as stack:
        tmp = Path(name)
        bare_port, mock_port = free_port(), free_port()
        console.print("[bold]starting the servers[/] (core 0; wrk on core 1)")
        bare = stack.enter_context(
            Server("bare", bare_command(bare_port), bare_port, tmp / "bare.log")
        )
        mock = stack.enter_context(
            Server(
                "mock",
                mock_command(mock_port, tmp / "journal.sqlite3"),
                mock_port,
                tmp / "mock.log",
                health="/_mock/health",
            )
        )
        register_user(mock)
        servers = [bare, mock]
        meter = Meter(lambda: [s.pid for s in servers if s.alive()], console)
        console.print(f"[bold]throughput[/]: wrk -t1 -c{args.connections}, {args.duration:g} s")
        results["throughput"] = measure_throughput(servers, args, tag, meter)
        console.print(
            f"[bold]latency at a fixed {args.rate:,} events/s[/]: wrk -t1 "
            f"-c{args.paced_connections}, paced by payment.lua"
        )
        results["latency"] = measure_latency(servers, args, meter)
        stack.close()  # free core 0 for the memory phase
        console.print(f"[bold]memory[/]: fresh mock, fill to {args.memory_events:,} events")
        results["memory"] = measure_memory(
            tmp,
            events=args.memory_events,
            script=SCRIPT,
            connections=args.connections,
            console=console,
        )
    return results


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = parse_args(argv)
    missing = missing_tools()
    if missing:
        print(
            f"bench: {', '.join(missing)} not found; run `bash bench/ensure-tools` "
            "(apt-get install -y wrk)",
            file=sys.stderr,
        )
        return 2
    signal.signal(signal.SIGTERM, _on_sigterm)
    words = sys.argv[1:] if argv is None else argv
    return run_and_report(
        "bench.ingest",
        words,
        lambda command_line: run(args, command_line),
        render,
        args.json,
        console,
        errors=(ServerError, ToolError),
        stopped="servers stopped",
    )


if __name__ == "__main__":
    raise SystemExit(main())
