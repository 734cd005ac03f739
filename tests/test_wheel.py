"""The distributions as a user gets them: `python -m build` makes a wheel and an sdist that pass
`twine check`, and the wheel, installed into a fresh venv outside the repository with only its
own dependencies (no --system-site-packages), runs `mock-ft --help`, `mock-ft serve` and the
pytest plugin; a command whose extra is missing names it; with `[scenarios]` the scenario library
that ships inside the wheel replays against the reference operator that ships with it.

The venv is shared by the module and the tests run in file order on one xdist worker
(`xdist_group`, `--dist loadgroup` in the Makefile): the last one adds the `scenarios` extra.
pip's cache makes the installs quick after the first run on a machine.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests import web

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("wheel")]

REPO = Path(__file__).resolve().parent.parent
_BANNER = re.compile(r"listening on (http://\S+)")

TINY_SUITE = """
import httpx


def test_login_reaches_the_mock(ft_mock):
    body = {"user_id": "7001", "timestamp": "2024-01-01T00:00:00Z", "origin": "example.com"}
    url = f"{ft_mock.url}/v2/integration/login"
    assert httpx.post(url, json=body, headers=ft_mock.headers).status_code == 200
    [event] = ft_mock.wait_for("LOGIN_V2", user_id="7001")
    assert event["verdict"] == "accepted"
"""


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sdist and wheel, built from this checkout (the wheel from the sdist, as build does)."""
    out = tmp_path_factory.mktemp("dist")
    command = [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(REPO)]
    subprocess.run(command, check=True, capture_output=True)
    return out


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working directory outside the repository: nothing of the checkout is importable."""
    return tmp_path_factory.mktemp("user-project")


@pytest.fixture(scope="module")
def venv(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding the wheel (no extras) and pytest, installed by pip's resolver."""
    root = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    _pip(root, str(_wheel(dist)), "pytest")
    return root


def _wheel(dist: Path) -> Path:
    [wheel] = dist.glob("*.whl")
    return wheel


def _pip(venv: Path, *requirements: str) -> None:
    """This environment's pip installs into the venv (`--python`), so the venv needs none.
    Without byte-compiling every installed module (half of pip's CPU here): Python compiles
    what the tests import as they import it, and pip's compile step fails no install anyway."""
    command = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install"]
    subprocess.run(
        [*command, "--quiet", "--no-compile", *requirements], check=True, capture_output=True
    )


def _user_env(venv: Path) -> dict[str, str]:
    """What a user's shell has: the venv on PATH, none of this test run's variables."""
    keep = ("HOME", "LANG", "LC_ALL", "TMPDIR", "SSL_CERT_FILE")
    env = {k: v for k, v in os.environ.items() if k in keep}
    return env | {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "VIRTUAL_ENV": str(venv)}


def _run(
    venv: Path, cwd: Path, *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "bin" / args[0]), *args[1:]],
        cwd=cwd,
        env=_user_env(venv),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_pass_twine_check(dist: Path) -> None:
    """Both distributions have metadata and a long description PyPI would accept."""
    files = sorted(str(p) for p in dist.iterdir())
    assert sorted(Path(f).suffix for f in files) == [".gz", ".whl"]
    check = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *files],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_ship_only_mock_ft_package(dist: Path) -> None:
    """The wheel puts one top-level package in site-packages; the operator and library inside."""
    names = zipfile.ZipFile(_wheel(dist)).namelist()
    tops = {n.split("/")[0] for n in names if ".dist-info/" not in n}
    assert tops == {"mock_ft"}
    for inside in ("reference_operator/cli.py", "_scenarios/payments.yaml", "_contracts"):
        assert any(n.startswith(f"mock_ft/{inside}") for n in names), inside
    assert not [n for n in names if "__pycache__" in n]


def test_print_help_from_wheel(venv: Path, outside: Path) -> None:
    """`mock-ft --help` works outside the repository with the base install."""
    result = _run(venv, outside, "mock-ft", "--help")
    assert result.returncode == 0, result.stderr
    assert "serve" in result.stdout


@pytest.fixture
def served(venv: Path, outside: Path) -> Iterator[str]:
    process = subprocess.Popen(
        [str(venv / "bin" / "mock-ft"), "serve", "--port", "0", "--journal", ":memory:"],
        cwd=outside,
        env=_user_env(venv),
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    try:
        url = None
        deadline = time.monotonic() + 60  # a hang guard only
        while url is None and time.monotonic() < deadline:
            line = process.stderr.readline()
            assert line, f"mock-ft serve exited with {process.wait()}"
            match = _BANNER.search(line)
            url = match.group(1) if match else None
        assert url is not None
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stderr.close()


def test_serve_health_from_wheel(served: str) -> None:
    """`mock-ft serve` from the wheel answers its health check and serves /docs' assets."""
    deadline = time.monotonic() + 30  # the banner comes before uvicorn accepts: a hang guard
    while True:
        try:
            health = web.get(f"{served}/_mock/health", timeout=5)
            break
        except httpx.TransportError:
            assert time.monotonic() < deadline, "no answer from /_mock/health"
            time.sleep(0.05)
    assert health.status_code == 200
    assert web.get(f"{served}/docs/static/swagger-ui-bundle.js").status_code == 200


def test_run_plugin_from_wheel(venv: Path, outside: Path) -> None:
    """An operator's suite outside the repository gets the `ft_mock` fixture from the wheel."""
    suite = outside / "suite"
    suite.mkdir(exist_ok=True)
    (suite / "test_tiny.py").write_text(TINY_SUITE)
    result = _run(venv, suite, "python", "-m", "pytest", "-q", "-p", "no:cacheprovider")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


@pytest.mark.parametrize(
    ("args", "extra"),
    [
        (("mock-ft", "verify", "--operator-url", "http://127.0.0.1:9", "--user-id", "1"), "verify"),
        (("mock-ft", "replay", "--library"), "scenarios"),
        (("reference-operator", "serve"), "scenarios"),
    ],
)
def test_name_missing_extra_from_wheel(
    venv: Path, outside: Path, args: tuple[str, ...], extra: str
) -> None:
    """Without its extra a command exits 2 with the install command, no traceback."""
    result = _run(venv, outside, *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"pip install 'mock-ft[{extra}]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_replay_library_from_wheel(venv: Path, dist: Path, outside: Path) -> None:
    """With `[scenarios]`, the shipped library replays against the shipped reference operator."""
    _pip(venv, f"{_wheel(dist)}[scenarios]")
    result = _run(
        venv, outside, "mock-ft", "replay", "--library", "--tags", "payments",
        "--report-dir", str(outside / "reports"),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout  # the summary line; exit 0 says none failed
    no_top_level = _run(venv, outside, "python", "-c", "import reference_operator")
    assert "No module named 'reference_operator'" in no_top_level.stderr
