"""The receivers of FT's Callback Actions: x-api-key only, idempotent on X-Fasttrack-Id."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.reference_operator.conftest import OperatorFactory, queued

NOWHERE = "http://127.0.0.1:9"  # publishing is not under test here: events stay in the outbox
CALLBACK = {"x-api-key": "operator-callback-key"}
OPERATOR_KEY = {"X-Api-Key": "operator-local-key"}
CANCEL, LOYALTY = "/callbacks/bonus/cancel", "/callbacks/loyalty"


@pytest.fixture
def client(make_operator: OperatorFactory) -> Iterator[TestClient]:
    with make_operator(ft_url=NOWHERE, retry_base_seconds=60) as operator:
        yield operator


def _player(client: TestClient) -> str:
    user_id: str = client.post("/platform/players").json()["user_id"]
    return user_id


def _bonus(client: TestClient, user: str, *actions: str) -> str:
    """A granted bonus (Pending), moved on by `actions` (claim, wager, complete)."""
    response = client.post(f"/platform/players/{user}/bonuses", json={"bonus_code": "RELOAD25"})
    user_bonus_id: str = response.json()["user_bonus_id"]
    for action in actions:
        client.post(f"/platform/bonuses/{user_bonus_id}/{action}")
    return user_bonus_id


def _forfeited(client: TestClient) -> list[str]:
    return [e["user_bonus_id"] for e in queued(client, "BONUS") if e["status"] == "Forfeited"]


def _cancel(client: TestClient, user: str, ft_id: str | None = None) -> dict[str, Any]:
    headers = {**CALLBACK, **({"X-Fasttrack-Id": ft_id} if ft_id else {})}
    response = client.post(
        CANCEL, json={"user_id": [user], "reason": "withdrawal"}, headers=headers
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _loyalty(client: TestClient, user: str, turnover: Any, ft_id: str | None = None) -> Any:
    headers = {**CALLBACK, **({"X-Fasttrack-Id": ft_id} if ft_id else {})}
    body = {"user_id": user, "turnover": turnover, "programme": "vip", "segment": "casino"}
    return client.post(LOYALTY, json=body, headers=headers)


def test_cancel_forfeits_active_bonuses(client: TestClient) -> None:
    """Pending, Created and Ongoing bonuses are forfeited (BONUS Forfeited); Completed stays."""
    user = _player(client)
    active = [
        _bonus(client, user),
        _bonus(client, user, "claim"),
        _bonus(client, user, "claim", "wager"),
    ]
    _bonus(client, user, "claim", "complete")
    answer = _cancel(client, user)
    assert answer == {"data": "Success", "cancelled": active, "duplicate": False}
    assert _forfeited(client) == active
    assert client.get(f"/platform/players/{user}").json()["bonus_balance"] == 0


def test_cancel_accepts_user_id_without_list(client: TestClient) -> None:
    """`user_id` may be a plain string as well as FT's template list."""
    user = _player(client)
    bonus = _bonus(client, user)
    response = client.post(CANCEL, json={"user_id": user}, headers=CALLBACK)
    assert response.json()["cancelled"] == [bonus]


def test_cancel_nothing_without_active_bonus(client: TestClient) -> None:
    """A player with no active bonus: Success, nothing cancelled, no BONUS event."""
    user = _player(client)
    _bonus(client, user, "claim", "complete")
    assert _cancel(client, user)["cancelled"] == []
    assert _forfeited(client) == []


def test_cancel_nothing_when_one_user_is_unknown(client: TestClient) -> None:
    """One unknown user among several is a 404 before any bonus is touched."""
    user = _player(client)
    _bonus(client, user)
    response = client.post(CANCEL, json={"user_id": [user, "nobody"]}, headers=CALLBACK)
    assert response.status_code == 404
    assert _forfeited(client) == []


def test_answer_repeated_cancel_as_duplicate(client: TestClient) -> None:
    """A repeated X-Fasttrack-Id gets the first answer back and cancels nothing new."""
    user = _player(client)
    first_bonus = _bonus(client, user)
    first = _cancel(client, user, ft_id="ft-1")
    later_bonus = _bonus(client, user)  # would be cancelled if the repeat were served again
    again = _cancel(client, user, ft_id="ft-1")
    assert again == {**first, "duplicate": True}
    assert first["cancelled"] == [first_bonus]
    assert _forfeited(client) == [first_bonus]
    assert later_bonus not in again["cancelled"]


@pytest.mark.parametrize("path", [CANCEL, LOYALTY])
@pytest.mark.parametrize(
    "headers", [{}, {"x-api-key": "wrong"}, OPERATOR_KEY], ids=["missing", "wrong", "operator-key"]
)
def test_refuse_call_without_callback_key(
    client: TestClient, path: str, headers: dict[str, str]
) -> None:
    """Only the callback key opens a receiver; 401 in FT's shape otherwise, nothing done."""
    user = _player(client)
    _bonus(client, user)
    response = client.post(path, json={"user_id": user, "turnover": 5}, headers=headers)
    assert response.status_code == 401
    assert response.json() == {"error": "missing or wrong x-api-key", "code": 401}
    assert (_forfeited(client), queued(client, "CUSTOM")) == ([], [])


@pytest.mark.parametrize("path", [CANCEL, LOYALTY])
def test_answer_unknown_user_with_404(client: TestClient, path: str) -> None:
    """An unknown user is 404 with FT's `{"error", "code"}` and nothing else."""
    response = client.post(path, json={"user_id": "nobody", "turnover": 5}, headers=CALLBACK)
    assert response.status_code == 404
    assert set(response.json()) == {"error", "code"}


