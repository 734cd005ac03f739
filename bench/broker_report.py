"""The broker benchmark's table: the mock's consumers against bare ones, and the sustained run."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from bench.quiet import THRESHOLD_CORES

__all__ = ["TARGETS", "render"]

TARGETS = {"throughput_ratio": 0.3, "throughput_ratio_aim": 0.5, "p99_ms": 50.0, "rate_share": 0.95}


def _verdict(ok: bool) -> str:
    return "[bold green]PASS[/]" if ok else "[bold red]FAIL[/]"


def _load(side: dict[str, Any]) -> str:
    return f"{side['foreign_cores_max']:.2f} (steal {side['steal_cores_max']:.2f})"


def _quiet(*loads: float) -> str:
    return "quiet" if max(loads) <= THRESHOLD_CORES else "[yellow]noisy[/]"


def _journal(checks: list[dict[str, int]], expected: int) -> tuple[str, bool]:
    accepted = sum(c.get("accepted", 0) for c in checks)
    others = sum(n for c in checks for v, n in c.items() if v not in ("accepted", "warned"))
    warned = sum(c.get("warned", 0) for c in checks)
    text = f"{accepted:,} accepted, {others} other, {warned:,} warned"
    return text, accepted == expected and others == 0


def _drain_rows(table: Table, name: str, figures: dict[str, Any]) -> None:
    base, mock, ratio = figures["baseline"], figures["mock"], figures["ratio"]
    table.add_row(
        f"{name}: drain {figures['events']:,} queued (events/s)",
        f"{base['events_per_sec']:,.0f}",
        f"{mock['events_per_sec']:,.0f}",
        f"{ratio:.2f}x (>= {TARGETS['throughput_ratio']}x, aim {TARGETS['throughput_ratio_aim']}x)",
        _verdict(ratio >= TARGETS["throughput_ratio"]),
    )
    if "durable" in figures:  # Kafka: the same records written to SQLite, a commit per fetch
        durable, ratio = figures["durable"], figures["durable_ratio"]
        table.add_row(
            f"{name}: drain vs a durable baseline (SQLite, a commit per fetch, no validation)",
            f"{durable['events_per_sec']:,.0f}",
            f"{mock['events_per_sec']:,.0f}",
            f"{ratio:.2f}x: what the mock's own work costs",
            "info",
        )
    table.add_row(
        f"{name}: mock events per group commit (median of drains)",
        "",
        f"{mock['events_per_commit']:,.1f}",
        "",
        "info",
    )
    runs = len(figures["journal"])
    text, ok = _journal(figures["journal"], figures["events"] * runs)
    table.add_row(f"{name}: mock journal, {runs} drain(s)", "", text, "all accepted", _verdict(ok))
    worst = max(
        base["foreign_cores_max"] + base["steal_cores_max"],
        mock["foreign_cores_max"] + mock["steal_cores_max"],
    )
    table.add_row(
        f"{name}: other CPU load (cores)",
        _load(base),
        _load(mock),
        f"<= {THRESHOLD_CORES} (else redone)",
        _quiet(worst),
    )


def _sustained_rows(table: Table, sus: dict[str, Any]) -> None:
    base, mock, rate = sus["baseline"], sus["mock"], sus["target_rate"]
    kept_up = mock["consumed"] == mock["published"]
    table.add_row(
        f"RabbitMQ paced {rate:,}/s for {sus['seconds']:g} s: consumed (events/s)",
        f"{base['consumed_rate']:,.0f}",
        f"{mock['consumed_rate']:,.0f}",
        f"{mock['consumed_rate'] / rate:.2f}x of target ({mock['publish_rate']:,.0f} published/s)",
        _verdict(kept_up and mock["consumed_rate"] >= TARGETS["rate_share"] * rate),
    )
    for key, label in (("p50_ms", "p50"), ("p99_ms", "p99"), ("max_ms", "max")):
        target = f"< {TARGETS['p99_ms']:g} ms" if key == "p99_ms" else ""
        verdict = _verdict(kept_up and mock[key] < TARGETS["p99_ms"]) if target else "info"
        table.add_row(
            f"  {label} publish-to-consumer (ms; mock: journal row)",
            f"{base[key]:,.1f}",
            f"{mock[key]:,.1f}",
            target,
            verdict,
        )
    table.add_row(
        "  p99 publish-to-broker-confirm (ms)",
        f"{base['confirm']['p99_ms']:,.1f}",
        f"{mock['confirm']['p99_ms']:,.1f}",
        "",
        "info",
    )
    table.add_row(
        "  mock events per group commit", "", f"{mock['events_per_commit']:,.1f}", "", "info"
    )
    table.add_row(
        "  consumer CPU per event (µs; baseline: its whole run)",
        f"{base['cpu_us_per_event']:,.0f}",
        f"{mock['cpu_us_per_event']:,.0f}",
        f"{mock['cpu_us_per_event'] / base['cpu_us_per_event']:.1f}x"
        if base["cpu_us_per_event"]
        else "",
        "info",
    )
    text, ok = _journal([mock["journal"]], mock["published"] + mock["warmup_events"])
    table.add_row("  mock journal", "", text, "all accepted", _verdict(ok))
    table.add_row(
        "  other CPU load (cores)",
        f"{base['foreign_cores']:.2f} (steal {base['steal_cores']:.2f})",
        f"{mock['foreign_cores']:.2f} (steal {mock['steal_cores']:.2f})",
        f"<= {THRESHOLD_CORES}",
        _quiet(
            base["foreign_cores"] + base["steal_cores"], mock["foreign_cores"] + mock["steal_cores"]
        ),
    )


def render(results: dict[str, Any], console: Console) -> None:
    """Print the verdict table and how the figures were made."""
    settings, sus = results["settings"], results["sustained"]
    table = Table(title="Broker ingest: mock-ft consumers vs bare consumers (take + ack only)")
    for column in ("metric", "baseline", "mock", "ratio / target", "verdict"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    _drain_rows(table, "RabbitMQ", results["rabbitmq"])
    _drain_rows(table, "Kafka", results["kafka"])
    _sustained_rows(table, sus)
    console.print()
    console.print(table)
    machine, code = results["machine"], results["code"]
    console.print(f"command:  {results['command']}")
    console.print(
        f"code:     commit {code['commit']}, {code['mock_ft_modified_files']} modified file(s) in "
        f"mock_ft/ (sha256 of mock_ft/*.py {code['mock_ft_sha256']})"
    )
    console.print(
        f"machine:  {machine['nproc']} CPUs ({machine['cpu_model']}), {machine['os']}, "
        f"Linux {machine['kernel']}, {machine['memory_mib']:,} MiB RAM, "
        f"Python {machine['python']}, uvloop {machine['uvloop']}"
    )
    console.print(f"pinning:  {machine['pinning']}")
    console.print(
        f"method:   drains: {settings['rounds']} alternating round(s) per side, medians; each on "
        f"a fresh durable queue / one-partition topic filled before the consumer starts (1,000 "
        f"users, unique payment ids), timed from the first event in hand (mock: first journaled, "
        f"polled every 10 ms, those already journaled left out) to the last; RabbitMQ prefetch "
        f"{settings['prefetch']}, Kafka {results['kafka']['broker']}, 1,000 records per fetch; the "
        f"Kafka durable baseline writes each fetch to SQLite (WAL, synchronous=NORMAL, one row per "
        f"record, one transaction) before committing the offset. Events per group commit: the "
        f"mock consumer's consumed / batches from /_mock/health (warm-up included). "
        f"Paced: one run per side after {sus['mock']['warmup_events']} warm-up events, publisher "
        f"confirms on; latency = publish call to message in the bare consumer's hand / to the "
        f"mock's journal row (read every {sus['mock']['poll_ms']:g} ms)"
    )
    console.print(f"took:     {results['elapsed_seconds']:,.0f} s")
