"""bench.instances' table: one column per setup, each figure with its ratio to SQLite x1."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = ["render"]


def _cell(value: float | None, ratio: float | None = None, digits: int = 0) -> str:
    if value is None:
        return "-"
    text = f"{value:,.{digits}f}"
    return f"{text} ({ratio:.2f}x)" if ratio is not None else text


def _worst_load(row: dict[str, Any]) -> str:
    return f"{max(row['throughput']['foreign_cores_max'], row['paced']['foreign_cores_max']):.2f}"


def _rows(setups: dict[str, Any], rate: int) -> list[tuple[str, list[str]]]:
    def each(phase: str, key: str, digits: int = 0, ratio: bool = False) -> list[str]:
        cells = []
        for row in setups.values():
            figures = row[phase]
            shown = figures["ratios"].get(key) if ratio else None
            cells.append(_cell(figures[key], shown, digits))
        return cells

    def per_event(side: str) -> list[str]:
        cells = []
        for row in setups.values():
            value = row["cpu_us_per_event"].get(side)
            cells.append("-" if value is None else f"{value:,.0f} µs")
        return cells

    def findings(phase: str) -> list[str]:
        return [
            ", ".join(f"{code} {n:,}" for code, n in sorted(row[phase]["warnings"].items()))
            or "none"
            for row in setups.values()
        ]

    check = [
        f"{row['journal_check']['journaled']:,} / {row['journal_check']['wrk_2xx']:,}"
        for row in setups.values()
    ]
    paced = [
        f"{row['paced_journal_check']['journaled']:,} / "
        f"{row['paced_journal_check']['duplicate']:,} / {row['paced_journal_check']['wrk_2xx']:,}"
        for row in setups.values()
    ]
    return [
        ("events/s at saturation (wrk)", each("throughput", "requests_per_sec", ratio=True)),
        ("events per CPU-second, mocks", each("throughput", "events_per_mock_cpu_s", ratio=True)),
        ("events per CPU-second, mocks + DB", each("throughput", "events_per_cpu_s", ratio=True)),
        ("mock CPU per event", per_event("mock")),
        ("PostgreSQL backends' CPU per event", per_event("db")),
        ("p99 at saturation (ms)", each("throughput", "p99_ms", 2)),
        ("journaled / wrk 2xx", check),
        (f"achieved rate, paced at {rate:,}/s", each("paced", "requests_per_sec")),
        (f"p50 at {rate:,}/s (ms)", each("paced", "p50_ms", 2)),
        (f"p99 at {rate:,}/s (ms)", each("paced", "p99_ms", 2)),
        (f"non-2xx at {rate:,}/s", [str(row["paced"]["non_2xx"]) for row in setups.values()]),
        (f"at {rate:,}/s: journaled / duplicates / wrk 2xx", paced),
        ("findings journaled at saturation", findings("throughput")),
        (f"findings journaled at {rate:,}/s", findings("paced")),
        ("other CPU load, worst run (cores)", [_worst_load(row) for row in setups.values()]),
    ]


def render(results: dict[str, Any], console: Console) -> None:
    """Print the side-by-side table and how it was made."""
    setups = results["setups"]
    settings = results["settings"]
    table = Table(
        title="REST ingest: SQLite vs PostgreSQL, one and two instances (ratio to sqlite x1)"
    )
    table.add_column("metric")
    for name in setups:
        table.add_column(name, justify="right")
    for label, cells in _rows(setups, settings["rate"]):
        table.add_row(label, *cells)
    console.print()
    console.print(table)
    if results["skipped"]:
        console.print(f"[yellow]{results['skipped']}[/]")
    machine, code = results["machine"], results["code"]
    console.print(f"command:  {results['command']}")
    console.print(
        f"code:     commit {code['commit']}, {code['mock_ft_modified_files']} modified file(s) in "
        f"mock_ft/; PostgreSQL {results['postgresql']['version'] or 'absent'}"
    )
    console.print(
        f"machine:  {machine['nproc']} CPUs ({machine['cpu_model']}), {machine['os']}, "
        f"Python {machine['python']}; mocks on core 0, wrk on core 1, PostgreSQL unpinned"
    )
    console.print(
        f"method:   {settings['rounds']} alternating round(s) of {settings['duration']:g} s per "
        "setup, medians (ratios: median of each round's ratio); "
        f"wrk -t2 -c{settings['connections']} unique PAYMENTs, its threads round robin over the "
        f"instances; paced: the same events, wrk -c{settings['paced_connections']} with one thread "
        "per instance at its share of the rate, held to it by payment.lua's delay() (latency "
        "from each send, so a stall that delays the next sends is not in the p99); "
        "CPU = user + system of the mocks and of the backends "
        "serving the run's database (PostgreSQL's shared processes not counted)"
    )
    console.print(f"took:     {results['elapsed_seconds']:,.0f} s")
