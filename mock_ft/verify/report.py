"""Verification results as a console table, JUnit XML, JSON and a self-contained HTML scorecard."""

from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, PackageLoader
from markupsafe import Markup
from rich.console import Console
from rich.markup import escape
from rich.rule import Rule
from rich.table import Table

from mock_ft._version import __version__
from mock_ft.charts import histogram_chart, steps_chart
from mock_ft.charts.report import report_css
from mock_ft.terminal import counts_line
from mock_ft.verify.latency import LATENCY_SUFFIX
from mock_ft.verify.model import STEPS, CheckResult, VerifyOptions

__all__ = ["JUnitCase", "post_run", "print_summary", "write_junit", "write_reports"]


def _ordered(results: list[CheckResult]) -> list[CheckResult]:
    return sorted(results, key=lambda r: (STEPS.index(r.step), r.passed is not False))


def print_summary(
    console: Console, results: list[CheckResult], seconds: float, verbosity: int = 0
) -> None:
    """Failures first, each with what to fix; then skip reasons; then the one-line verdict.

    `verbosity` -1 (`-q`): failures on one line each and the verdict; 1 (`-v`): a table of every
    check before them.
    """
    if verbosity > 0:
        console.print(_table(results))
    failed = [r for r in _ordered(results) if not r.passed]
    skipped = [r for r in _ordered(results) if r.skipped]
    if failed:
        console.print(Rule("failures", style="red", align="left"))
    for result in failed:
        console.print(f"[bold red]✗[/] {escape(result.step)} › {escape(result.name)}")
        console.print(f"    {escape(result.message)}", style="red")
        if verbosity >= 0 and result.evidence:
            exchange = result.evidence[0]
            console.print(f"    reproduce: {escape(exchange.reproduce())}", style="dim")
    if skipped and verbosity >= 0:
        console.print(Rule("skipped", style="yellow", align="left"))
        for result in skipped:
            console.print(f"[yellow]-[/] {escape(result.name)}: {escape(result.message)}")
    line = counts_line(
        len(failed), sum(r.passed and not r.skipped for r in results), len(skipped), seconds
    )
    if failed:
        console.print(f"[bold red]NOT READY[/]: {line}")
    else:
        console.print(f"[bold green]READY[/]: {line}")


def _table(results: list[CheckResult]) -> Table:
    """Every check, in FT's step order, failures first within each step."""
    table = Table(title="mock-ft verify", show_lines=False)
    table.add_column("step")
    table.add_column("check")
    table.add_column("result")
    table.add_column("detail", overflow="fold")
    for result in _ordered(results):
        mark = (
            "[yellow]skip[/]"
            if result.skipped
            else "[green]pass[/]"
            if result.passed
            else "[bold red]FAIL[/]"
        )
        detail = "" if result.passed and not result.skipped else result.message
        table.add_row(escape(result.step), escape(result.name), mark, escape(detail))
    return table


def write_reports(directory: Path, options: VerifyOptions, results: list[CheckResult]) -> Path:
    """Write report.json, junit.xml and report.html into `directory`; return the HTML path."""
    directory.mkdir(parents=True, exist_ok=True)
    when = datetime.now(UTC).isoformat(timespec="seconds")
    (directory / "report.json").write_text(
        json.dumps(
            {
                "version": __version__,
                "generated_at": when,
                "operator_url": options.operator_url,
                "ft_url": options.ft_url,
                "passed": all(r.passed for r in results),
                "checks": [dataclasses.asdict(r) for r in _ordered(results)],
            },
            indent=2,
        )
    )
    _junit(directory / "junit.xml", results)
    # Autoescape on for .j2 too: every operator-supplied text is escaped; charts are Markup.
    env = Environment(loader=PackageLoader("mock_ft.verify", "templates"), autoescape=True)
    ordered = _ordered(results)
    html = env.get_template("scorecard.html.j2").render(
        failures=[r for r in ordered if not r.passed],
        steps=[(step, [r for r in ordered if r.step == step and r.passed]) for step in STEPS],
        charts=_charts(results, options),
        css=report_css(),
        passed=all(r.passed for r in results),
        failed=sum(not r.passed for r in results),
        total=len(results),
        options=options,
        generated_at=when,
        version=__version__,
    )
    path = directory / "report.html"
    path.write_text(html)
    return path


