"""`mock-ft verify` tells a correct operator from each broken one, check by check."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from mock_ft.crm import create_app
from mock_ft.crm.runner import ServerThread
from mock_ft.settings import Settings
from mock_ft.verify import CheckResult, VerifyOptions, run_verification
from mock_ft.verify.model import STEPS
from mock_ft.verify.report import write_reports
from mock_ft.verify.resilience import EXPIRY_CHECK
from reference_operator import OperatorSettings
from reference_operator import create_app as create_operator
from reference_operator.defects import DEFECTS
from tests import web
from tests.serve_process import run_cli
from tests.waiting import HANG_GUARD, wait_until

AUTH = {
    "api_key": "api-key:operator-local-key",
    "basic": "basic:fasttrack:operator-local-secret",
    "oauth2": "oauth:{url}/oauth/token:fasttrack:operator-local-client-secret",
}
# defect: (a failing check's name must contain this, the steps that check needs)
CAUGHT_BY: dict[str, tuple[str, tuple[str, ...]]] = {
    "userdetails_missing_field": ("userdetails of", ("User data",)),
    "userdetails_wrong_type": ("userdetails of", ("User data",)),
    "consents_missing_type": ("userconsents of", ("Consents",)),
    "blocks_wrong_shape": ("userblocks of", ("User data",)),  # read beside each user's details
    "unknown_user_200": ("unknown user answers 404", ("User data",)),
    "no_auth": ("requires FT's credentials", ("Authentication",)),
    "slow_lookups": ("within the latency budget", ("Latency",)),
    "reconciliation_inconsistent": ("reconciliation agrees", ("Blocks and reconciliation",)),
    # the event side proves the credit the bonus step repeated
    "bonus_credit_not_idempotent": ("credits the bonus once", ("Bonus and session", "Event feed")),
    "consents_post_toggles": ("consent POST sent twice", ("Resilience",)),
    "tokens_never_expire": ("expired OAuth token is refused", ("Resilience",)),
    "abandoned_calls_lock_user": ("lookup FT gave up on", ("Resilience",)),
    "events_missing_field": ("every event passes FT's validation", ("Event feed",)),
    "events_wrong_enum_case": ("every event passes FT's validation", ("Event feed",)),
    "no_retry": ("retried until accepted", ("Event feed",)),
    "duplicate_events": ("each event is accepted once", ("Event feed",)),
    "ignores_retry_after": ("wait as long as Retry-After asks", ("Event feed",)),
    "no_backoff": ("back off instead of hammering", ("Event feed",)),
    "late_events": ("within FT's 1-second target", ("Event feed",)),
    "drops_events": ("no event is missing from the stream", ("Event feed",)),
}


@contextmanager
def _integration(
    tmp_path: Path,
    scheme: str = "api_key",
    defects: tuple[str, ...] = (),
    players: int = 3,
    token_ttl_seconds: int = 3600,
    operator_extra: dict[str, Any] | None = None,
    **mock_settings: Any,
) -> Iterator[VerifyOptions]:
    """A mock and a reference operator publishing to it, with some player activity.

    Without a defect, nothing here judges speed: latency budget, FT's 1-second freshness and
    verify's wait for the operator's events are hang guards, so a busy machine cannot fail a
    correct operator (the comparisons are tested on set durations elsewhere). A defect run keeps
    FT's real targets: its test only asks that the defect's own check fails.
    """
    timed = bool(defects)
    if not timed:
        mock_settings.setdefault("freshness_target_ms", HANG_GUARD * 1000)
    with ExitStack() as stack:
        settings = Settings(journal=str(tmp_path / "journal.sqlite3"), **mock_settings)
        mock = stack.enter_context(ServerThread(create_app(settings)))
        if {"no_retry", "no_backoff"} & set(defects):  # FT refuses each event once
            rule = {"status": 503, "first_attempts": 1}
            web.post(f"{mock.url}/_mock/faults", json=rule).raise_for_status()
        if "ignores_retry_after" in defects:  # ... asking for a second's pause
            rule = {"status": 429, "retry_after": 1, "first_attempts": 1}
            web.post(f"{mock.url}/_mock/faults", json=rule).raise_for_status()
        operator_settings = OperatorSettings(
            database=str(tmp_path / "platform.sqlite3"),
            ft_url=mock.url,
            auth=scheme,
            defects=list(defects),
            retry_max_seconds=0.2,
            token_ttl_seconds=token_ttl_seconds,
            **(operator_extra or {}),
        )
        operator = stack.enter_context(ServerThread(create_operator(operator_settings)))
        users = []
        for _ in range(players):
            user = web.post(f"{operator.url}/platform/players").json()["user_id"]
            web.post(f"{operator.url}/platform/players/{user}/login")
            web.post(f"{operator.url}/platform/players/{user}/deposits", json={"amount": 20})
            users.append(user)
        sid = web.post(f"{operator.url}/platform/players/{users[0]}/login").json()["sid"]
        _settle(operator.url, refused=bool(REFUSED_EVENTS & set(defects)))
        options = VerifyOptions(
            operator_url=operator.url,
            auth=AUTH[scheme].format(url=operator.url),
            user_ids=users[:2],
            ft_url=mock.url,
            max_examples=5,
            sid=sid,
        )
        if not timed:
            options.p95_budget_ms = HANG_GUARD * 1000
            options.event_wait_seconds = HANG_GUARD
        yield options


# Defects whose events FT refuses: they stay in the outbox, retried for good.
REFUSED_EVENTS = {"events_missing_field", "events_wrong_enum_case"}


def _settle(operator_url: str, refused: bool) -> None:
    """Until the operator has published everything (late events included); where FT refuses
    the events, until each player's first refused one was sent (the rest wait behind it)."""

    def settled() -> bool:
        outbox = web.get(f"{operator_url}/platform/outbox").json()
        return bool(outbox["next_unsent"] == 0 if refused else outbox["pending"] == 0)

    wait_until(settled, "the operator's outbox emptied (or each player's refused event sent)")


