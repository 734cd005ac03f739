"""Run small pytest sessions that use the mock-ft plugin, in this process (so coverage counts).

Each test module declares `pytest_plugins = ["pytester"]`: pytest refuses `pytest_plugins` in a
conftest below the root one, and the `pytester` fixture comes from that plugin.
"""

from __future__ import annotations

from collections.abc import Callable

# Imported before any inner session: pytester forgets the modules first imported during one, and
# httpx (which imports httpcore lazily) maps httpcore's errors by class, so a second copy of
# httpcore would slip its ConnectError past httpx's mapping.
import httpcore  # noqa: F401
import pytest

# A `login(user_id)` helper for the inner tests: publishes one valid LOGIN_V2 to the mock.
HELPERS = """
import httpx
import pytest


@pytest.fixture
def login(ft_mock):
    def send(user_id="7001"):
        body = {"user_id": user_id, "timestamp": "2024-01-01T00:00:00Z", "origin": "example.com"}
        url = f"{ft_mock.url}/v2/integration/login"
        return httpx.post(url, json=body, headers=ft_mock.headers).status_code

    return send
"""

RunSuite = Callable[..., pytest.RunResult]


@pytest.fixture
def run_suite(pytester: pytest.Pytester) -> RunSuite:
    """Write `source` as a test module (plus `conftest` code) and run pytest on it here."""

    def run(source: str, *args: str, conftest: str = "") -> pytest.RunResult:
        pytester.makeconftest(HELPERS + conftest)
        pytester.makepyfile(source)
        return pytester.runpytest_inprocess("-p", "no:cacheprovider", *args)

    return run
