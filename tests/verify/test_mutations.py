"""The mutation score: each defect switch of issue 21's kinds fails the check named for it.

Each case gets its own mock and reference operator (the mock's delivery report is per
journal) and runs only the steps that catch its defect.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from mock_ft.crm import create_app
from mock_ft.crm.runner import ServerThread
from mock_ft.settings import Settings
from mock_ft.verify import CheckResult, VerifyOptions, run_verification
from reference_operator import OperatorSettings
from reference_operator import create_app as create_operator
from tests import web
from tests.waiting import HANG_GUARD, wait_until

# defect: (a failing check's name contains this, the steps that run)
MUTATIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "consents_post_noop": ("a consent change by POST /userconsents shows in GET", ("Consents",)),
    "consents_post_changes_all": ("changes only the type it names", ("Consents",)),
    "consents_post_other_users": ("leaves other users' consents alone", ("Consents",)),
    "consents_unknown_type_accepted": (
        "POST /userconsents refuses an unknown $.consents[1].type",
        ("Refusals",),
    ),
    "refused_request_changes_state": (
        "an FT-invalid POST /userconsents leaves the consents unchanged",
        ("Refusals",),
    ),
    "refusals_not_ft_shape": ("answers each refusal in FT's error shape", ("Refusals",)),
    "funds_negative_amount_accepted": (
        "POST /bonus/credit/funds refuses $.amount below FT's minimum 0",
        ("Refusals",),
    ),
    "funds_amount_truncated": (
        "bonus/credit/funds credits the amount FT sent",
        ("Bonus and session", "Event feed"),
    ),
    "bonus_credit_noop": (
        "an accepted bonus credit shows as a BONUS event",
        ("Bonus and session", "Event feed"),
    ),
    "bonus_list_retired_code": (
        "bonus/credit accepts every code bonus/list offers",
        ("Bonus and session",),
    ),
    "reconciliation_stale": (
        "reconciliation of consent_sms follows a consent change",
        ("Consents",),
    ),
    "userdetails_wrong_user": ("userdetails answers each user's own details", ("User data",)),
    "authenticate_internal_id": (
        "authenticate answers the user_id of a player /userdetails knows",
        ("Bonus and session",),
    ),
    "token_endpoint_any_secret": (
        "the OAuth2 token endpoint refuses a wrong client secret",
        ("Authentication",),
    ),
    "slow_under_concurrency": (
        "within the latency budget under 4 concurrent callers",
        ("Latency",),
    ),
    "consents_change_not_published": (
        "a consent change by POST /userconsents is published as USER_CONSENTS_V2",
        ("Consents", "Event feed"),
    ),
    "bonus_event_no_references": (
        "BONUS events echo FT's X-Fasttrack-* headers",
        ("Bonus and session", "Event feed"),
    ),
}
AUTH = {
    "api_key": "api-key:operator-local-key",
    "oauth2": "oauth:{url}/oauth/token:fasttrack:operator-local-client-secret",
}


@pytest.fixture
def mock_url(tmp_path: Path) -> Iterator[str]:
    journal = tmp_path / "journal.sqlite3"
    with ServerThread(create_app(Settings(journal=str(journal)))) as mock:
        yield mock.url


@contextmanager
def _operator(
    mock_url: str, tmp_path: Path, defect: str | None, steps: tuple[str, ...]
) -> Iterator[VerifyOptions]:
    scheme = "oauth2" if defect == "token_endpoint_any_secret" else "api_key"
    settings = OperatorSettings(
        database=str(tmp_path / "platform.sqlite3"),
        ft_url=mock_url,
        auth=scheme,
        defects=[defect] if defect else [],
        retry_max_seconds=0.2,
    )
    with ServerThread(create_operator(settings)) as operator:
        users = [web.post(f"{operator.url}/platform/players").json()["user_id"] for _ in "ab"]
        for user in users:
            web.post(f"{operator.url}/platform/players/{user}/deposits", json={"amount": 20})
        sid = web.post(f"{operator.url}/platform/players/{users[0]}/login").json()["sid"]
        if "Event feed" in steps:  # the players' own events in first
            _settle(operator.url)
        yield VerifyOptions(
            operator_url=operator.url,
            auth=AUTH[scheme].format(url=operator.url),
            user_ids=users,
            ft_url=mock_url,
            sid=sid,
            steps=steps,
        )


def _settle(operator_url: str) -> None:
    wait_until(
        lambda: web.get(f"{operator_url}/platform/outbox").json()["pending"] == 0,
        "the operator's outbox emptied",
    )


def _failed(results: list[CheckResult]) -> list[str]:
    return [r.name for r in results if not r.passed]


def _why(results: list[CheckResult]) -> list[tuple[str, str]]:
    return [(r.name, r.message) for r in results if not r.passed]


@pytest.mark.parametrize("defect", sorted(MUTATIONS))
def test_catch_new_defect_by_its_named_check(mock_url: str, tmp_path: Path, defect: str) -> None:
    """Each new defect fails verification, and a failing check's name says what is wrong."""
    expected, steps = MUTATIONS[defect]
    with _operator(mock_url, tmp_path, defect, steps) as options:
        results = run_verification(options)
    assert any(expected in name for name in _failed(results)), _why(results)


def test_pass_the_same_steps_without_defects(tmp_path: Path) -> None:
    """The checks that catch the defects pass a correct operator (so the defect is the cause)."""
    steps = tuple(sorted({step for _, used in MUTATIONS.values() for step in used}))
    # Whether this VM is fast enough right now is not the point here: latency budget, FT's
    # 1-second freshness and the wait for the operator's events are set out of reach (the
    # comparisons are tested on given durations, e.g. test_latency.py).
    untimed = Settings(
        journal=str(tmp_path / "journal.sqlite3"), freshness_target_ms=HANG_GUARD * 1000
    )
    with (
        ServerThread(create_app(untimed)) as mock,
        _operator(mock.url, tmp_path, None, steps) as options,
    ):
        options.p95_budget_ms = HANG_GUARD * 1000
        options.event_wait_seconds = HANG_GUARD
        results = run_verification(options)
    assert _why(results) == []
    names = [r.name for r in results if not r.skipped]
    for expected, _ in MUTATIONS.values():
        if "OAuth2" not in expected:  # this operator takes an API key: no token endpoint
            assert any(expected in name for name in names), expected


def test_state_mutation_score_in_docs() -> None:
    """docs/verify.md gives the score of the catalogue as it is."""
    from reference_operator.defects import DEFECTS
    from tests.verify.test_verify import CAUGHT_BY, CAUGHT_ELSEWHERE

    by_verify = len(CAUGHT_BY) + len(MUTATIONS)
    text = (Path(__file__).parents[2] / "docs" / "verify.md").read_text()
    assert f"**{len(MUTATIONS)} of {len(MUTATIONS)}**" in text
    assert f"**{by_verify} of {len(DEFECTS)}**" in text
    assert len(DEFECTS) == by_verify + len(CAUGHT_ELSEWHERE)
