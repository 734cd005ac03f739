"""`mock-ft delivery` and `faults list` for people (rounded numbers) and for tools (--json)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mock_ft.cli import app
from mock_ft.crm import create_app
from mock_ft.crm.runner import ServerThread
from mock_ft.settings import Settings
from tests import web
from tests.conftest import KEY_HEADERS
from tests.ft_events import ft_event

runner = CliRunner()


def _publish(mock_url: str, count: int) -> None:
    for number in range(count):
        path, body = ft_event("PAYMENT", payment_id=f"p-{number}")
        answer = web.post(f"{mock_url}{path}", json=body, headers=KEY_HEADERS)
        assert answer.status_code == 200, answer.text


def test_fail_delivery_when_more_arrived_than_expected(mock_url: str) -> None:
    """Three delivered, two expected: exit 1, saying how many more and what to look at."""
    _publish(mock_url, 3)
    result = runner.invoke(app, ["delivery", "--ft-url", mock_url, "--expected", "2"])
    assert result.exit_code == 1, result.output
    assert "3 of 2 expected" in result.output
    assert "3 events delivered, 1 more than the 2 expected" in result.output


def test_fail_delivery_when_fewer_arrived_than_expected(mock_url: str) -> None:
    """Two delivered, three expected: exit 1, naming the missing one."""
    _publish(mock_url, 2)
    result = runner.invoke(app, ["delivery", "--ft-url", mock_url, "--expected", "3"])
    assert result.exit_code == 1, result.output
    assert "1 of 3 expected event(s) never arrived" in result.output


def test_pass_delivery_when_expected_count_arrived(mock_url: str) -> None:
    """Exactly as many as expected, nothing lost: exit 0, durations rounded for people."""
    _publish(mock_url, 2)
    result = runner.invoke(app, ["delivery", "--ft-url", mock_url, "--expected", "2"])
    assert result.exit_code == 0, result.output
    assert "2 of 2 expected" in result.output
    assert not re.search(r"\d\.\d\d", result.output), result.output  # "4.3 ms", never "4.312"


def test_print_delivery_as_json(mock_url: str) -> None:
    """--json prints the report with the command's own verdict, for tools."""
    _publish(mock_url, 3)
    result = runner.invoke(app, ["delivery", "--ft-url", mock_url, "--expected", "2", "--json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert (report["delivered"], report["ok"]) == (3, False)
    assert any("1 more than the 2 expected" in p for p in report["problems"])


def test_list_faults_as_json(mock_url: str) -> None:
    """`faults list --json` prints the rules as the control API answers them."""
    added = runner.invoke(app, ["faults", "add", "503 first=1 type=PAYMENT", "--ft-url", mock_url])
    assert added.exit_code == 0, added.output
    result = runner.invoke(app, ["faults", "list", "--ft-url", mock_url, "--json"])
    assert result.exit_code == 0, result.output
    [rule] = json.loads(result.output)
    assert (rule["status"], rule["event_type"], rule["hits"]) == (503, "PAYMENT", 0)


def test_find_mock_through_config_file(mock_url: str, tmp_path: Path) -> None:
    """`url` in --config points `faults` at the mock, as --ft-url or MOCK_FT_URL would."""
    config = tmp_path / "mock-ft.yaml"
    config.write_text(f"url: {mock_url}\n")
    added = runner.invoke(app, ["faults", "add", "503 type=PAYMENT", "--config", str(config)])
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["faults", "list", "--json", "--config", str(config)])
    cleared = runner.invoke(app, ["faults", "clear", "--config", str(config)])
    assert [rule["status"] for rule in json.loads(listed.output)] == [503]
    assert cleared.output.strip() == "removed 1 fault rule(s)"


def test_send_control_token_from_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mock with a control token answers `faults list` when MOCK_FT_CONTROL_TOKEN is set."""
    token = "a-control-token-of-some-length"
    settings = Settings(journal=str(tmp_path / "j.sqlite3"), control_token=token)
    with ServerThread(create_app(settings)) as mock:
        monkeypatch.setenv("MOCK_FT_URL", mock.url)
        refused = runner.invoke(app, ["faults", "list"])
        monkeypatch.setenv("MOCK_FT_CONTROL_TOKEN", token)
        listed = runner.invoke(app, ["faults", "list"])
    assert refused.exit_code == 2
    assert "refused the control token" in refused.output
    assert listed.exit_code == 0, listed.output
    assert "no fault rules" in listed.output
