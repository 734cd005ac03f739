"""The benchmark's report: machine facts, the verdict table, the JSON file."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.quiet import THRESHOLD_CORES

__all__ = ["TARGETS", "machine_info", "render", "write_json"]

TARGETS = {"throughput_ratio": 0.3, "throughput_ratio_aim": 0.5, "p99_ms": 10.0, "rss_growth": 1.2}
MIB = 1024 * 1024


def _first_line(path: str, prefix: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith(prefix):
                    return line.split("=" if "=" in prefix else ":", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "unknown"


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def _wrk_version() -> str:
    # The verification benchmark records the machine too, and runs where wrk was never installed.
    try:
        done = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        return "not installed"
    words = (done.stdout + done.stderr).split()
    return words[1] if len(words) > 1 else "unknown"


def code_version() -> dict[str, Any]:
    """Which mock was measured: the commit, whether mock_ft/ differs from it, a hash of its code."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for path in sorted((root / "mock_ft").rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
    )
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "mock_ft"], cwd=root, capture_output=True, text=True
    )
    return {
        "commit": head.stdout.strip() or "unknown",
        "mock_ft_modified_files": len(dirty.stdout.splitlines()),
        "mock_ft_sha256": digest.hexdigest()[:12],
    }


def machine_info() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "nproc": os.cpu_count(),
        "cpu_model": _first_line("/proc/cpuinfo", "model name"),
        "os": _first_line("/etc/os-release", "PRETTY_NAME="),
        "kernel": platform.release(),
        "memory_mib": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // MIB,
        "python": platform.python_version(),
        "uvicorn": _version("uvicorn"),
        "uvloop": _version("uvloop"),
        "httptools": _version("httptools"),
        "wrk": _wrk_version(),
        "pinning": "servers on core 0 (taskset -c 0), wrk on core 1 (taskset -c 1)",
    }


def _verdict(ok: bool) -> str:
    return "[bold green]PASS[/]" if ok else "[bold red]MISS[/]"


