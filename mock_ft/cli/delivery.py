"""`mock-ft delivery`: the delivery report of a run, from a running mock; exit 1 on a problem."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from mock_ft.cli.control import ControlAPI
from mock_ft.cli.options import ConfigOpt, FtUrlOpt, JsonOpt
from mock_ft.terminal import friendly, human_ms, out

if TYPE_CHECKING:
    from rich.table import Table

__all__ = ["delivery", "delivery_table"]


@friendly
def delivery(
    ft_url: FtUrlOpt = None,
    expected: Annotated[
        int | None, typer.Option(help="Events the run should have published.", show_default=False)
    ] = None,
    since: Annotated[
        float | None, typer.Option(help="Unix time the run started.", show_default=False)
    ] = None,
    after_id: Annotated[
        int | None, typer.Option(help="Only attempts with ids above it.", show_default=False)
    ] = None,
    hammer_ms: Annotated[float, typer.Option(help="A sooner retry counts as hammering.")] = 20.0,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Delivery report of a run: lost, duplicated, retries, back-off, events expected; exit 1
    on a problem."""
    from rich.markup import escape

    params: dict[str, Any] = {"hammer_ms": hammer_ms}
    for name, value in (("expected", expected), ("since", since), ("after_id", after_id)):
        if value is not None:
            params[name] = value
    report = ControlAPI.from_flags(config, ft_url).call("GET", "/_mock/delivery", params=params)
    problems = [*report["problems"], *_count_problems(report, expected)]
    if as_json:
        out.print_json(data={**report, "ok": not problems, "problems": problems})
        raise SystemExit(1 if problems else 0)
    out.print(delivery_table(report))
    for problem in problems:
        out.print(f"[bold red]✗[/] {escape(problem)}")
    if not problems:
        out.print("[bold green]✓[/] nothing lost, duplicated or hammered")
    raise SystemExit(1 if problems else 0)


def _count_problems(report: dict[str, Any], expected: int | None) -> list[str]:
    """More events than the run published is as wrong as fewer (which the report itself names
    as missing): say so, and by how many."""
    delivered: int = report["delivered"]
    if expected is None or delivered <= expected:
        return []
    return [
        f"{delivered:,} events delivered, {delivered - expected:,} more than the {expected:,} "
        "expected: something published events the run did not (another publisher, or one "
        "event sent again with a new key); narrow the run with --since or --after-id"
    ]


def delivery_table(report: dict[str, Any]) -> Table:
    """The report's figures as a two-column table."""
    from rich.table import Table

    table = Table(title="Delivery", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    expected = report["expected"]
    rows = [
        ("events delivered", f"{report['delivered']:,}" + _of(expected)),
        ("attempts (faulted)", f"{report['attempts']} ({report['faulted_attempts']})"),
        ("lost / missing", f"{report['lost']} / {report['missing'] or 0}"),
        ("duplicated", str(report["duplicated"])),
        ("attempts per event (max)", str(report["max_attempts"])),
        ("retries", str(report["retries"])),
        ("Retry-After honoured", _ratio(report["retry_after"])),
        ("hammering retries", str(report["hammering"])),
        ("retry gap p50 / p99", _pair(report["retry_gap_ms"], "p50", "p99")),
        ("delivery latency p99 / max", _pair(report["latency_ms"], "p99", "max")),
        ("first attempt to delivered p99 / max", _pair(report["time_to_deliver_ms"], "p99", "max")),
    ]
    for what, value in rows:
        table.add_row(what, value)
    return table


def _ratio(retry_after: dict[str, int]) -> str:
    return f"{retry_after['honoured']} of {retry_after['asked']}"


def _pair(values: dict[str, float | None], a: str, b: str) -> str:
    return " / ".join(human_ms(values[k]) for k in (a, b))


def _of(expected: int | None) -> str:
    return "" if expected is None else f" of {expected:,} expected"
