"""`mock-ft replay` against a real local stack: the mock and the reference operator."""

from __future__ import annotations

import asyncio
import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from mock_ft.cli import app
from mock_ft.crm import create_app
from mock_ft.crm.runner import ServerThread
from mock_ft.scenarios import Target, load_scenarios, replay
from mock_ft.scenarios.report import write_replay_reports
from mock_ft.scenarios.runner import ScenarioResult
from mock_ft.scenarios.stack import local_stack
from mock_ft.settings import Settings
from tests import web
from tests.serve_process import run_cli

DATA = Path(__file__).parent / "data"
SNAPSHOTS = Path(__file__).parent / "snapshots"


@pytest.fixture(scope="module")
def stack() -> Iterator[Target]:
    with local_stack(rabbitmq_url="", kafka_bootstrap=None) as target:  # "": no broker here
        yield target


def _replay(target: Target, *names: str, **options: object) -> tuple[list[ScenarioResult], str]:
    console = Console(record=True, width=120, color_system=None, file=io.StringIO())
    scenarios = load_scenarios([str(DATA / name) for name in names])
    results = asyncio.run(replay(scenarios, target, console, **options))  # type: ignore[arg-type]
    return results, console.export_text()


def _normalise(text: str) -> str:
    text = text.replace(f"{DATA}/", "tests/scenarios/data/")
    text = re.sub(r"\b\d+(\.\d+)? (ms|s)\b", "T", text)
    text = re.sub(r"#\d+", "#N", text)
    return re.sub(r"snap[0-9a-f]{12}", "snapRUN", text)


def test_replay_passing_scenario(stack: Target) -> None:
    """Sends, repeats, captures, faults and expectations all pass on a correct stack."""
    [result], _ = _replay(stack, "injected-events.yaml")
    assert result.status == "passed", [(s.label, s.message, s.diff) for s in result.steps]
    assert [s.status for s in result.steps] == ["passed"] * 11


def test_show_diff_of_failed_expectation(stack: Target) -> None:
    """A failed expectation prints what was expected, the closest event and each differing field;
    the steps after it are not run."""
    [result], text = _replay(stack, "failing-expectation.yaml")
    assert result.status == "failed"
    assert [s.status for s in result.steps] == ["passed", "passed", "failed", "not run"]
    expected = (SNAPSHOTS / "failing-expectation.txt").read_text()
    assert _normalise(text) == expected


def test_skip_scenario_without_broker(stack: Target) -> None:
    """A scenario needing Kafka is skipped, saying how to provide it."""
    [result], _ = _replay(stack, "needs-kafka.yaml")
    assert (result.status, result.reason) == ("skipped", "needs kafka: pass --kafka-bootstrap")


def test_stop_at_first_failure(stack: Target) -> None:
    """--fail-fast stops after the first failed scenario."""
    results, _ = _replay(stack, "failing-expectation.yaml", "injected-events.yaml", fail_fast=True)
    assert [r.status for r in results] == ["failed"]


def test_write_replay_reports(stack: Target, tmp_path: Path) -> None:
    """JSON, JUnit (a testsuite per scenario, a testcase per step) and HTML."""
    results, _ = _replay(stack, "failing-expectation.yaml", "needs-kafka.yaml")
    html = write_replay_reports(tmp_path, stack, results)
    document = json.loads((tmp_path / "replay.json").read_text())
    assert document["counts"] == {"passed": 0, "failed": 1, "skipped": 1}
    suites = ET.parse(tmp_path / "replay-junit.xml").getroot().findall("testsuite")  # noqa: S314 - our file
    assert [(s.get("name"), s.get("failures"), s.get("skipped")) for s in suites] == [
        ("A payment that is not what QA expected", "1", "1"),
        ("Needs Kafka", "0", "1"),
    ]
    failure = suites[0].find("testcase/failure")
    assert failure is not None
    assert 'status: expected "Rollback", got "Approved"' in (failure.text or "")
    assert "closest: event" in html.read_text()


def test_refuse_invalid_scenario_from_cli(tmp_path: Path) -> None:
    """An invalid file: exit 2, one headline, the problem with file and line, no traceback."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ndescription: y\nsteps:\n  - send: {type: PAYMNT}\n")
    result = run_cli("replay", str(bad), timeout=60)
    assert result.returncode == 2
    assert "Invalid scenario" in result.stderr
    assert f"{bad} line 4, step 1: $.steps[0].send.type" in result.stderr
    assert "Traceback" not in result.stderr


def test_refuse_url_stack_without_mock(tmp_path: Path) -> None:
    """--stack url needs --ft-url."""
    result = run_cli("replay", str(DATA / "needs-kafka.yaml"), "--stack", "url", timeout=60)
    assert result.returncode == 2
    assert "--stack url needs --ft-url" in result.stderr


def test_refuse_tags_nothing_has() -> None:
    """--tags that match nothing is a usage error, not an empty pass."""
    result = run_cli("replay", str(DATA), "--tags", "nothing-has-this", timeout=60)
    assert result.returncode == 2
    assert "no scenario has any of the tags nothing-has-this" in result.stderr


def test_replay_from_cli_with_tags(tmp_path: Path) -> None:
    """`mock-ft replay DIR --tags quick` starts the local stack, runs the tagged one, exits 0."""
    result = run_cli(
        "replay", str(DATA), "--tags", "quick", "--report-dir", str(tmp_path), timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^1 passed in [\d.]+ m?s$", result.stdout, re.MULTILINE), result.stdout
    assert (tmp_path / "replay-junit.xml").is_file()


def test_exit_1_when_a_scenario_fails(tmp_path: Path) -> None:
    """A failed scenario: exit 1, the diff printed, the reports written, the same seed reported."""
    failing = str(DATA / "failing-expectation.yaml")
    result = run_cli("replay", failing, "--seed", "11", "--report-dir", str(tmp_path), timeout=120)
    assert result.returncode == 1
    assert 'status: expected "Rollback", got "Approved"' in result.stdout
    document = json.loads((tmp_path / "replay.json").read_text())
    assert document["scenarios"][0]["seed"] == 3  # the file's own seed wins over --seed


def test_replay_against_mock_with_control_token(tmp_path: Path) -> None:
    """`--stack url` against a token-protected mock: every control call carries the token."""
    settings = Settings(journal=str(tmp_path / "j.sqlite3"), control_token="t0k-replay")
    with ServerThread(create_app(settings)) as server:
        target = Target(ft_url=server.url, control_token="t0k-replay")
        [result], _ = _replay(target, "injected-events.yaml")
    assert result.status == "passed", [(s.label, s.message) for s in result.steps]


def test_replay_from_cli_against_running_mock(tmp_path: Path) -> None:
    """`mock-ft replay --stack url --ft-url URL` runs the scenarios against that mock, writes the
    reports, and sends the run to the mock's dashboard (/_mock/runs)."""
    settings = Settings(journal=str(tmp_path / "j.sqlite3"))
    reports = tmp_path / "reports"
    scenario = str(DATA / "injected-events.yaml")
    with ServerThread(create_app(settings)) as server:
        arguments = ["replay", scenario, "--stack", "url", "--ft-url", server.url]
        result = CliRunner().invoke(app, [*arguments, "--report-dir", str(reports)])
        assert result.exit_code == 0, result.output
        runs = web.get(f"{server.url}/_mock/runs", params={"kind": "replay"}).json()["data"]
    assert [run["document"]["counts"]["passed"] for run in runs] == [1]
    assert (reports / "replay.json").is_file()
