"""Replay results as JSON, JUnit XML (one testsuite per scenario) and an HTML page."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, PackageLoader
from markupsafe import Markup

from mock_ft._version import __version__
from mock_ft.charts import histogram_chart, steps_chart
from mock_ft.charts.report import report_css
from mock_ft.scenarios.runner import ScenarioResult
from mock_ft.scenarios.target import Target
from mock_ft.verify.report import JUnitCase, write_junit

__all__ = ["write_replay_reports"]

DELIVERY_TARGET_MS = 1000.0  # FT's target for an event to arrive


def write_replay_reports(directory: Path, target: Target, results: list[ScenarioResult]) -> Path:
    """Write replay.json, replay-junit.xml and replay.html into `directory`; return the HTML."""
    directory.mkdir(parents=True, exist_ok=True)
    when = datetime.now(UTC).isoformat(timespec="seconds")
    counts = {s: sum(r.status == s for r in results) for s in ("passed", "failed", "skipped")}
    document = {
        "version": __version__,
        "generated_at": when,
        "ft_url": target.ft_url,
        "operator_url": target.operator_url,
        "passed": counts["failed"] == 0,
        "counts": counts,
        "scenarios": [dataclasses.asdict(r) for r in results],
    }
    (directory / "replay.json").write_text(json.dumps(document, indent=2))
    suites = [(r.name, _cases(r)) for r in results]
    write_junit(directory / "replay-junit.xml", "mock-ft replay", suites)
    env = Environment(loader=PackageLoader("mock_ft.scenarios", "templates"), autoescape=True)
    html = env.get_template("replay.html.j2").render(
        failures=[r for r in results if r.status != "passed"],
        passing=[r for r in results if r.status == "passed"],
        charts=_charts(results),
        css=report_css(),
        target=target,
        version=__version__,
        generated_at=when,
        **counts,
    )
    path = directory / "replay.html"
    path.write_text(html)
    return path


def _charts(results: list[ScenarioResult]) -> list[tuple[str, Markup]]:
    """Steps per scenario (pass / fail / skip), then how long each kind of step took against
    FT's 1 s delivery target (an `expect` step's time is how long the event took to show)."""
    rows = []
    for r in results:
        outcomes = [s.status for s in r.steps] or [r.status]
        counts = {o: outcomes.count(o) for o in ("passed", "failed")}
        rows.append((r.name, {**counts, "skipped": len(outcomes) - sum(counts.values())}))
    charts = [("Steps per scenario", steps_chart(rows, "Steps per scenario", "steps"))]
    by_kind: dict[str, list[float]] = {}
    for r in results:
        for step in r.steps:
            if step.status in ("passed", "failed"):
                by_kind.setdefault(step.kind, []).append(round(step.seconds * 1000, 1))
    for kind, values in sorted(by_kind.items()):
        title = f"{kind} steps: time of {len(values)} step(s) against FT's 1 s"
        charts.append((title, histogram_chart(title, values, DELIVERY_TARGET_MS)))
    return charts


def _cases(result: ScenarioResult) -> list[JUnitCase]:
    if result.status == "skipped" or not result.steps:
        status = "skipped" if result.status == "skipped" else result.status
        return [JUnitCase("scenario", result.seconds, status, result.reason, result.reason)]
    return [
        JUnitCase(
            step.label,
            step.seconds,
            "skipped" if step.status == "not run" else step.status,
            step.message or ("not run: an earlier step failed" if step.status == "not run" else ""),
            "\n".join([step.message, *step.diff]),
        )
        for step in result.steps
    ]
