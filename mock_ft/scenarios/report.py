"""Replay results as JSON, JUnit XML (one testsuite per scenario) and an HTML page."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

from mock_ft._version import __version__
from mock_ft.scenarios.runner import ScenarioResult
from mock_ft.scenarios.target import Target
from mock_ft.verify.report import JUnitCase, html_templates, write_junit

__all__ = ["write_replay_reports"]


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
    html = (
        html_templates("mock_ft.scenarios")
        .get_template("replay.html.j2")
        .render(results=results, target=target, version=__version__, generated_at=when, **counts)
    )
    path = directory / "replay.html"
    path.write_text(html)
    return path


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
