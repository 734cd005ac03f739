"""Commands that steer a running mock over its control API: `mock-ft faults`, `mock-ft delivery`.

So a QA engineer can say "fail 30% of payments with 503 and Retry-After 1" in one command while
the operator runs, and read afterwards whether it lost, duplicated or delayed anything.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

import httpx
import typer
from pydantic import ValidationError
from rich.markup import escape
from rich.table import Table

from mock_ft.errors import ConfigError, MockUnreachable
from mock_ft.faultspec import fault_spec, parse_fault
from mock_ft.terminal import friendly, human_ms, out

__all__ = ["delivery", "faults_app"]

faults_app = typer.Typer(
    help="Set, list and clear fault rules of a running mock.", no_args_is_help=True
)

FtUrl = Annotated[str, typer.Option("--ft-url", help="The running mock.", envvar="MOCK_FT_URL")]
_DEFAULT_URL = "http://127.0.0.1:8765"


def _call(ft_url: str, method: str, path: str, **kwargs: Any) -> Any:
    """One control-API call; its JSON answer, or a MockFTError that says what to do."""
    token = os.environ.get("MOCK_FT_CONTROL_TOKEN")
    headers = {"Content-Type": "application/json"}  # the mock takes changes only as JSON
    if token:
        headers["Authorization"] = f"Bearer {token}"
    url = ft_url.rstrip("/") + path
    try:
        response = httpx.request(method, url, headers=headers, timeout=30, **kwargs)
    except httpx.HTTPError as exc:
        msg = (
            f"cannot reach the mock at {ft_url} ({type(exc).__name__}); is `mock-ft serve` running?"
        )
        raise MockUnreachable(msg) from None
    if response.status_code == 401:
        msg = f"{ft_url} refused the control token; set MOCK_FT_CONTROL_TOKEN to the mock's token"
        raise MockUnreachable(msg)
    if response.status_code >= 400:
        try:
            body = response.json()
            problems = "; ".join(f"{p['path']}: {p['message']}" for p in body.get("problems", []))
            why = problems or body.get("message", response.text)
        except (ValueError, KeyError, TypeError, AttributeError):
            why = response.text[:300]
        msg = f"{method} {path} answered {response.status_code}: {why}"
        raise ConfigError(msg)
    return response.json()


@faults_app.command("add")
@friendly
def add_faults(
    rules: Annotated[
        list[str],
        typer.Argument(
            help="Rules in the --fault form, e.g. '503 retry_after=1 probability=30% type=PAYMENT'."
        ),
    ],
    ft_url: FtUrl = _DEFAULT_URL,
) -> None:
    """Add fault rules to a running mock (each checked before any is sent)."""
    specs = []
    for words in rules:
        try:
            specs.append(fault_spec(parse_fault(words)))
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            msg = f"fault rule {words!r}: {_first_line(exc)}"
            raise ConfigError(msg) from None
    for spec in specs:
        added = _call(ft_url, "POST", "/_mock/faults", json=spec.model_dump(exclude_defaults=True))
        out.print(f"added fault #{added['id']}: {spec.words()}")


JsonOpt = Annotated[bool, typer.Option("--json", help="Print the JSON answer, for tools.")]


@faults_app.command("list")
@friendly
def list_faults(ft_url: FtUrl = _DEFAULT_URL, as_json: JsonOpt = False) -> None:
    """List the live fault rules with how many attempts each acted on."""
    rules = _call(ft_url, "GET", "/_mock/faults")["data"]
    if as_json:
        out.print_json(data=rules)
        return
    if not rules:
        out.print("no fault rules")
        return
    for rule in rules:
        fields = {k: v for k, v in rule.items() if k not in ("id", "hits") and v is not None}
        spec = fault_spec(fields)
        out.print(f"#{rule['id']}  {spec.words()}  (hits {rule['hits']})")


@faults_app.command("clear")
@friendly
def clear_faults(
    rule_id: Annotated[int | None, typer.Argument(help="One rule; all when left out.")] = None,
    ft_url: FtUrl = _DEFAULT_URL,
) -> None:
    """Remove one fault rule, or all of them."""
    path = "/_mock/faults" if rule_id is None else f"/_mock/faults/{rule_id}"
    removed = _call(ft_url, "DELETE", path)["removed"]
    out.print(f"removed {removed} fault rule(s)")


@friendly
def delivery(
    ft_url: FtUrl = _DEFAULT_URL,
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
) -> None:
    """Delivery report of a run: lost, duplicated, retries, back-off, events expected; exit 1
    on a problem."""
    params: dict[str, Any] = {"hammer_ms": hammer_ms}
    for name, value in (("expected", expected), ("since", since), ("after_id", after_id)):
        if value is not None:
            params[name] = value
    report = _call(ft_url, "GET", "/_mock/delivery", params=params)
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


def _first_line(exc: Exception) -> str:
    """pydantic's errors without its boilerplate: `field: message` each."""
    if isinstance(exc, ValidationError):
        return "; ".join(
            (".".join(map(str, e["loc"])) + ": " if e["loc"] else "")
            + str(e["msg"]).removeprefix("Value error, ")
            for e in exc.errors()
        )
    return str(exc)
