"""One client settings class for every command and the pytest plugin: flags > env > file > defaults.

The OAuth2 method is the witness: `operator_oauth_method` in one config file (or MOCK_FT_*) must
make `mock-ft verify` and the plugin's `ft_verify` ask the token URL the same way.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mock_ft.cli import app
from mock_ft.errors import ConfigError
from mock_ft.settings import DEFAULT_URL, load_client_settings, load_settings
from tests.plugin.conftest import RunSuite

pytest_plugins = ["pytester"]


class _Operator(BaseHTTPRequestHandler):
    """An OAuth2 token URL (either method) in front of an Operator API refusing everything."""

    token_methods: list[str]

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._answer("POST")

    def _answer(self, method: str) -> None:
        if self.path.startswith("/token"):
            self.token_methods.append(method)
            body = json.dumps({"access_token": "t", "token_type": "Bearer", "expires_in": 3600})
            status = 200
        else:
            body, status = '{"error": "no", "code": 401}', 401
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def operator() -> Iterator[tuple[str, list[str]]]:
    """The operator's URL, and the HTTP method of each token request it got."""
    methods: list[str] = []
    handler = type("Handler", (_Operator,), {"token_methods": methods})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", methods
    finally:
        server.shutdown()
        server.server_close()


def _oauth(url: str) -> str:
    return f"oauth:{url}/token:ft-client:ft-secret"


def test_take_oauth_method_from_config_in_verify(
    tmp_path: Path, operator: tuple[str, list[str]]
) -> None:
    """`operator_oauth_method: get` in --config makes verify fetch its token with GET."""
    url, methods = operator
    config = tmp_path / "mock-ft.yaml"
    config.write_text(
        f"operator_url: {url}\noperator_auth: {_oauth(url)}\noperator_oauth_method: get\n"
    )
    args = ["verify", "--config", str(config), "--user-id", "1", "--step", "User data"]
    result = CliRunner().invoke(app, [*args, "--report-dir", str(tmp_path / "reports")])
    assert result.exit_code == 1, result.output  # the operator refuses; the method is the point
    assert set(methods) == {"GET"}


def test_take_oauth_method_from_environment_in_verify(
    tmp_path: Path, operator: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """MOCK_FT_OPERATOR_OAUTH_METHOD=get does the same, and --oauth-method post wins over it."""
    url, methods = operator
    monkeypatch.setenv("MOCK_FT_OPERATOR_OAUTH_METHOD", "get")
    monkeypatch.setenv("MOCK_FT_OPERATOR_AUTH", _oauth(url))
    args = ["verify", "--operator-url", url, "--user-id", "1", "--step", "User data"]
    reports = ["--report-dir", str(tmp_path / "reports")]
    assert CliRunner().invoke(app, [*args, *reports]).exit_code == 1
    assert set(methods) == {"GET"}
    methods.clear()
    assert CliRunner().invoke(app, [*args, *reports, "--oauth-method", "post"]).exit_code == 1
    assert set(methods) == {"POST"}


def test_take_oauth_method_from_environment_in_ft_verify(
    run_suite: RunSuite, operator: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plugin's ft_verify reads the same variable the same way."""
    url, methods = operator
    monkeypatch.setenv("MOCK_FT_OPERATOR_OAUTH_METHOD", "get")
    result = run_suite(
        "def test_verify(ft_verify):\n    ft_verify(user_ids=['1'], steps=('User data',))\n",
        f"--ft-operator-url={url}",
        f"--ft-operator-auth={_oauth(url)}",
    )
    result.assert_outcomes(failed=1)  # the operator refuses; the method is the point
    assert set(methods) == {"GET"}


def test_rank_flag_over_environment_over_file_over_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mock's URL: the flag, else MOCK_FT_URL, else `url` in the file, else the local one."""
    config = tmp_path / "mock-ft.toml"
    config.write_text('url = "http://file:1"\n')
    monkeypatch.delenv("MOCK_FT_URL", raising=False)
    assert load_client_settings().url == DEFAULT_URL
    assert load_client_settings(config).url == "http://file:1"
    monkeypatch.setenv("MOCK_FT_URL", "http://env:2/")
    assert load_client_settings(config).url == "http://env:2"
    assert load_client_settings(config, url="http://flag:3").url == "http://flag:3"


def test_share_one_config_file_between_server_and_clients(tmp_path: Path) -> None:
    """A file with both the server's keys and the clients' serves both; each takes its own."""
    config = tmp_path / "mock-ft.yaml"
    config.write_text("port: 9999\nurl: http://127.0.0.1:9999\noperator_oauth_method: get\n")
    assert load_settings(config).port == 9999
    assert load_settings(config).operator_oauth_method == "get"
    assert load_client_settings(config).url == "http://127.0.0.1:9999"
    assert load_client_settings(config).operator_oauth_method == "get"


def test_refuse_url_that_is_not_http(monkeypatch: pytest.MonkeyPatch) -> None:
    """MOCK_FT_URL=localhost:8765 (no scheme) is refused, naming the variable and an example."""
    monkeypatch.setenv("MOCK_FT_URL", "localhost:8765")
    with pytest.raises(ConfigError, match=r"url \(MOCK_FT_URL\): .*e\.g\. http://127\.0\.0\.1"):
        load_client_settings()
