"""What `mock-ft verify` prints: failures first with what to fix, skip reasons, the totals."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console

from mock_ft.verify.model import CheckResult, Exchange
from mock_ft.verify.report import print_summary

SNAPSHOTS = Path(__file__).parent / "snapshots"


def _results() -> list[CheckResult]:
    refused = Exchange(
        "GET", "http://127.0.0.1:8766/userdetails/1002", {"X-Api-Key": "***"}, None, 404,
        '{"error": "unknown user", "code": 404}', 3.2,
    )  # fmt: skip
    return [
        CheckResult("Authentication", "userdetails requires FT's credentials", True, "ok"),
        CheckResult(
            "User data",
            "userdetails of 1002 has FT's 25 keys and types",
            False,
            "answered 404, FT needs 200",
            [refused],
        ),
        CheckResult("User data", "userdetails of 1001 has FT's 25 keys and types", True, "ok"),
        CheckResult(
            "Bonus and session",
            "authenticate accepts a valid sid with its user_id",
            True,
            "not checked: pass --sid with the session id of a logged-in test user",
            skipped=True,
        ),
        CheckResult(
            "Event feed",
            "LOGIN_V2 events reach FT valid",
            False,
            "no LOGIN_V2 has reached the mock yet (test users 1001, 1002): log the test user in "
            "on your platform, publishing to http://127.0.0.1:8765, then rerun",
        ),
        CheckResult("Event feed", "[fasttrack.events] keeps its [brackets]", True, "ok"),
    ]


def _printed(results: list[CheckResult], verbosity: int, seconds: float = 8.123) -> str:
    console = Console(record=True, width=100, color_system=None, file=io.StringIO())
    print_summary(console, results, seconds, verbosity)
    return console.export_text()


@pytest.mark.parametrize(("verbosity", "name"), [(0, "default"), (-1, "quiet"), (1, "verbose")])
def test_print_verify_outcome(verbosity: int, name: str) -> None:
    """Failures first (the default adds a curl to reproduce each), then skips, then the totals."""
    expected = (SNAPSHOTS / f"verify-{name}.txt").read_text()
    assert _printed(_results(), verbosity) == expected


def test_print_ready_line_when_nothing_failed() -> None:
    """All passed: READY and the counts, in the units a person reads."""
    passed = [r for r in _results() if r.passed]
    text = _printed(passed, 0, seconds=72.4)
    assert text.endswith("READY: 3 passed, 1 skipped in 1 min 12 s\n")
    assert "failures" not in text


def test_keep_square_brackets_of_check_names() -> None:
    """Rich would take `[fasttrack.events]` for markup; the table shows it as written."""
    text = _printed(_results(), 1)
    assert "[fasttrack.events] keeps its" in text
    assert "[brackets]" in text


def test_show_verdict_in_summary_line() -> None:
    """The last line is the verdict and the counts, like pytest's."""
    last = _printed(_results(), 0).splitlines()[-1]
    assert re.fullmatch(r"NOT READY: 2 failed, 3 passed, 1 skipped in 8\.1 s", last)