def _failed(results: list[CheckResult]) -> list[str]:
    return [r.name for r in results if not r.passed]


@pytest.mark.parametrize("scheme", ["api_key", "basic", "oauth2"])
def test_pass_correct_operator_under_each_scheme(tmp_path: Path, scheme: str) -> None:
    """The reference operator, correct by default, passes every check, whatever its auth."""
    with _integration(tmp_path, scheme) as options:
        results = run_verification(options)
    assert _failed(results) == []
    unchecked = [r.name for r in results if r.skipped and r.step != "Contract (property-based)"]
    # no tokens, or hour-long ones: not waited out; no token endpoint but with OAuth2
    assert unchecked == ([] if scheme == "oauth2" else [TOKEN_CHECK]) + [EXPIRY_CHECK]
    assert {r.step for r in results} == set(STEPS)
    assert len(results) > 50


TOKEN_CHECK = "the OAuth2 token endpoint refuses a wrong client secret"
# Defects of the callback receivers: FT's callbacks are fired by the mock's rules, not by verify;
# the named tests prove the journal and /_mock/callbacks show them.
USE_CASES = "tests/callbacks/test_use_cases.py"
CAUGHT_ELSEWHERE = {
    "cancel_bonus_noop": f"{USE_CASES}::test_see_cancel_receiver_that_does_nothing",
    "loyalty_receiver_500": f"{USE_CASES}::test_report_failing_loyalty_receiver",
}


def test_cover_every_defect_switch() -> None:
    """A new defect switch without a check (or a named test) that catches it fails here."""
    from tests.verify.test_mutations import MUTATIONS

    assert set(CAUGHT_BY) | set(MUTATIONS) | set(CAUGHT_ELSEWHERE) == set(DEFECTS)
    assert len(CAUGHT_BY) + len(MUTATIONS) + len(CAUGHT_ELSEWHERE) == len(DEFECTS)
    for test in CAUGHT_ELSEWHERE.values():
        path, name = test.split("::")
        assert f"def {name}(" in (Path(__file__).parents[2] / path).read_text(), test


@pytest.mark.parametrize("defect", sorted(CAUGHT_BY))
def test_catch_defect(tmp_path: Path, defect: str) -> None:
    """Each defect fails verification, and a failing check's name says what is wrong."""
    expected, steps = CAUGHT_BY[defect]
    players = 30 if defect == "drops_events" else 3
    oauth = defect == "tokens_never_expire"  # tokens that expire within the wait, to check it
    with _integration(
        tmp_path,
        "oauth2" if oauth else "api_key",
        defects=(defect,),
        players=players,
        token_ttl_seconds=1 if oauth else 3600,
    ) as options:
        options.steps = steps
        if defect == "slow_lookups":
            # One round of callers, each call 1.5 s: with 40 planned calls the callers that
            # answer first, not yet seeing 3 over the budget, each start another 1.5 s round.
            options.concurrent_calls = options.concurrency
        results = run_verification(options)
    failed = _failed(results)
    assert any(expected in name for name in failed), failed


def test_fail_contract_step_on_schema_violation(tmp_path: Path) -> None:
    """The property-based step fails an answer FT's schema forbids (unknown users answered 200
    with an empty object), with the exchange that shows it."""
    with _integration(tmp_path, defects=("unknown_user_200",)) as options:
        options.steps = ("Contract (property-based)",)
        results = run_verification(options)
    failed = {r.name: r for r in results if not r.passed}
    details = failed["GET /userdetails/{user_id} handles generated valid requests"]
    assert "Response violates schema" in details.message
    assert [exchange.status for exchange in details.evidence] == [200]