def _num(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def _mib(value: int) -> str:
    return f"{value / MIB:,.1f} MiB"


def _load_row(table: Table, label: str, bare: dict[str, Any], mock: dict[str, Any]) -> None:
    """Foreign CPU (other processes) and hypervisor steal, in cores, during the measured runs."""
    worst = max(
        bare["foreign_cores_max"] + bare["steal_cores_max"],
        mock["foreign_cores_max"] + mock["steal_cores_max"],
    )
    table.add_row(
        label,
        f"{bare['foreign_cores_max']:.2f} (steal {bare['steal_cores_max']:.2f})",
        f"{mock['foreign_cores_max']:.2f} (steal {mock['steal_cores_max']:.2f})",
        f"<= {THRESHOLD_CORES} (else redone)",
        "quiet" if worst <= THRESHOLD_CORES else "[yellow]noisy[/]",
    )


def render(results: dict[str, Any], console: Console) -> None:
    """Print the verdict table and how the figures were made."""
    thr, lat, mem = results["throughput"], results["latency"], results["memory"]
    bare, mock = thr["bare"], thr["mock"]
    ratio = thr["ratio"]
    settings = results["settings"]
    conns = settings["connections"]
    table = Table(title="REST ingest: mock-ft (validation + durable journal) vs bare ASGI app")
    for column in ("metric", "bare", "mock", "ratio / target", "verdict"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    table.add_row(
        f"throughput, wrk -c{conns} (events/s)",
        _num(bare["requests_per_sec"]),
        _num(mock["requests_per_sec"]),
        f"{ratio:.2f}x (>= {TARGETS['throughput_ratio']}x, aim {TARGETS['throughput_ratio_aim']}x)",
        _verdict(ratio >= TARGETS["throughput_ratio"]),
    )
    for key, label in (("p50_ms", "p50"), ("p99_ms", "p99")):
        table.add_row(
            f"{label} latency at saturation (ms)",
            _num(bare[key], 2),
            _num(mock[key], 2),
            f"{mock[key] / bare[key]:.1f}x" if bare[key] else "",
            "info",
        )
    if "round_ratios" in thr:
        table.add_row(
            "throughput ratio of each round",
            "",
            " ".join(f"{r:.2f}" for r in thr["round_ratios"]),
            f"ratio of medians {thr['ratio_of_medians']:.2f}x",
            "info",
        )
    errors_ok = mock["non_2xx"] == 0 and mock["socket_errors"] == 0
    table.add_row(
        "non-2xx / socket errors (wrk)",
        f"{bare['non_2xx']} / {bare['socket_errors']}",
        f"{mock['non_2xx']} / {mock['socket_errors']}",
        "0 / 0",
        _verdict(errors_ok),
    )
    check = thr["journal_check"]
    table.add_row(
        "journaled (accepted) vs wrk 2xx",
        "",
        f"{check['accepted']:,} / {check['wrk_ok']:,}",
        f"rejected {check['rejected']}, warned {check['warned']}",
        _verdict(bool(check["ok"]) and check["rejected"] == 0),
    )
    rate = lat["rate"]
    lb, lm = lat["bare"], lat["mock"]
    _load_row(table, "other CPU load in wrk runs (cores)", bare, mock)
    table.add_row(
        f"achieved rate, wrk paced at {rate:,}/s",
        _num(lb["requests_per_sec"]),
        _num(lm["requests_per_sec"]),
        f"{lm['requests_per_sec'] / rate:.2f}x of target",
        _verdict(lm["requests_per_sec"] >= 0.95 * rate and lm["non_2xx"] == 0),
    )
    table.add_row(
        f"p50 latency at {rate:,}/s (ms)", _num(lb["p50_ms"], 2), _num(lm["p50_ms"], 2), "", "info"
    )
    table.add_row(
        f"p99 latency at {rate:,}/s (ms)",
        _num(lb["p99_ms"], 2),
        _num(lm["p99_ms"], 2),
        f"< {TARGETS['p99_ms']:g} ms",
        _verdict(lm["p99_ms"] < TARGETS["p99_ms"]),
    )
    paced = lat["journal_check"]
    table.add_row(
        f"journaled at {rate:,}/s: accepted / duplicate / wrk 2xx",
        "",
        f"{paced['accepted']:,} / {paced['duplicate']:,} / {paced['wrk_ok']:,}",
        "every event new: 0 duplicates",
        _verdict(paced["duplicate"] == 0 and paced["rejected"] == 0 and paced["accepted"] > 0),
    )
    _load_row(table, "other CPU load in paced runs (cores)", lb, lm)
    table.add_row(
        f"RSS at {mem['events_small']:,} events", "", _mib(mem["rss_small"]), "baseline", ""
    )
    table.add_row(
        f"RSS at {mem['events_large']:,} events",
        "",
        _mib(mem["rss_large"]),
        f"{mem['rss_large'] / mem['rss_small']:.2f}x",
        "",
    )
    table.add_row(
        "RSS after GET /_mock/events + /stats",
        "",
        _mib(mem["rss_after_reads"]),
        f"{mem['growth']:.2f}x (< {TARGETS['rss_growth']}x)",
        _verdict(mem["growth"] < TARGETS["rss_growth"]),
    )
    fill = mem["fill_large"]
    table.add_row(
        "journal fill rate (events/s), size",
        "",
        _num(fill["events_per_sec"]),
        f"{mem['journal_bytes'] / MIB:,.0f} MiB on disk",
        "info",
    )
    console.print()
    console.print(table)
    machine = results["machine"]
    uv = results["uvicorn"]
    console.print(f"command:  {results['command']}")
    code = results["code"]
    console.print(
        f"code:     commit {code['commit']}, {code['mock_ft_modified_files']} modified file(s) in "
        f"mock_ft/ (sha256 of mock_ft/*.py {code['mock_ft_sha256']})"
    )
    console.print(
        f"machine:  {machine['nproc']} CPUs ({machine['cpu_model']}), {machine['os']}, "
        f"Linux {machine['kernel']}, {machine['memory_mib']:,} MiB RAM"
    )
    console.print(
        f"software: Python {machine['python']}, uvicorn {machine['uvicorn']} "
        f"(loop {uv['loop']}: uvloop {machine['uvloop']}, http {uv['http']}: httptools "
        f"{machine['httptools']}, access log {'on' if uv['access_log'] else 'off'}, proxy headers "
        f"{'on' if uv['proxy_headers'] else 'off'}, "
        f"log level {uv['log_level']}; both served via mock_ft.crm.runner.uvicorn_config), "
        f"wrk {machine['wrk']}"
    )
    console.print(
        f"method:   {machine['pinning']}; {settings['rounds']} alternating round(s) of "
        f"{settings['duration']:g} s per server, medians shown (the throughput ratio: the median "
        "of each round's mock/bare); wrk POSTs unique PAYMENT events, "
        f"paced: the same events, wrk -c{lat['connections']} held to {rate:,}/s by payment.lua's "
        "delay() (latency from each send: a stalled server delays the next sends, so the p99 "
        "understates what an open-loop client would see)"
    )
    console.print(f"took:     {results['elapsed_seconds']:,.0f} s")


def write_json(results: dict[str, Any], path: Path) -> None:
    """Write the results (creating bench/results/ if needed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def run_and_report(
    module: str,
    words: list[str],
    run: Callable[[str], dict[str, Any]],
    show: Callable[[dict[str, Any], Console], None],
    json_path: Path,
    console: Console,
    *,
    errors: tuple[type[BaseException], ...],
    stopped: str,
) -> int:
    """Run a benchmark, print and save its report: 0 whatever the figures, 2 when it could not
    run (one line saying why), 130 when interrupted (after `stopped` was cleaned up)."""
    command_line = shlex.join([".venv/bin/python", "-m", module, *words])
    started = time.monotonic()
    try:
        results = run(command_line)
    except errors as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
        print(f"bench: {first_line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"bench: interrupted; {stopped}", file=sys.stderr)
        return 130
    results["elapsed_seconds"] = round(time.monotonic() - started, 1)
    show(results, console)
    write_json(results, json_path)
    console.print(f"results written to {json_path}")
    return 0
