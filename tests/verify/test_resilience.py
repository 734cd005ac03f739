"""The Resilience step: repeated POSTs, an expired OAuth token, and calls FT gives up on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mock_ft.verify import CheckResult, run_verification
from mock_ft.verify.resilience import EXPIRY_CHECK, STEP
from tests.serve_process import run_cli
from tests.verify.test_verify import _failed, _integration

ABANDONED_LOOKUP = "a lookup FT gave up on leaves the next one answering as before"
RESENT_CREDIT = "a bonus/credit FT gave up on and sent again is accepted"
CREDITED_ONCE = "a repeated X-Fasttrack-Id credits the bonus once"


def _named(results: list[CheckResult], name: str) -> CheckResult:
    [result] = [r for r in results if r.name == name]
    return result


@pytest.mark.parametrize("scheme", ["api_key", "basic", "oauth2"])
def test_pass_resilience_under_each_scheme(tmp_path: Path, scheme: str) -> None:
    """The correct operator passes, the event side included; tokens expire only under OAuth2."""
    with _integration(tmp_path, scheme, token_ttl_seconds=1) as options:
        options.steps = (STEP, "Event feed")
        results = run_verification(options)
    assert _failed(results) == []
    assert len([r for r in results if r.step == STEP]) == 5
    assert _named(results, CREDITED_ONCE).passed
    assert _named(results, EXPIRY_CHECK).skipped is (scheme != "oauth2")


def test_refuse_expired_token_then_accept_a_new_one(tmp_path: Path) -> None:
    """Under OAuth2 the check waits the token out: 200 fresh, 401 expired, 200 renewed."""
    with _integration(tmp_path, "oauth2", token_ttl_seconds=1) as options:
        options.steps = (STEP,)
        results = run_verification(options)
    expiry = _named(results, EXPIRY_CHECK)
    assert [e.status for e in expiry.evidence] == [200, 401, 200]
    assert {e.request_headers["Authorization"] for e in expiry.evidence} == {"***"}
    assert "operator-local-client-secret" not in repr(results)


def test_abandon_calls_before_the_answer(tmp_path: Path) -> None:
    """The lookup and the credit given up on got no answer; the calls after them did."""
    with _integration(tmp_path) as options:
        options.steps = (STEP,)
        results = run_verification(options)
    assert [e.status for e in _named(results, ABANDONED_LOOKUP).evidence] == [200, None, 200]
    assert [e.status for e in _named(results, RESENT_CREDIT).evidence] == [None, 200]


def test_skip_token_expiry_without_oauth(tmp_path: Path) -> None:
    """Keys and Basic credentials do not expire: the check says why it did not run."""
    with _integration(tmp_path, "basic") as options:
        options.steps = (STEP,)
        results = run_verification(options)
    expiry = _named(results, EXPIRY_CHECK)
    assert expiry.skipped
    assert expiry.message == "not checked: only OAuth2 tokens expire (--auth is basic)"


def test_skip_token_expiry_beyond_the_wait(tmp_path: Path) -> None:
    """Hour-long tokens are not waited out; the reason says how to make it checkable."""
    with _integration(tmp_path, "oauth2") as options:
        options.steps = (STEP,)
        results = run_verification(options)
    expiry = _named(results, EXPIRY_CHECK)
    assert expiry.skipped
    assert "tokens live 3600 s" in expiry.message
    assert "--token-expiry-wait 3600" in expiry.message


def test_take_token_expiry_wait_from_command_line(tmp_path: Path) -> None:
    """`--token-expiry-wait` is the budget: 2-second tokens are not waited out within 1 s."""
    with _integration(tmp_path, "oauth2", token_ttl_seconds=2) as options:
        result = run_cli(
            "verify", "--operator-url", options.operator_url, "--user-id", options.user_ids[0],
            "--auth", options.auth or "", "--report-dir", str(tmp_path / "r"),
            "--step", STEP, "--token-expiry-wait", "1",
        )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    checks = json.loads((tmp_path / "r" / "report.json").read_text())["checks"]
    [expiry] = [c for c in checks if c["name"] == EXPIRY_CHECK]
    assert expiry["skipped"]
    assert "--token-expiry-wait 2" in expiry["message"]
    assert "operator-local-client-secret" not in result.stdout + result.stderr


def test_catch_repeated_credits_on_the_event_side(tmp_path: Path) -> None:
    """Funds sent twice and a credit re-sent after giving up are each credited twice: named."""
    with _integration(tmp_path, defects=("bonus_credit_not_idempotent",)) as options:
        options.steps = (STEP, "Event feed")
        results = run_verification(options)
    credited = _named(results, CREDITED_ONCE)
    assert not credited.passed
    assert "-funds: 2 bonuses" in credited.message
    assert "-resent: 2 bonuses" in credited.message


def test_catch_resent_credit_refused(tmp_path: Path) -> None:
    """An operator left locked by a call FT gave up on refuses the re-sent credit."""
    with _integration(tmp_path, defects=("abandoned_calls_lock_user",)) as options:
        options.steps = (STEP,)
        results = run_verification(options)
    resent = _named(results, RESENT_CREDIT)
    assert not resent.passed
    assert resent.message == "sent again it answered 503"
