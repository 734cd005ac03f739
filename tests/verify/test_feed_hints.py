"""A check that needs events the platform has not published yet says what to do about it."""

from __future__ import annotations

import asyncio
import time

import httpx

from mock_ft.settings import DEFAULT_API_KEY
from mock_ft.verify.feed import check_event_feed
from mock_ft.verify.model import CheckResult, VerifyOptions
from tests import web


def _feed(mock_url: str, opt_outs: list[tuple[str, float]]) -> dict[str, CheckResult]:
    options = VerifyOptions("http://operator.invalid", None, ["1001", "1002"], ft_url=mock_url)

    async def run() -> list[CheckResult]:
        async with httpx.AsyncClient() as client:
            return await check_event_feed(client, options, opt_outs, [])

    return {r.name: r for r in asyncio.run(run())}


def test_explain_missing_login_with_what_to_do(mock_url: str) -> None:
    """No LOGIN_V2 yet: the check names the test users and says to log one in, then rerun."""
    results = _feed(mock_url, [])
    login = results["LOGIN_V2 events reach FT valid"]
    assert not login.passed
    assert login.message == (
        "no LOGIN_V2 has reached the mock yet (test users 1001, 1002): log the test user in on "
        f"your platform, publishing to {mock_url}, then rerun"
    )
    assert "register the test user" in results["USER_CREATE_V2 events reach FT valid"].message
    assert "approved deposit" in results["PAYMENT events reach FT valid"].message


def test_explain_invalid_logins_apart_from_missing_ones(mock_url: str) -> None:
    """LOGIN_V2 that arrived but was refused points at the validation check instead."""
    body = {"user_id": "1001", "timestamp": "not a time", "origin": "example.com"}
    headers = {"X-API-Key": DEFAULT_API_KEY}
    web.post(f"{mock_url}/v2/integration/login", json=body, headers=headers)
    login = _feed(mock_url, [])["LOGIN_V2 events reach FT valid"]
    assert login.message.startswith("1 LOGIN_V2 arrived, none valid: fix what")


def test_explain_missing_consent_event(mock_url: str) -> None:
    """An opt-out FT made that never came back as USER_CONSENTS_V2 says to publish it."""
    results = _feed(mock_url, [("1001", time.time())])
    consent = results["a consent change by POST /userconsents is published as USER_CONSENTS_V2"]
    assert not consent.passed
    assert "USER_CONSENTS_V2 of user 1001" in consent.message
    assert "also when FT changes them through POST /userconsents" in consent.message


def test_name_refused_request_to_unknown_endpoint(mock_url: str) -> None:
    """A refusal without an event type shows its method, path and error code, not `None:`."""
    headers = {"X-API-Key": DEFAULT_API_KEY}
    web.post(f"{mock_url}/v2/integration/logn", json={"user_id": "1"}, headers=headers)
    message = _feed(mock_url, [])["every event passes FT's validation"].message
    assert "None" not in message
    assert " POST /v2/integration/logn: " in message
