"""Every command's --help shows each option's default, and Rich eats none of the help text."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from mock_ft.cli import app
from mock_ft.settings import Settings

runner = CliRunner()


def _commands() -> list[tuple[list[str], Any]]:
    """Every command and subcommand, with the words that reach it."""
    root = typer.main.get_command(app)
    found: list[tuple[list[str], Any]] = []

    def walk(words: list[str], command: Any) -> None:
        if hasattr(command, "commands"):  # a group (Typer's own click, so no isinstance)
            for name, sub in command.commands.items():
                walk([*words, name], sub)
        else:
            found.append((words, command))

    walk([], root)
    return found


COMMANDS = _commands()


def _help(words: list[str]) -> str:
    result = runner.invoke(app, [*words, "--help"], env={"COLUMNS": "300", "TERMINAL_WIDTH": "300"})
    assert result.exit_code == 0, result.output
    return re.sub(r"[\s│]+", " ", result.output)  # one line, the panel's borders gone


def _options(command: Any) -> list[Any]:
    return [p for p in command.params if p.param_type_name == "option" and p.name != "help"]


@pytest.mark.parametrize(("words", "command"), COMMANDS, ids=[" ".join(w) for w, _ in COMMANDS])
def test_show_every_default_in_help(words: list[str], command: Any) -> None:
    """Each option shows `[default: ...]`, unless it says it has none (show_default=False)."""
    text = _help(words)
    for option in _options(command):
        if option.show_default is False or option.is_eager:
            continue
        if option.is_flag and not option.secondary_opts:  # --exit, -v: off unless given
            continue
        if isinstance(option.show_default, str):  # Typer puts a described default in brackets
            shown = f"({option.show_default})"
        elif option.is_flag and option.secondary_opts:
            shown = (option.opts if option.default else option.secondary_opts)[0].lstrip("-")
        else:
            assert option.default is not None, f"{option.opts[0]}: no default shown or declared"
            value = option.default
            shown = str(value if not isinstance(value, (list, tuple)) else ", ".join(value))
        assert f"[default: {shown}]" in text, f"{' '.join(words)} {option.opts[0]}"


@pytest.mark.parametrize(("words", "command"), COMMANDS, ids=[" ".join(w) for w, _ in COMMANDS])
def test_keep_whole_help_text(words: list[str], command: Any) -> None:
    """Rich markup eats `[on]` and `[fasttrack.events]`: every option's help comes out whole."""
    text = _help(words)
    for option in _options(command):
        if option.help:
            assert re.sub(r"\s+", " ", option.help) in text, option.opts[0]


@pytest.mark.parametrize(
    ("option", "field"),
    [
        ("--host", "host"),
        ("--port", "port"),
        ("--journal", "journal"),
        ("--api-key-header", "api_key_header"),
        ("--rabbitmq-queue", "rabbitmq_queue"),
        ("--log-level", "log_level"),
    ],
)
def test_show_settings_default_for_serve(option: str, field: str) -> None:
    """serve's help shows the default its settings really have."""
    serve = dict(COMMANDS_BY_NAME)["serve"]
    [param] = [p for p in _options(serve) if option in p.opts]
    assert param.show_default == str(Settings.model_fields[field].default)


COMMANDS_BY_NAME = [(" ".join(words), command) for words, command in COMMANDS]


def test_show_dashboard_address_in_serve_banner(capsys: pytest.CaptureFixture[str]) -> None:
    """The banner names /ui, where a newcomer looks first."""
    from mock_ft.cli.serve import _banner

    _banner(Settings(journal=":memory:"), 8765)
    banner = capsys.readouterr().err
    assert re.search(r"^  dashboard +http://127\.0\.0\.1:8765/ui$", banner, re.MULTILINE), banner