def test_set_loyalty_points_and_publish_custom(client: TestClient) -> None:
    """Points = floor(turnover); CUSTOM loyalty_points_updated carries them as strings."""
    user = _player(client)
    response = _loyalty(client, user, 123.9)
    assert response.json() == {
        "data": "Success",
        "points": 123,
        "changed": True,
        "duplicate": False,
    }
    [event] = queued(client, "CUSTOM")
    assert (event["user_id"], event["notification_type"]) == (user, "loyalty_points_updated")
    assert event["data"] == {"points": "123", "programme": "vip"}
    assert client.get(f"/platform/players/{user}").json()["loyalty_points"] == 123


def test_publish_nothing_for_unchanged_points(client: TestClient) -> None:
    """The same turnover again (a new trigger): changed false and no second event."""
    user = _player(client)
    _loyalty(client, user, 40.2)
    again = _loyalty(client, user, 40.7).json()
    assert (again["points"], again["changed"]) == (40, False)
    assert len(queued(client, "CUSTOM")) == 1


def test_answer_repeated_loyalty_as_duplicate(client: TestClient) -> None:
    """A repeated X-Fasttrack-Id is answered as before, even with another turnover."""
    user = _player(client)
    first = _loyalty(client, user, 10, ft_id="ft-9").json()
    again = _loyalty(client, user, 99, ft_id="ft-9").json()
    assert again == {**first, "duplicate": True}
    assert client.get(f"/platform/players/{user}").json()["loyalty_points"] == 10


def test_serve_one_fasttrack_id_at_each_receiver(client: TestClient) -> None:
    """One trigger's actions share an X-Fasttrack-Id: each receiver serves it once."""
    user = _player(client)
    _bonus(client, user)
    assert _cancel(client, user, ft_id="ft-5")["duplicate"] is False
    assert _loyalty(client, user, 3, ft_id="ft-5").json()["duplicate"] is False


@pytest.mark.parametrize("turnover", [-1, "lots", None])
def test_refuse_invalid_turnover(client: TestClient, turnover: Any) -> None:
    """A negative or non-numeric turnover is a 400 in FT's shape, and sets nothing."""
    user = _player(client)
    response = _loyalty(client, user, turnover)
    assert (response.status_code, set(response.json())) == (400, {"error", "code"})
    assert client.get(f"/platform/players/{user}").json()["loyalty_points"] == 0


def test_credit_bonus_with_callback_key(client: TestClient) -> None:
    """Refer-a-friend reaches /bonus/credit as a Callback Action, with the callback key."""
    user = _player(client)
    body = {"user_id": user, "bonus_code": "REFERRAL10"}
    response = client.post("/bonus/credit", json=body, headers={**CALLBACK, "X-Fasttrack-Id": "r1"})
    assert response.status_code == 200
    [event] = queued(client, "BONUS")
    assert (event["bonus_code"], event["type"], event["fasttrack_references"]) == (
        "REFERRAL10",
        "ReloadBonus",
        {"id": "r1"},
    )


def test_credit_bonus_with_operator_auth(make_operator: OperatorFactory) -> None:
    """The configured Operator API auth (here Basic) still opens /bonus/credit."""
    with make_operator(ft_url=NOWHERE, auth="basic") as client:
        user = _player(client)
        body = {"user_id": user, "bonus_code": "CHATBONUS5"}
        basic = client.post("/bonus/credit", json=body, auth=("fasttrack", "operator-local-secret"))
        callback = client.post("/bonus/credit", json=body, headers=CALLBACK)
        wrong = client.post("/bonus/credit", json=body, headers={"x-api-key": "wrong"})
    assert (basic.status_code, callback.status_code, wrong.status_code) == (200, 200, 401)


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/userdetails/{}"), ("POST", "/bonus/credit/funds")]
)
def test_refuse_callback_key_elsewhere(client: TestClient, method: str, path: str) -> None:
    """The callback key opens only /bonus/credit of the Operator API."""
    user = _player(client)
    response = client.request(method, path.format(user), json={}, headers=CALLBACK)
    assert response.status_code == 401


def test_list_callback_bonus_codes(client: TestClient) -> None:
    """/bonus/list offers the refer-a-friend and chat bonus bot rewards."""
    body = client.get("/bonus/list", headers=OPERATOR_KEY).json()
    assert {"REFERRAL10", "CHATBONUS5"} <= {b["value"] for b in body["Data"]}


def test_defect_cancel_bonus_noop(make_operator: OperatorFactory) -> None:
    """`cancel_bonus_noop`: Success, yet the bonus runs on and nothing is published."""
    with make_operator(ft_url=NOWHERE, defects=["cancel_bonus_noop"]) as client:
        user = _player(client)
        _bonus(client, user)
        assert _cancel(client, user) == {"data": "Success", "cancelled": [], "duplicate": False}
        assert _forfeited(client) == []


def test_defect_loyalty_receiver_500(make_operator: OperatorFactory) -> None:
    """`loyalty_receiver_500`: a valid sync is a 500 and sets no points."""
    with make_operator(ft_url=NOWHERE, defects=["loyalty_receiver_500"]) as client:
        user = _player(client)
        response = _loyalty(client, user, 50)
        assert (response.status_code, response.json()["code"]) == (500, 500)
        assert client.get(f"/platform/players/{user}").json()["loyalty_points"] == 0
