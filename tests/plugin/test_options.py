"""Where the session's mock comes from and how it is configured: options, ini, overrides."""

from __future__ import annotations

import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import entry_points

import httpx
import pytest

from mock_ft.crm import create_app
from mock_ft.crm.runner import ServerThread, bind_socket
from mock_ft.settings import Settings
from tests.plugin.conftest import RunSuite

pytest_plugins = ["pytester"]

SHOW_SETTINGS = """
def test_settings(ft_mock_settings):
    print("SETTINGS", sorted((k, v) for k, v in ft_mock_settings.items() if k != "journal"))
"""


def test_register_plugin_entry_point() -> None:
    """Installing mock-ft is enough: pytest finds the plugin through `pytest11`."""
    [plugin] = [e for e in entry_points(group="pytest11") if e.name == "mock_ft"]
    assert plugin.value == "mock_ft.pytest_plugin"


def test_import_plugin_without_side_effects() -> None:
    """pytest imports the plugin in every run: it starts nothing and holds no heavy module."""
    code = (
        "import sys, threading, types, mock_ft.pytest_plugin as p;"
        "held = {v.__name__ for v in vars(p).values() if isinstance(v, types.ModuleType)};"
        "print(threading.active_count(), sorted(held - set(sys.stdlib_module_names)))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout == "1 ['pytest']\n"


def test_use_running_mock_given_by_option(run_suite: RunSuite, tmp_path) -> None:
    """`--ft-mock-url` points the fixtures at a mock that runs already; none is started."""
    settings = Settings(journal=str(tmp_path / "journal.sqlite3"))
    with ServerThread(create_app(settings)) as mock:
        result = run_suite(
            "def test_login(ft_mock, login):\n    assert login('8001') == 200\n",
            f"--ft-mock-url={mock.url}/",
        )
        events = httpx.get(f"{mock.url}/_mock/events", params={"user_id": "8001"}).json()
    result.assert_outcomes(passed=1)
    assert events["count"] == 1


def test_report_unreachable_mock(run_suite: RunSuite) -> None:
    """A `--ft-mock-url` nobody answers at errors each test, saying so."""
    sock = bind_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    sock.close()  # the port is free again, so nothing listens there
    result = run_suite(
        "def test_it(ft_mock):\n    pass\n", f"--ft-mock-url=http://127.0.0.1:{port}"
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*mock-ft: cannot reach the mock at http://127.0.0.1:{port} (*"])


def test_report_answer_of_other_service(run_suite: RunSuite) -> None:
    """A `--ft-mock-url` where something else answers shows what it answered."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)  # 501 to everything
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        result = run_suite("def test_it(ft_mock):\n    pass\n", f"--ft-mock-url={url}")
    finally:
        server.shutdown()
        server.server_close()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*mock-ft: POST /_mock/reset answered 501: *DOCTYPE*"])


def test_read_operator_settings_from_ini(run_suite: RunSuite, pytester: pytest.Pytester) -> None:
    """The `ft_mock_*` ini keys configure the mock's Operator API and callback key."""
    pytester.makeini(
        """
        [pytest]
        ft_mock_operator_url = http://127.0.0.1:1
        ft_mock_operator_auth = basic:u:p
        ft_mock_callback_api_key = cb
        """
    )
    result = run_suite(SHOW_SETTINGS, "-s")
    result.stdout.fnmatch_lines(
        [
            "*SETTINGS [[]('callback_api_key', 'cb'), ('host', '127.0.0.1'), "
            "('operator_auth', 'basic:u:p'), ('operator_url', 'http://127.0.0.1:1'), ('port', 0)]*"
        ]
    )


def test_prefer_option_over_ini(run_suite: RunSuite, pytester: pytest.Pytester) -> None:
    """A command-line option wins over the ini key."""
    pytester.makeini("[pytest]\nft_mock_operator_url = http://127.0.0.1:1\n")
    result = run_suite(SHOW_SETTINGS, "-s", "--ft-operator-url=http://127.0.0.1:2")
    result.stdout.fnmatch_lines(["*('operator_url', 'http://127.0.0.1:2')*"])


def test_fail_on_invalid_setting(run_suite: RunSuite) -> None:
    """An invalid option reads as the mock's own validation message."""
    result = run_suite("def test_it(ft_mock):\n    pass\n", "--ft-operator-url=ftp://x")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*mock-ft settings: operator_url: *'ftp://x' is not an http(s) URL*"]
    )


def test_fail_when_mock_cannot_start(run_suite: RunSuite) -> None:
    """A mock that cannot start (its port taken) errors the tests with the reason."""
    with bind_socket("127.0.0.1", 0) as taken:
        port = taken.getsockname()[1]
        result = run_suite(
            "def test_it(ft_mock):\n    pass\n",
            conftest=f"""
@pytest.fixture(scope="session")
def ft_mock_settings(ft_mock_settings):
    return {{**ft_mock_settings, "port": {port}}}
""",
        )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [f"*mock-ft cannot start: port {port} on 127.0.0.1 is already in use*"]
    )


def test_restore_session_rules_after_reset(run_suite: RunSuite) -> None:
    """Fault and callback rules the session's mock started with hold in every test."""
    test = """
import httpx

def test_{name}(ft_mock, login):
    assert login() == 503
    rules = httpx.get(f"{{ft_mock.url}}/_mock/callbacks/rules").json()["data"]
    assert [r["id"] for r in rules] == ["loyalty-sync"]
"""
    result = run_suite(
        test.format(name="first") + test.format(name="second"),
        "--ft-operator-url=http://127.0.0.1:9",
        conftest="""
@pytest.fixture(scope="session")
def ft_mock_settings(ft_mock_settings):
    rules = {"faults": ["503 type=LOGIN_V2"], "callback_rules": ["loyalty-sync"]}
    return {**ft_mock_settings, **rules}
""",
    )
    result.assert_outcomes(passed=2)


def test_send_control_token(run_suite: RunSuite) -> None:
    """With a control token set, the fixtures send it; others are refused."""
    result = run_suite(
        """
import httpx

def test_token(ft_mock):
    assert ft_mock.events() == []
    assert httpx.get(f"{ft_mock.url}/_mock/events").status_code == 401
""",
        conftest="""
@pytest.fixture(scope="session")
def ft_mock_settings(ft_mock_settings):
    return {**ft_mock_settings, "control_token": "s3cret"}
""",
    )
    result.assert_outcomes(passed=1)


def test_send_no_key_when_auth_off(run_suite: RunSuite) -> None:
    """A mock without auth asks the publisher for no header."""
    result = run_suite(
        "def test_headers(ft_mock):\n    assert ft_mock.headers == {}\n",
        conftest="""
@pytest.fixture(scope="session")
def ft_mock_settings(ft_mock_settings):
    return {**ft_mock_settings, "auth_enabled": False}
""",
    )
    result.assert_outcomes(passed=1)
