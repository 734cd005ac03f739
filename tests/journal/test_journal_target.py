"""What a journal value may be: a SQLite file path, `:memory:`, or a URL of a scheme mock-ft knows.

A URL of any other scheme is refused before anything is created: it used to be taken as a file
path, so `postgresql://...` silently made a folder named `postgresql:` with a SQLite file in it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from mock_ft.errors import JournalError
from mock_ft.journal import Journal
from mock_ft.settings import Settings

SECRET = "s3cr3t-pw"


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m mock_ft ARGS` in `cwd`, with `env` added to the environment."""
    return subprocess.run(
        [sys.executable, "-m", "mock_ft", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )


def test_refuse_journal_url_of_unknown_scheme_in_settings() -> None:
    """Settings name the journal field and the schemes that exist."""
    with pytest.raises(ValidationError) as caught:
        Settings(journal=f"mysql://root:{SECRET}@127.0.0.1:3306/db")
    message = str(caught.value)
    assert "journal" in message
    assert "mysql" in message
    assert ":memory:" in message
    assert SECRET not in message


def test_refuse_journal_url_of_unknown_scheme_in_the_library() -> None:
    """Journal(...) given such a URL refuses it too, before touching the disk."""
    with pytest.raises(JournalError, match="scheme 'redis'") as caught:
        Journal(f"redis://:{SECRET}@127.0.0.1:6379/0").start()
    assert SECRET not in str(caught.value)


def test_refuse_journal_url_on_the_command_line(tmp_path: Path) -> None:
    """`serve --journal URL` of an unknown scheme: exit 2, one headline, nothing created."""
    run = run_cli(
        "serve", "--port", "0", "--journal", f"mongodb://u:{SECRET}@127.0.0.1/db", cwd=tmp_path
    )
    assert run.returncode == 2
    assert "Invalid configuration" in run.stderr
    assert "mongodb" in run.stderr
    assert "Traceback" not in run.stderr
    assert SECRET not in run.stdout + run.stderr
    assert list(tmp_path.iterdir()) == []


def test_refuse_journal_url_from_the_environment(tmp_path: Path) -> None:
    """MOCK_FT_JOURNAL is read through the same settings, so it is refused the same way."""
    run = run_cli(
        "serve",
        "--port",
        "0",
        cwd=tmp_path,
        env={"MOCK_FT_JOURNAL": f"amqp://guest:{SECRET}@127.0.0.1/"},
    )
    assert run.returncode == 2
    assert "MOCK_FT_JOURNAL" in run.stderr
    assert SECRET not in run.stdout + run.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value", ["j.sqlite3", "data/mock:1.sqlite3", ":memory:"])
def test_accept_journal_paths(value: str) -> None:
    """Paths, even with a colon in them, are still paths."""
    assert Settings(journal=value).journal == value
