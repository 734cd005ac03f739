"""The `ft_verify` fixture: mock-ft verify inside a test, failing it with each failed check."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mock_ft.crm.runner import ServerThread, bind_socket
from reference_operator import OperatorSettings
from reference_operator import create_app as create_operator
from tests.plugin.conftest import RunSuite

pytest_plugins = ["pytester"]


@pytest.fixture
def broken_operator(tmp_path: Path) -> Iterator[str]:
    """A reference operator that answers 200 for users it does not know."""
    settings = OperatorSettings(
        database=str(tmp_path / "platform.sqlite3"),
        ft_url="http://127.0.0.1:9",  # what it publishes is not the point here
        defects=["unknown_user_200"],
    )
    with ServerThread(create_operator(settings)) as operator:
        yield operator.url


def test_fail_listing_failed_checks(run_suite: RunSuite, broken_operator: str) -> None:
    """Each failed check is named in the failure, with its step and why."""
    user = httpx.post(f"{broken_operator}/platform/players").json()["user_id"]
    result = run_suite(
        f"""
def test_verify(ft_verify):
    ft_verify(user_ids=["{user}"], steps=("User data",))
""",
        f"--ft-operator-url={broken_operator}",
        "--ft-operator-auth=api-key:operator-local-key",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*mock-ft verify: 1 of * check(s) failed",
            "*User data: unknown user answers 404 with FT's error body: *answered 200*",
        ]
    )


def test_require_operator_and_users(run_suite: RunSuite) -> None:
    """Without an Operator API or test users, ft_verify says what it needs."""
    result = run_suite("def test_verify(ft_verify):\n    ft_verify(user_ids=['1'])\n")
    result.assert_outcomes(failed=1)
    pytest_hint = "in pytest: ft_verify(operator_url=...) or --ft-operator-url)"
    result.stdout.fnmatch_lines([f"*ft_verify: no operator to verify; *{pytest_hint}"])


def test_refuse_unknown_verify_option(run_suite: RunSuite) -> None:
    """A misspelt option of mock-ft verify fails the test, naming it."""
    result = run_suite(
        "def test_verify(ft_verify):\n"
        "    ft_verify('http://127.0.0.1:9', user_ids=['1'], max_example=3)\n"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*ft_verify: *unexpected keyword argument 'max_example'*"])


def test_report_unreachable_operator(run_suite: RunSuite) -> None:
    """An Operator API nobody answers at fails the test with the reason, not a traceback."""
    sock = bind_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there any more
    result = run_suite(
        "def test_verify(ft_verify):\n"
        f"    ft_verify('http://127.0.0.1:{port}', user_ids=['1'], steps=('User data',))\n"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*mock-ft verify cannot run: cannot connect to the operator*"])


def test_mark_tests_using_ft_verify(run_suite: RunSuite) -> None:
    """Tests that use `ft_verify` carry the `ft_verify` marker, so `-m` can leave them out."""
    result = run_suite(
        "def test_verify(ft_verify):\n    pass\n\ndef test_other():\n    pass\n",
        "-m",
        "not ft_verify",
    )
    result.assert_outcomes(passed=1, deselected=1)
