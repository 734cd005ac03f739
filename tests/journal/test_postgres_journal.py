"""What only the PostgreSQL journal has: a password that is shown nowhere, and text that PostgreSQL
cannot hold (NUL). Several writers on one database: test_postgres_instances.py and
test_postgres_cluster.py.
The behaviours both backends share are tested on both (`journal_target`, tests/test_journal.py).
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from mock_ft.errors import JournalError
from mock_ft.journal import EventFilter, Journal, NewEntry
from tests import web
from tests.conftest import KEY_HEADERS
from tests.postgres import empty_schema
from tests.serve_process import run_cli
from tests.waiting import HANG_GUARD

SECRET = "pw-never-shown-7"


@pytest.fixture
def url(postgres_database: str) -> str:
    return empty_schema(postgres_database)


def _with_password(url: str) -> str:
    """The same database, with a password in the URL (trust auth accepts and ignores it)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.replace("@", f":{SECRET}@", 1)))


def test_keep_password_out_of_banner_health_logs_and_journal(url: str) -> None:
    """The URL's password shows nowhere: banner, logs, /_mock/health, the journal's rows."""
    secret_url = _with_password(url)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mock_ft",
            "serve",
            "--port",
            "0",
            "--journal",
            secret_url,
            "--log-level",
            "debug",
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        banner = [process.stderr.readline() for _ in range(2)]
        served = banner[0].split("listening on ")[1].strip()
        assert "***" in banner[1]
        health = web.get(f"{served}/_mock/health", timeout=HANG_GUARD).json()
        sent = web.post(
            f"{served}/v2/integration/login",
            json={"user_id": "1", "timestamp": "2026-01-01T00:00:00Z", "origin": "a.example"},
            headers=KEY_HEADERS,
            timeout=HANG_GUARD,
        )
        assert sent.status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=HANG_GUARD)
    assert health["journal"] == secret_url.replace(SECRET, "***")
    assert SECRET not in "".join(banner) + out + err + str(health)
    with Journal(url) as journal:
        rows = journal.run_sync(Journal.query(EventFilter(), limit=10))
    assert len(rows) == 1
    assert SECRET not in repr(rows)


def test_keep_password_out_of_errors(url: str) -> None:
    """A database that does not exist: the error names the URL with the password masked."""
    missing = _with_password(url).rsplit("/", 1)[0] + "/mockft_no_such_db"
    with pytest.raises(JournalError, match="does not exist") as caught:
        Journal(missing).start()
    assert SECRET not in str(caught.value)
    run = run_cli("serve", "--port", "0", "--journal", missing, timeout=60)
    assert run.returncode == 2
    assert "Journal unavailable" in run.stderr
    assert SECRET not in run.stdout + run.stderr


def test_store_nul_of_a_rejected_body_as_replacement_character(url: str) -> None:
    """PostgreSQL text cannot hold NUL: it is kept as U+FFFD, and the attempt is journaled."""
    entry = NewEntry("rest", 1.0, "rejected", 400, payload='{"a": "\x00"}')
    with Journal(url) as journal:
        journal.run_sync(Journal.append(entry))
        [row] = journal.run_sync(Journal.query(EventFilter(), limit=1))
    assert row.payload == '{"a": "\ufffd"}'


def test_refuse_start_up_callback_rule_with_own_key_cleanly(url: str, tmp_path: Path) -> None:
    """A rule file whose rule carries its own api_key cannot be shared: exit 2 before the banner,
    one headline and the fix, no traceback, and the key not echoed."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n"
        "  - id: with-key\n"
        "    trigger: {event: LOGIN_V2}\n"
        "    request:\n"
        "      url: '{operator_url}/callbacks/x'\n"
        f"      api_key: {SECRET}\n"
        "      body: {a: 1}\n"
    )
    args = ("--journal", url, "--callbacks", str(rules), "--operator-url", "http://127.0.0.1:9")
    run = run_cli("serve", "--port", "0", *args)
    assert (run.returncode, run.stderr.splitlines()[0]) == (2, "Invalid callback rule")
    assert "callback_api_key" in run.stderr
    assert "Traceback" not in run.stderr
    assert "listening on" not in run.stderr
    assert SECRET not in run.stdout + run.stderr