def _outcome(result: CheckResult) -> str:
    return "skipped" if result.skipped else "passed" if result.passed else "failed"


def _charts(results: list[CheckResult], options: VerifyOptions) -> list[tuple[str, Markup]]:
    """Checks per step (pass / fail / skip), then a latency histogram per endpoint."""
    rows = []
    for step in STEPS:
        mine = [_outcome(r) for r in results if r.step == step]
        if mine:
            rows.append((step, {o: mine.count(o) for o in ("passed", "failed", "skipped")}))
    charts = [("Checks per step", steps_chart(rows))]
    for result in results:
        if result.step == "Latency" and result.samples_ms:
            endpoint = result.name.replace(LATENCY_SUFFIX, "")  # "userdetails under 4 ..."
            title = f"{endpoint}: latency of {len(result.samples_ms)} call(s)"
            chart = histogram_chart(title, result.samples_ms, options.p95_budget_ms)
            charts.append((title, chart))
    return charts


@dataclasses.dataclass(slots=True, frozen=True)
class JUnitCase:
    """One testcase of a JUnit report."""

    name: str
    seconds: float
    status: str  # passed, failed, skipped
    message: str = ""
    text: str = ""


def write_junit(path: Path, title: str, suites: list[tuple[str, list[JUnitCase]]]) -> None:
    """A JUnit XML file: one testsuite per (name, cases); used by verify and replay alike."""
    root = ET.Element("testsuites", name=title)
    for name, cases in suites:
        suite = ET.SubElement(
            root,
            "testsuite",
            name=name,
            tests=str(len(cases)),
            failures=str(sum(c.status == "failed" for c in cases)),
            skipped=str(sum(c.status == "skipped" for c in cases)),
        )
        for case in cases:
            node = ET.SubElement(
                suite, "testcase", classname=name, name=case.name, time=f"{case.seconds:.3f}"
            )
            if case.status == "skipped":
                ET.SubElement(node, "skipped", message=case.message)
            elif case.status == "failed":
                ET.SubElement(node, "failure", message=case.message).text = case.text
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def _junit(path: Path, results: list[CheckResult]) -> None:
    suites = []
    for step in STEPS:
        mine = [r for r in results if r.step == step]
        if mine:
            suites.append((step, [_case(r) for r in mine]))
    write_junit(path, "mock-ft verify", suites)


def _case(result: CheckResult) -> JUnitCase:
    status = _outcome(result)
    text = "\n\n".join(
        f"{e.method} {e.url} -> {e.status}\n{e.response_body or ''}\nreproduce: {e.reproduce()}"
        for e in result.evidence
    )
    return JUnitCase(result.name, result.seconds, status, result.message, text)


def post_run(ft_url: str, kind: str, report: Path, token: str | None = None) -> str | None:
    """Send a written report to a mock's /_mock/runs (its dashboard shows it); why not, or None.

    Best effort: the files are the record; a mock that is away only misses the scorecard.
    """
    import httpx

    from mock_ft.tls import client_tls

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {"kind": kind, "document": json.loads(report.read_text())}
    try:
        response = httpx.post(
            f"{ft_url.rstrip('/')}/_mock/runs",
            json=body,
            headers=headers,
            timeout=10,
            verify=client_tls(),
        )
    except httpx.HTTPError as exc:
        return f"could not send the report to {ft_url}: {type(exc).__name__}"
    if response.status_code != 201:
        return f"{ft_url} refused the report: {response.status_code}"
    return None
