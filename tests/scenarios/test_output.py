"""What `mock-ft replay` prints: one line a scenario (or every step with -v, nothing with -q),
failures first in the summary, skip reasons, one line of totals, and a live bar for long steps."""

from __future__ import annotations

import asyncio
import io
import re
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from mock_ft.cli import app
from mock_ft.scenarios import load_scenarios, replay
from mock_ft.scenarios.output import summary
from mock_ft.scenarios.runner import ScenarioResult, StepResult
from mock_ft.scenarios.target import Target

DATA = Path(__file__).parent / "data"
SNAPSHOTS = Path(__file__).parent / "snapshots"


def _results() -> list[ScenarioResult]:
    passed = ScenarioResult("Logins", "scenarios/logins.yaml", "", [], 0, seconds=1.234)
    passed.steps = [StepResult("1 register", "operator", "passed", 0.2)]
    failed = ScenarioResult("Payments", "scenarios/payments.yaml", "", [], 0, "failed", "", 2.5)
    failed.steps = [
        StepResult("1 deposit", "operator", "passed", 0.3),
        StepResult(
            "2 expect a rollback",
            "expect",
            "failed",
            0.316,
            'expected at least 1 accepted PAYMENT event(s) where status "Rollback"; got 0',
            ["  closest: event #2 (PAYMENT, user 7001)", '  status: expected "Rollback"'],
        ),
        StepResult("3 [withdraw]", "operator", "not run"),
    ]
    skipped = ScenarioResult("Kafka volume", "scenarios/volume-kafka.yaml", "", [], 0, "skipped")
    skipped.reason = "needs kafka: pass --kafka-bootstrap"
    return [passed, failed, skipped]


def _console(terminal: bool = False) -> Console:
    return Console(
        record=True, width=100, color_system=None, file=io.StringIO(), force_terminal=terminal
    )


@pytest.mark.parametrize(("verbosity", "name"), [(0, "default"), (-1, "quiet")])
def test_print_replay_summary(verbosity: int, name: str) -> None:
    """Failures first with what was expected and what came, skip reasons, then the totals."""
    console = _console()
    code = summary(console, _results(), Path("reports/replay.html"), verbosity)
    assert code == 1
    assert console.export_text() == (SNAPSHOTS / f"summary-{name}.txt").read_text()


def test_exit_0_when_nothing_failed() -> None:
    """Passed and skipped scenarios only: exit 0, the totals without a failure count."""
    console = _console()
    results = [r for r in _results() if r.status != "failed"]
    assert summary(console, results, None) == 0
    assert console.export_text().splitlines()[-1] == "1 passed, 1 skipped in 1.2 s"


def _run(mock_url: str, console: Console, verbosity: int) -> str:
    scenarios = load_scenarios([str(DATA / "output")])
    results = asyncio.run(replay(scenarios, Target(ft_url=mock_url), console, verbosity=verbosity))
    assert [r.status for r in results] == ["passed"]
    return console.export_text()


def test_print_line_per_scenario_by_default(mock_url: str) -> None:
    """Without -v a scenario is one line: its mark, name, file and time."""
    text = _run(mock_url, _console(), 0)
    assert re.fullmatch(r"✓ A burst of payments \S+/volume\.yaml \d+(\.\d)? m?s\n", text), text


def test_print_nothing_while_running_when_quiet(mock_url: str) -> None:
    """-q prints nothing as it runs (the summary says it all)."""
    assert _run(mock_url, _console(), -1) == ""


def test_show_progress_of_long_step_on_terminal(mock_url: str) -> None:
    """On a terminal, a step sending many events draws a bar with its counts and rate."""
    text = _run(mock_url, _console(terminal=True), 0)
    assert "forty payments" in text
    assert "40/40" in text
    assert re.search(r"\d[\d,]*/s", text), text


def test_draw_no_progress_when_piped(mock_url: str) -> None:
    """Piped into a file or CI log, no bar is drawn."""
    assert "40/40" not in _run(mock_url, _console(), 0)


def test_list_every_problem_of_invalid_scenario(tmp_path: Path) -> None:
    """Three mistakes in one file: the command names all three, not the first and "2 more"."""
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "name: t\ndescription: proves\nsteps:\n"
        "  - operator: {path: /p, jsn: {}}\n"
        "  - wait: soon\n"
        "  - send: {type: PAYMENT, cont: 3}\n"
    )
    result = CliRunner().invoke(app, ["replay", str(broken)])
    assert result.exit_code == 2
    assert "Invalid scenario" in result.output
    assert "3 problems:" in result.output
    for where in ("step 1", "step 2", "step 3"):
        assert where in result.output
    assert "more)" not in result.output
