"""The mock-ft command: exit codes, one-headline errors, demo."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mock_ft import __version__
from mock_ft.cli import app
from tests.brokers import in_ci
from tests.serve_process import run_cli

runner = CliRunner()
LIBRARY = Path(__file__).parents[1] / "scenarios"


def test_print_version() -> None:
    """--version prints the version and exits 0."""
    result = runner.invoke(app, ["--version"])
    assert (result.exit_code, result.output.strip()) == (0, f"mock-ft {__version__}")


@pytest.mark.parametrize(
    ("args", "headline", "detail"),
    [
        (["serve", "--config", "missing.yaml"], "Invalid configuration", "does not exist"),
        (["serve", "--host", "0.0.0.0"], "Invalid configuration", "MOCK_FT_CONTROL_TOKEN"),  # noqa: S104
        (["serve", "--api-key-header", "bad header"], "Invalid configuration", "header name"),
    ],
)
def test_exit_2_with_headline_on_bad_settings(args: list[str], headline: str, detail: str) -> None:
    """A configuration mistake prints a headline and an explanation and exits 2."""
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert headline in result.output
    assert detail in result.output
    assert "Traceback" not in result.output


def test_exit_2_on_unknown_config_key(tmp_path: Path) -> None:
    """An unknown config key is named with a suggestion."""
    config = tmp_path / "c.yaml"
    config.write_text("prot: 1\n")
    result = runner.invoke(app, ["serve", "--config", str(config)])
    assert result.exit_code == 2
    assert "did you mean 'port'" in result.output


def test_exit_2_on_unusable_journal(tmp_path: Path) -> None:
    """A journal that cannot be opened exits 2 with the journal headline."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = runner.invoke(app, ["serve", "--port", "0", "--journal", str(blocker / "j.sqlite3")])
    assert result.exit_code == 2
    assert "Journal unavailable" in result.output


def test_exit_2_on_unknown_option() -> None:
    """Usage errors exit 2 too."""
    assert runner.invoke(app, ["serve", "--bogus"]).exit_code == 2


@pytest.fixture
def kafka_if_any(request: pytest.FixtureRequest) -> str | None:
    """The Kafka broker (always there under CI); None when there is none to start here."""
    try:
        bootstrap: str = request.getfixturevalue("kafka_bootstrap")
    except pytest.skip.Exception:
        return None
    return bootstrap


def test_run_demo_end_to_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kafka_if_any: str | None
) -> None:
    """The demo runs the stack, verification, the scenario library (RabbitMQ and Kafka
    included: the one run of the whole library) and every event sample."""
    # The flow is under test, not the speed: FT's latency and freshness targets are set out of
    # reach of any machine's load (the comparisons are tested on set durations elsewhere).
    monkeypatch.setenv("MOCK_FT_FRESHNESS_TARGET_MS", "3600000")
    journal = str(tmp_path / "demo.sqlite3")
    reports = tmp_path / "reports"
    untimed = ["--p95-budget-ms", "3600000", "--event-wait", "3600"]
    arguments = ["demo", "--exit", "--journal", journal, *untimed, "--scenarios", str(LIBRARY)]
    if kafka_if_any:
        arguments += ["--kafka-bootstrap", kafka_if_any]
    result = runner.invoke(app, [*arguments, "--report-dir", str(reports)])
    assert result.exit_code == 0, result.output
    counts = json.loads((reports / "replay.json").read_text())["counts"]
    assert counts["passed"] == len(list(LIBRARY.glob("*.yaml"))) - counts["skipped"]
    if in_ci():  # every broker is there under CI: nothing may be skipped
        assert counts["skipped"] == 0
    # the reference operator, verified against the mock
    assert re.search(r"^READY: \d+ passed", result.output, re.MULTILINE), result.output
    assert "every verdict as expected" in result.output
    # Its first line comes before anything slow starts.
    assert result.output.startswith("mock-ft demo: starting the mock and the reference operator")
    # A p99 past FT's 1 s target is explained, never shown as if it passed.
    shown = re.search(r"p99 delivery latency [\d.]+ (ms|s|min)", result.output)
    assert shown is not None, result.output
    assert shown.group(1) == "ms" or "is above FT's 1 s target" in result.output
    assert " 0 failed" in result.output  # the scenario library
    for word in ("USER_CREATE_V2", "POKER_CASH_GAME_CASH_OUT_V2", "validation_failed", "/ui"):
        assert word in result.output
    assert {p.name for p in reports.iterdir()} >= {"report.html", "replay.html", "junit.xml"}


def test_run_as_python_module() -> None:
    """python -m mock_ft is the same command, and errors carry no traceback."""
    result = run_cli("serve", "--config", "nope.yaml")
    assert result.returncode == 2
    assert "Invalid configuration" in result.stderr
    assert "Traceback" not in result.stderr
