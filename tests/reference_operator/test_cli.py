"""`reference-operator serve` as a user runs it: real processes, real sockets."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from reference_operator.cli import app as cli_app
from reference_operator.defects import DEFECTS
from tests import web
from tests.reference_operator.conftest import wait_for_events


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reference_operator", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_list_defect_switches() -> None:
    """--list-defects names every switch with its one-line meaning."""
    result = _cli("serve", "--list-defects")
    assert result.returncode == 0
    assert re.search(r"^drops_events\s+About 10% of events", result.stdout, re.M)
    assert len(result.stdout.strip().splitlines()) == len(DEFECTS)


@pytest.mark.parametrize(
    ("args", "headline"),
    [
        (["--defect", "explode"], "invalid setting defects"),
        (["--auth", "kerberos"], "invalid setting auth"),
        (["--port", "70000"], "invalid setting port"),
    ],
)
def test_refuse_bad_settings(args: list[str], headline: str) -> None:
    """A bad flag exits 2 with a headline and an explanation, no traceback."""
    result = _cli("serve", *args)
    assert result.returncode == 2
    assert headline in result.stderr
    assert "Traceback" not in result.stderr


def test_refuse_unusable_database(tmp_path: Path) -> None:
    """A database path that cannot be opened is explained, exit 2."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = _cli("serve", "--database", str(blocker / "db.sqlite3"))
    assert result.returncode == 2
    assert "cannot start the reference operator" in result.stderr
    assert "Traceback" not in result.stderr


def _refuse_fd(fd: int) -> str:
    """serve --fd FD, in this process (it fails before serving): its stderr, after exit 2."""
    result = CliRunner().invoke(cli_app, ["serve", "--fd", str(fd)])
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    return result.stderr


def test_refuse_fd_that_is_not_a_socket(tmp_path: Path) -> None:
    with (tmp_path / "file").open("w") as file:
        fd = file.fileno()
        stderr = _refuse_fd(fd)
    assert f"--fd {fd} is not an open socket" in stderr


def test_refuse_fd_of_a_socket_that_does_not_listen() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        stderr = _refuse_fd(sock.fileno())
        os.fstat(sock.fileno())  # the caller's descriptor is left open (EBADF if closed)
    assert "is not a listening TCP socket" in stderr


def test_refuse_fd_of_a_unix_socket(tmp_path: Path) -> None:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "sock"))
        sock.listen()
        assert "is not a listening TCP socket" in _refuse_fd(sock.fileno())


@pytest.mark.slow
def test_serve_against_mock(mock_url: str, tmp_path: Path) -> None:
    """The documented command runs a platform whose events reach the mock valid."""
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable, "-m", "reference_operator", "serve", "--port", str(port),
            "--database", str(tmp_path / "platform.sqlite3"), "--ft-url", mock_url,
            "--ft-api-key", "mock-ft-local-key", "--players", "2",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_up(base)
        user = web.post(f"{base}/platform/players").json()["user_id"]
        web.post(f"{base}/platform/players/{user}/deposits", json={"amount": 25})
        events = wait_for_events(mock_url, 6)  # 2 seeded players + register + 3 payment events
        assert {e["verdict"] for e in events} == {"accepted"}
        assert all(e["warnings"] == [] for e in events)
        details = web.get(f"{base}/userdetails/{user}", headers={"X-Api-Key": "operator-local-key"})
        assert details.status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
        assert process.stderr is not None
        process.stderr.close()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_up(base: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if web.get(f"{base}/openapi.json", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{base} did not come up")
