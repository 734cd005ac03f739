"""FT-style lookups against a real reference operator, over real sockets, under each auth scheme."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from mock_ft.crm import create_app
from mock_ft.crm.runner import ServerThread
from mock_ft.settings import Settings
from reference_operator import OperatorSettings
from reference_operator import create_app as create_operator
from tests import web

AUTH = {
    "api_key": "api-key:operator-local-key",
    "basic": "basic:fasttrack:operator-local-secret",
    "oauth2": "oauth:{url}/oauth/token:fasttrack:operator-local-client-secret",
}
Pair = Callable[..., AbstractContextManager[tuple[str, str]]]
_HANG_GUARD_SECONDS = 60.0


@pytest.fixture
def pair(tmp_path: Path) -> Pair:
    """`with pair(scheme, defects=[...]) as (mock_url, operator_url):` both really serving."""

    @contextmanager
    def start(scheme: str = "api_key", **mock: Any) -> Iterator[tuple[str, str]]:
        defects = mock.pop("defects", [])
        with ExitStack() as stack:
            # The operator needs the mock's URL and the mock the operator's: bind both first.
            operator_settings = OperatorSettings(
                database=str(tmp_path / "platform.sqlite3"), auth=scheme, defects=defects
            )
            operator = stack.enter_context(ServerThread(create_operator(operator_settings)))
            # These tests judge status and shape, not speed: the budget is the timeout, so a
            # lookup that answers at all is within it, however busy the machine (the timeout
            # is a hang guard). test_flag_slow_lookups sets a budget the slow defect overruns.
            values = {
                "operator_auth": AUTH[scheme].format(url=operator.url),
                "lookup_timeout_seconds": _HANG_GUARD_SECONDS,
                "lookup_budget_ms": _HANG_GUARD_SECONDS * 1000,
                **mock,
            }
            settings = Settings(
                journal=str(tmp_path / "journal.sqlite3"), operator_url=operator.url, **values
            )
            server = stack.enter_context(ServerThread(create_app(settings)))
            operator_settings.ft_url = server.url  # the dispatcher reads it per publish
            yield server.url, operator.url

    return start


def _lookups(mock_url: str, count: int, **params: Any) -> list[dict[str, Any]]:
    """Poll /_mock/lookups until `count` are journaled (or the hang guard gives up)."""
    deadline = time.monotonic() + _HANG_GUARD_SECONDS
    while True:
        data: list[dict[str, Any]] = web.get(f"{mock_url}/_mock/lookups", params=params).json()[
            "data"
        ]
        if len(data) >= count or time.monotonic() > deadline:
            return data
        time.sleep(0.05)


@pytest.mark.parametrize("scheme", ["api_key", "basic", "oauth2"])
def test_look_up_registered_player_under_each_scheme(pair: Pair, scheme: str) -> None:
    """A registration makes the mock fetch details, consents and blocks: all 200, FT's shape."""
    with pair(scheme) as (mock_url, operator_url):
        user = web.post(f"{operator_url}/platform/players").json()["user_id"]
        lookups = _lookups(mock_url, 3, user_id=user)
    assert sorted(lookup["endpoint"] for lookup in lookups) == [
        "userblocks",
        "userconsents",
        "userdetails",
    ]
    assert [(lk["status_code"], lk["ok"], lk["problems"]) for lk in lookups] == [
        (200, True, [])
    ] * 3


def test_link_lookups_from_their_event(pair: Pair) -> None:
    """The event detail lists the lookups it caused; a consents event causes one lookup."""
    with pair() as (mock_url, operator_url):
        user = web.post(f"{operator_url}/platform/players").json()["user_id"]
        web.put(f"{operator_url}/platform/players/{user}/consents", json={"sms": False})
        _lookups(mock_url, 4, user_id=user)  # 3 for the registration, 1 for the consents
        # Lookups run side by side, so the newest lookup need not be the consents event's: ask
        # each event for its own.
        events = web.get(f"{mock_url}/_mock/events", params={"user_id": user}).json()["data"]
        details = {
            e["event_type"]: web.get(f"{mock_url}/_mock/events/{e['id']}").json() for e in events
        }
    consents = details["USER_CONSENTS_V2"]["lookups"]
    assert [lookup["endpoint"] for lookup in consents] == ["userconsents"]
    assert '"opted_in":false,"type":"sms"' in consents[0]["response"]
    registration = details["USER_CREATE_V2"]["lookups"]
    assert sorted(lk["endpoint"] for lk in registration) == [
        "userblocks",
        "userconsents",
        "userdetails",
    ]


@pytest.mark.parametrize(
    ("defect", "endpoint", "path"),
    [
        ("userdetails_missing_field", "userdetails", "$"),
        ("userdetails_wrong_type", "userdetails", "$.is_blocked"),
        ("consents_missing_type", "userconsents", "$.consents"),
        ("blocks_wrong_shape", "userblocks", "$.blocks"),
    ],
)
def test_flag_wrong_shapes(pair: Pair, defect: str, endpoint: str, path: str) -> None:
    """A shape defect fails its lookup with the JSON path of what is wrong."""
    with pair(defects=[defect]) as (mock_url, operator_url):
        user = web.post(f"{operator_url}/platform/players").json()["user_id"]
        [lookup] = _lookups(mock_url, 1, user_id=user, endpoint=endpoint)
    assert lookup["ok"] is False
    assert path in [problem["path"] for problem in lookup["problems"]]
    assert {problem["code"] for problem in lookup["problems"]} == {"shape"}


def test_flag_refused_credentials(pair: Pair) -> None:
    """Credentials the operator refuses fail every lookup with the status it answered."""
    with pair("api_key", operator_auth="api-key:wrong") as (mock_url, operator_url):
        user = web.post(f"{operator_url}/platform/players").json()["user_id"]
        lookups = _lookups(mock_url, 3, user_id=user)
    assert {(lk["status_code"], lk["problems"][0]["code"]) for lk in lookups} == {(401, "status")}


def test_flag_slow_lookups(pair: Pair) -> None:
    """Answers slower than the budget are flagged `slow`, yet still count as ok."""
    with pair(defects=["slow_lookups"], lookup_budget_ms=1000) as (mock_url, operator_url):
        user = web.post(f"{operator_url}/platform/players").json()["user_id"]
        lookups = _lookups(mock_url, 3, user_id=user)
    assert all(lk["latency_ms"] >= 1400 for lk in lookups)
    assert {(lk["ok"], lk["problems"][0]["code"]) for lk in lookups} == {(True, "slow")}
