"""A command whose extra is not installed names it and exits 2 (one headline, no traceback).

A package counts as missing here the way Python itself spells it: `sys.modules[name] = None`,
which makes both `import name` and `importlib.util.find_spec(name)` report it absent. The built
wheel without extras is exercised for real in tests/test_wheel.py.
"""

from __future__ import annotations

import sys

import pytest
from typer.testing import CliRunner

from mock_ft import reference
from mock_ft.cli import app
from mock_ft.crm import create_app
from mock_ft.errors import MissingExtra
from mock_ft.extras import EXTRAS, missing
from mock_ft.settings import Settings

runner = CliRunner()


def _uninstall(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    for name in names:
        monkeypatch.setitem(sys.modules, name, None)


@pytest.mark.parametrize(
    ("absent", "args", "extra"),
    [
        (
            "schemathesis",
            ["verify", "--operator-url", "http://127.0.0.1:9", "--user-id", "1"],
            "verify",
        ),
        ("faker", ["replay", "scenarios/payments.yaml"], "scenarios"),
        ("hypothesis", ["demo", "--exit"], "verify"),
        ("aiokafka", ["demo", "--exit"], "scenarios"),
        ("aio_pika", ["serve", "--port", "0", "--rabbitmq-url", "amqp://127.0.0.1:9/"], "brokers"),
        (
            "psycopg",
            ["serve", "--port", "0", "--journal", "postgresql://127.0.0.1:9/x"],
            "postgres",
        ),
    ],
)
def test_name_missing_extra(
    monkeypatch: pytest.MonkeyPatch, absent: str, args: list[str], extra: str
) -> None:
    """The command stops before doing anything, naming the extra to install."""
    _uninstall(monkeypatch, absent)
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert f"mock-ft[{extra}] is not installed" in result.output
    assert f"pip install 'mock-ft[{extra}]'" in result.output
    assert absent in result.output
    assert "Traceback" not in result.output


def test_refuse_broker_settings_without_brokers_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """create_app (serve, the plugin, the local stack) refuses a broker it has no client for."""
    _uninstall(monkeypatch, "aiokafka")
    settings = Settings(journal=":memory:", kafka_bootstrap="127.0.0.1:9")
    with pytest.raises(MissingExtra, match=r"pip install 'mock-ft\[brokers\]'"):
        create_app(settings)


def test_list_nothing_missing_when_installed() -> None:
    """The development environment has every extra."""
    assert {extra: missing(extra) for extra in EXTRAS} == {extra: [] for extra in EXTRAS}


def test_run_reference_operator_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`reference-operator` (mock_ft.reference:main) runs the operator's own CLI."""
    monkeypatch.setattr(sys, "argv", ["reference-operator", "--help"])
    with pytest.raises(SystemExit) as stopped:
        reference.main()
    assert stopped.value.code == 0
    assert "serve" in capsys.readouterr().out


def test_refuse_reference_operator_without_scenarios_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without Faker and the broker clients the command names the `scenarios` extra."""
    _uninstall(monkeypatch, "faker")
    monkeypatch.setattr(sys, "argv", ["reference-operator", "serve"])
    with pytest.raises(SystemExit) as stopped:
        reference.main()
    assert stopped.value.code == 2
    assert "pip install 'mock-ft[scenarios]'" in capsys.readouterr().err
