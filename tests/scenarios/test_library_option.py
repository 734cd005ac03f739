"""`mock-ft replay --library`: the scenario library that ships with mock-ft, found installed or in
a checkout (the installed case runs in tests/test_wheel.py)."""

from __future__ import annotations

from typer.testing import CliRunner

from mock_ft.cli import app
from mock_ft.reference import library_dir, operator_module

runner = CliRunner()


def test_find_library_in_checkout() -> None:
    """In a clone, the library is the repository's scenarios/ and the operator its folder."""
    assert (library_dir() / "payments.yaml").is_file()
    assert operator_module() == "reference_operator"


def test_load_library_with_option() -> None:
    """--library adds the library's files: their tags are there to select from."""
    result = runner.invoke(app, ["replay", "--library", "--tags", "no-such-tag"])
    assert result.exit_code == 2
    assert "no scenario has any of the tags no-such-tag" in result.output


def test_refuse_replay_without_scenarios() -> None:
    """Neither paths nor --library: one headline, exit 2."""
    result = runner.invoke(app, ["replay"])
    assert result.exit_code == 2
    assert "nothing to replay; pass scenario files or folders, or --library" in result.output
