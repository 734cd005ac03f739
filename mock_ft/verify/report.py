"""Verification results as a console table, JUnit XML, JSON and a self-contained HTML scorecard."""

from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from rich.console import Console
from rich.table import Table

from mock_ft._version import __version__
from mock_ft.verify.model import STEPS, CheckResult, VerifyOptions

__all__ = ["print_summary", "write_reports"]


def _ordered(results: list[CheckResult]) -> list[CheckResult]:
    return sorted(results, key=lambda r: (STEPS.index(r.step), r.passed is not False))


def print_summary(console: Console, results: list[CheckResult]) -> None:
    """A table of every check, failures first within each step, then the verdict."""
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
        detail = "" if result.passed else result.message
        table.add_row(result.step, result.name, mark, detail)
    console.print(table)
    failed = [r for r in results if not r.passed]
    if failed:
        console.print(f"[bold red]NOT READY[/]: {len(failed)} of {len(results)} checks failed")
    else:
        console.print(f"[bold green]READY[/]: all {len(results)} checks passed")


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
    env = Environment(
        loader=PackageLoader("mock_ft.verify", "templates"), autoescape=select_autoescape()
    )
    html = env.get_template("scorecard.html.j2").render(
        steps=[(step, [r for r in _ordered(results) if r.step == step]) for step in STEPS],
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


def _junit(path: Path, results: list[CheckResult]) -> None:
    suites = ET.Element("testsuites", name="mock-ft verify")
    for step in STEPS:
        mine = [r for r in results if r.step == step]
        if not mine:
            continue
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=step,
            tests=str(len(mine)),
            failures=str(sum(not r.passed for r in mine)),
            skipped=str(sum(r.skipped for r in mine)),
        )
        for result in mine:
            case = ET.SubElement(
                suite, "testcase", classname=step, name=result.name, time=f"{result.seconds:.3f}"
            )
            if result.skipped:
                ET.SubElement(case, "skipped", message=result.message)
            elif not result.passed:
                failure = ET.SubElement(case, "failure", message=result.message)
                failure.text = "\n\n".join(
                    f"{e.method} {e.url} -> {e.status}\n{e.response_body or ''}\n"
                    f"reproduce: {e.reproduce()}"
                    for e in result.evidence
                )
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)
