"""`mock-ft journal migrate|check` on both backends: exit codes and what they print."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from mock_ft.cli import app
from mock_ft.journal.ddl import SQLITE_V1
from mock_ft.journal.migrations import LATEST, STEPS
from tests.serve_process import run_cli, serve_process

runner = CliRunner()


def test_migrate_new_journal_then_check_it(journal_target: str) -> None:
    """migrate applies every step (exit 0); check then says the journal is up to date."""
    migrated = runner.invoke(app, ["journal", "migrate", "--journal", journal_target])
    assert migrated.exit_code == 0, migrated.output
    assert [f"applied {s.version}: {s.title}" in migrated.output for s in STEPS] == [True] * LATEST
    checked = runner.invoke(app, ["journal", "check", "--journal", journal_target])
    assert checked.exit_code == 0, checked.output
    assert f"version {LATEST} of {LATEST}" in checked.output
    again = runner.invoke(app, ["journal", "migrate", "--journal", journal_target])
    assert (again.exit_code, "applied" in again.output) == (0, False)


def test_check_journal_from_before_versioning_fails_naming_pending_steps(tmp_path: Path) -> None:
    """check (which never migrates) exits 1 listing the steps migrate would apply."""
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(SQLITE_V1)
    conn.close()
    checked = runner.invoke(app, ["journal", "check", "--journal", str(path)])
    assert checked.exit_code == 1, checked.output
    assert f"version 0 of {LATEST}" in checked.output
    assert f"pending   1: {STEPS[0].title}" in checked.output
    assert "mock-ft journal migrate" in checked.output


def test_check_missing_journal_exits_2(tmp_path: Path) -> None:
    """A journal that does not exist: one headline, one explanation, exit 2, nothing created."""
    path = tmp_path / "none.sqlite3"
    checked = runner.invoke(app, ["journal", "check", "--journal", str(path)])
    assert checked.exit_code == 2
    assert "Journal unavailable" in checked.output
    assert "journal migrate" in checked.output
    assert not path.exists()


def test_check_journal_url_of_unknown_scheme_exits_2() -> None:
    """The journal value is read through the settings: an unknown URL scheme is refused."""
    checked = runner.invoke(app, ["journal", "check", "--journal", "mysql://h/db"])
    assert checked.exit_code == 2
    assert "Invalid configuration" in checked.output


def test_refuse_migrate_while_a_server_has_the_sqlite_journal(journal_file: str) -> None:
    """migrate takes a SQLite file's writer lock: a serving mock keeps it, so exit 2.
    (Several writers may share a PostgreSQL journal; its migrations have a lock of their own.)"""
    with serve_process("--journal", journal_file):
        migrated = run_cli("journal", "migrate", "--journal", journal_file)
    assert migrated.returncode == 2, migrated.stderr
    assert "in use by" in migrated.stderr
