"""REST ingest on PostgreSQL with one and two instances, beside SQLite with one, in one run.

`python -m bench.instances [--quick] [--no-wait]` (part of `make bench`). Three setups, each with
a fresh journal, alternating in each round: `mock-ft serve` on a SQLite file; one on a new
PostgreSQL database; two on another new database (two real processes on one journal, wrk's
threads splitting the load between them). Per setup: events/s at saturation (wrk, unique PAYMENT
events), events per CPU-second of the mocks and of the mocks plus their PostgreSQL backends, and
p50/p99 at a paced 1,000 events/s (wrk held to that rate by payment.lua, the same unique
events). Ratios are against SQLite with one instance, round by round. The mocks run on core 0,
wrk on core 1, PostgreSQL where the system puts it. The PostgreSQL databases are created on the
server at --postgres-url (trust auth) and dropped at the end; without one, its rows are skipped
with the reason. Prints a table, writes JSON, exits 0 whatever the figures; 2 when it cannot run.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable
from contextlib import ExitStack
from pathlib import Path
from types import FrameType
from typing import Any

from rich.console import Console

from bench.instances_report import render
from bench.instances_runs import Postgres, PostgresAbsent, Setup, paced_run, wrk_run
from bench.memory import register_user
from bench.quiet import Meter
from bench.report import code_version, machine_info, run_and_report
from bench.servers import Server, ServerError, free_port, mock_command
from bench.tools import ToolError, missing_tools

__all__ = ["main", "parse_args", "summarise"]

BENCH = Path(__file__).resolve().parent
SCRIPT = BENCH / "payment.lua"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
console = Console(highlight=False, width=None if sys.stdout.isatty() else 140)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line; --quick shortens everything for a smoke run."""
    parser = argparse.ArgumentParser(prog="python -m bench.instances", description=__doc__)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per run [10]")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections [32]")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds [3]")
    parser.add_argument("--rate", type=int, default=1000, help="paced rate, events/s [1000]")
    # A paced connection waits for its answer: at 1,000/s and answers of up to 50 ms (PostgreSQL
    # on a busy 2-core machine), 50 connections keep the rate where 10 could not.
    parser.add_argument(
        "--paced-connections", type=int, default=50, help="wrk connections at --rate [50]"
    )
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES, help="maintenance database")
    parser.add_argument("--no-wait", action="store_true", help="measure at once, whatever load")
    parser.add_argument("--quick", action="store_true", help="3 s runs, 1 round")
    parser.add_argument(
        "--json", type=Path, default=BENCH / "results" / "instances.json", help="JSON output"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.rounds = 3.0, 1
    return args


def _mock(name: str, journal: Path | str, tmp: Path) -> Server:
    port = free_port()
    log = tmp / f"{name}.log"
    command = mock_command(port, journal)
    return Server(name, command, port, log, health="/_mock/health")


def _setups(args: argparse.Namespace, tmp: Path, stack: ExitStack) -> tuple[list[Setup], str]:
    """SQLite x1 always; PostgreSQL x1 and x2 when a server answers (else the reason why not)."""
    sqlite = Setup("sqlite x1", [stack.enter_context(_mock("sqlite", tmp / "j.sqlite3", tmp))])
    setups, skipped = [sqlite], ""
    try:
        postgres = Postgres(args.postgres_url)
    except PostgresAbsent as exc:
        return setups, f"PostgreSQL rows skipped: {exc}"
    stack.callback(postgres.close)
    for count in (1, 2):
        database = stack.enter_context(postgres.database())
        servers = [
            stack.enter_context(_mock(f"pg{count}-{n}", database, tmp)) for n in range(count)
        ]
        setups.append(Setup(f"postgresql x{count}", servers, postgres, database))
    return setups, skipped


def _show(label: str, figures: dict[str, Any], foreign: float) -> None:
    per_cpu = figures["events_per_cpu_s"]
    console.print(
        f"  {label}: {figures['requests_per_sec']:>8,.0f} events/s  p50 {figures['p50_ms']:6.2f} "
        f"ms  p99 {figures['p99_ms']:6.2f} ms  non-2xx {figures['non_2xx']}  "
        f"events/CPU-s {per_cpu or 0:,.0f}  other load {foreign:.2f} cores"
    )


def measure(setups: list[Setup], args: argparse.Namespace, meter: Meter) -> None:
    """Rounds of wrk at saturation, then paced, over every setup in turn; each run's figures go
    to setup.runs."""
    tag = f"i{int(time.time())}"
    warmup = min(3.0, args.duration)
    for setup in setups:
        wrk_run(setup, seconds=warmup, connections=args.connections, script=SCRIPT, tag=tag + "w")
        setup.runs = {"throughput": [], "paced": []}
    for round_no in range(1, args.rounds + 1):
        for setup in setups:
            label = f"saturation {round_no}/{args.rounds} {setup.name:>13}"

            def saturate(setup: Setup = setup) -> dict[str, Any]:
                run_tag = f"{tag}-{setup.name[:2]}{len(setup.servers)}-{time.monotonic_ns()}"
                return wrk_run(
                    setup, seconds=args.duration, connections=args.connections,
                    script=SCRIPT, tag=run_tag,
                )  # fmt: skip

            figures, load = meter.measure(label, saturate)
            setup.runs["throughput"].append(figures | {"foreign_cores": load.foreign_cores})
            _show(label, figures, load.foreign_cores)
        for setup in setups:
            label = f"{args.rate:,}/s {round_no}/{args.rounds} {setup.name:>13}"

            def pace(setup: Setup = setup) -> dict[str, Any]:
                run_tag = f"{tag}-p{setup.name[:2]}{len(setup.servers)}-{time.monotonic_ns()}"
                return paced_run(
                    setup, seconds=args.duration, rate=args.rate,
                    connections=args.paced_connections, script=SCRIPT, tag=run_tag,
                )  # fmt: skip

            figures, load = meter.measure(label, pace)
            setup.runs["paced"].append(figures | {"foreign_cores": load.foreign_cores})
            _show(label, figures, load.foreign_cores)


def _median(runs: list[dict[str, Any]], key: str) -> float | None:
    values = [run[key] for run in runs if run.get(key) is not None]
    return round(float(statistics.median(values)), 2) if values else None


def summarise(setups: list[Setup]) -> dict[str, Any]:
    """Medians per setup, and each setup's ratios to SQLite x1 taken round by round."""
    base = setups[0].runs
    keys = ("requests_per_sec", "p50_ms", "p99_ms", "events_per_mock_cpu_s", "events_per_cpu_s")
    found: dict[str, Any] = {}
    for setup in setups:
        row: dict[str, Any] = {"instances": len(setup.servers), "runs": setup.runs}
        for phase, runs in setup.runs.items():
            row[phase] = {key: _median(runs, key) for key in (*keys, "mock_cpu_s", "db_cpu_s")}
            row[phase]["non_2xx"] = sum(run["non_2xx"] for run in runs)
            row[phase]["warnings"] = _sum_counts(run["warnings"] for run in runs)
            row[phase]["foreign_cores_max"] = max(run["foreign_cores"] for run in runs)
            row[phase]["ratios"] = {
                key: _round_ratio(base[phase], runs, key)
                for key in ("requests_per_sec", "events_per_mock_cpu_s", "events_per_cpu_s")
            }
        done = setup.runs["throughput"]
        events = sum(r["requests"] - r["non_2xx"] for r in done)
        row["journal_check"] = {"wrk_2xx": events, "journaled": sum(r["journaled"] for r in done)}
        paced = setup.runs["paced"]
        row["paced_journal_check"] = {
            "wrk_2xx": sum(r["requests"] - r["non_2xx"] for r in paced),
            "journaled": sum(r["journaled"] for r in paced),  # as accepted
            "duplicate": row["paced"]["warnings"].get("duplicate", 0),
        }
        row["cpu_us_per_event"] = {
            side: round(sum(r[key] for r in done) / events * 1e6, 1) if events else None
            for side, key in (("mock", "mock_cpu_s"), ("db", "db_cpu_s"))
            if all(r[key] is not None for r in done)
        }
        found[setup.name] = row
    return found


def _sum_counts(counts: Iterable[dict[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for each in counts:
        for code, n in each.items():
            total[code] = total.get(code, 0) + n
    return total


def _round_ratio(base: list[dict[str, Any]], runs: list[dict[str, Any]], key: str) -> float | None:
    """The median over rounds of this run's figure over the baseline's run of the same round."""
    pairs = [(r.get(key), b.get(key)) for r, b in zip(runs, base, strict=True)]
    ratios = [value / baseline for value, baseline in pairs if value and baseline]
    return round(statistics.median(ratios), 3) if ratios else None


def run(args: argparse.Namespace, command_line: str) -> dict[str, Any]:
    """Start the setups, measure them, stop them and drop their databases, whatever happens."""
    results: dict[str, Any] = {
        "command": command_line,
        "machine": machine_info(),
        "code": code_version(),
        "settings": {k: v for k, v in vars(args).items() if k != "json"},
    }
    with tempfile.TemporaryDirectory(prefix="mock-ft-instances-") as name, ExitStack() as stack:
        tmp = Path(name)
        console.print("[bold]starting the mocks[/] (core 0; wrk on core 1)")
        setups, skipped = _setups(args, tmp, stack)
        if skipped:
            console.print(f"  [yellow]{skipped}[/]")
        for setup in setups:
            register_user(setup.servers[0])
        postgres = setups[-1].postgres
        results["postgresql"] = {"version": postgres.version if postgres else None}
        results["skipped"] = skipped
        meter = Meter(
            lambda: [pid for s in setups for pid in s.pids()], console, patient=not args.no_wait
        )
        measure(setups, args, meter)
        results["setups"] = summarise(setups)
    return results


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # stops the mocks and drops the databases on the way out


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = parse_args(argv)
    missing = missing_tools()
    if missing:
        print(
            f"bench: {', '.join(missing)} not found; run `bash bench/ensure-tools`", file=sys.stderr
        )
        return 2
    signal.signal(signal.SIGTERM, _on_sigterm)
    words = sys.argv[1:] if argv is None else argv
    return run_and_report(
        "bench.instances",
        words,
        lambda command_line: run(args, command_line),
        render,
        args.json,
        console,
        errors=(ServerError, ToolError),
        stopped="mocks stopped, databases dropped",
    )


if __name__ == "__main__":
    raise SystemExit(main())