def test_write_reports(tmp_path: Path) -> None:
    """JSON, one JUnit testcase per check, and an HTML scorecard naming what to fix."""
    with _integration(tmp_path, defects=("blocks_wrong_shape",)) as options:
        options.steps = ("User data",)
        results = run_verification(options)
    html = write_reports(tmp_path / "reports", options, results)
    junit = ET.parse(tmp_path / "reports" / "junit.xml").getroot()  # noqa: S314 - our own file
    cases = junit.findall(".//testcase")
    assert len(cases) == len(results)
    failures = [c for c in cases if c.find("failure") is not None]
    assert [c.get("name") for c in failures] == _failed(results)
    text = html.read_text()
    assert "NOT READY" in text
    assert "operator-local-key" not in text
    assert "What to fix" in text


def test_exit_2_when_operator_is_unreachable(tmp_path: Path) -> None:
    """No operator at the URL: one headline, one explanation, exit 2."""
    result = run_cli(
        "verify", "--operator-url", "http://127.0.0.1:9", "--user-id", "1",
        "--auth", "api-key:k", "--report-dir", str(tmp_path),
    )  # fmt: skip
    assert result.returncode == 2
    assert "Operator unreachable" in result.stderr
    assert "Traceback" not in result.stderr


def test_exit_2_for_bad_auth_spec_without_echoing_it(tmp_path: Path) -> None:
    """A malformed --auth is refused without printing it."""
    result = run_cli(
        "verify", "--operator-url", "http://127.0.0.1:9", "--user-id", "1",
        "--auth", "hunter2", "--report-dir", str(tmp_path),
    )  # fmt: skip
    assert result.returncode == 2
    assert "hunter2" not in result.stderr + result.stdout


def test_exit_1_with_reports_when_a_check_fails(tmp_path: Path) -> None:
    """The command line exits 1 on a failing check and writes its reports."""
    with _integration(tmp_path, defects=("unknown_user_200",)) as options:
        result = run_cli(
            "verify", "--operator-url", options.operator_url, "--user-id", options.user_ids[0],
            "--auth", options.auth or "", "--report-dir", str(tmp_path / "r"),
            "--step", "User data", "--max-examples", "2",
        )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "unknown user answers 404" in result.stdout
    assert (tmp_path / "r" / "report.html").is_file()


def test_fail_sid_the_operator_does_not_know(tmp_path: Path) -> None:
    """A --sid the operator refuses fails the check that it accepts valid sessions."""
    with _integration(tmp_path) as options:
        options.sid = "not-a-session"
        options.steps = ("Bonus and session",)
        results = run_verification(options)
    assert _failed(results) == ["authenticate accepts a valid sid with its user_id"]


def test_report_failed_lookups_of_the_mock(tmp_path: Path) -> None:
    """When the mock could not look users up at the operator, the event side says so."""
    with _integration(tmp_path, operator_url="http://127.0.0.1:9") as options:
        assert options.ft_url is not None
        idle = web.get(f"{options.ft_url}/_mock/idle", params={"timeout": 60}, timeout=90)
        assert idle.status_code == 200  # the failed lookups are journaled
        options.steps = ("Event feed",)
        results = run_verification(options)
    failed = [r for r in results if not r.passed]
    assert [r.name for r in failed] == ["the mock's FT-style lookups of the operator succeed"]
    assert "cannot connect" in failed[0].message


def test_read_operator_from_config_file(tmp_path: Path) -> None:
    """operator_url and operator_auth can come from the same config file as `serve`."""
    with _integration(tmp_path) as options:
        config = tmp_path / "mock-ft.yaml"
        config.write_text(f"operator_url: {options.operator_url}\noperator_auth: {options.auth}\n")
        result = run_cli(
            "verify", "--config", str(config), "--user-id", options.user_ids[0],
            "--step", "User data", "--report-dir", str(tmp_path / "r"),
        )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "operator-local-key" not in result.stdout + result.stderr


def test_exit_2_without_an_operator(tmp_path: Path) -> None:
    """No --operator-url and none configured: a clear usage error."""
    result = run_cli("verify", "--user-id", "1", "--report-dir", str(tmp_path))
    assert result.returncode == 2
    assert "pass --operator-url" in result.stderr


def test_check_event_feed_of_mock_with_control_token(tmp_path: Path) -> None:
    """verify --ft-url reads a token-protected mock's journal with the token."""
    token = "t0k-verify"
    with _integration(tmp_path, control_token=token) as options:
        options.steps = ("Event feed",)
        options.control_token = token
        results = run_verification(options)
    assert _failed(results) == []
    assert len(results) > 5
