"""The Operator API in FT's strict shapes, checked against contracts/operator-api.yaml."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.reference_operator.conftest import OperatorFactory, conforms

KEY = {"X-Api-Key": "operator-local-key"}
NOWHERE = "http://127.0.0.1:9"  # publishing is not under test here


@pytest.fixture
def client(make_operator: OperatorFactory) -> Iterator[TestClient]:
    with make_operator(ft_url=NOWHERE) as operator:
        yield operator


def _player(client: TestClient, **body: Any) -> str:
    user_id: str = client.post("/platform/players", json=body or None).json()["user_id"]
    return user_id


def test_answer_userdetails_in_ft_shape(client: TestClient) -> None:
    """All 25 keys, no others, each of the right type and format."""
    user = _player(client)
    response = client.get(f"/userdetails/{user}", headers=KEY)
    assert response.status_code == 200
    assert conforms("UserDetails", response.json()) == []
    assert len(response.json()) == 25


def test_answer_all_six_consents(client: TestClient) -> None:
    """Every consent type is present, opted in or not."""
    user = _player(client, consents={"sms": False})
    body = client.get(f"/userconsents/{user}", headers=KEY).json()
    assert conforms("UserConsents", body) == []
    assert {c["type"]: c["opted_in"] for c in body["consents"]}["sms"] is False


def test_answer_exactly_two_blocks(client: TestClient) -> None:
    """One Excluded and one Blocked entry, reflecting the platform."""
    user = _player(client)
    client.post(f"/platform/players/{user}/self-exclusion")
    body = client.get(f"/userblocks/{user}", headers=KEY).json()
    assert conforms("UserBlocks", body) == []
    assert [(b["type"], b["active"]) for b in body["blocks"]] == [
        ("Excluded", True),
        ("Blocked", False),
    ]


@pytest.mark.parametrize("path", ["/userdetails/404404", "/userconsents/x", "/userblocks/y"])
def test_answer_unknown_user_with_ft_error(client: TestClient, path: str) -> None:
    """An unknown user is 404 with FT's `{"error", "code"}` and nothing else."""
    response = client.get(path, headers=KEY)
    assert response.status_code == 404
    assert set(response.json()) == {"error", "code"}
    assert response.json()["code"] == 404


def test_reconcile_listing_only_true_fields(client: TestClient) -> None:
    """`blocked` lists exactly the blocked players; an unknown field is 501."""
    first, second = _player(client), _player(client)
    client.post(f"/platform/players/{second}/blocks", json={"type": "Blocked"})
    body = client.post("/reconciliation", json={"field": "blocked"}, headers=KEY).json()
    assert conforms("ReconciliationResult", body) == []
    assert body["users"] == [second]
    email = client.post("/reconciliation", json={"field": "consent_email"}, headers=KEY).json()
    assert email["users"] == [first, second]
    unknown = client.post("/reconciliation", json={"field": "vip"}, headers=KEY)
    assert (unknown.status_code, set(unknown.json())) == (501, {"error", "code"})


def test_authenticate_session_ids(client: TestClient) -> None:
    """A sid from a login authenticates to its (numeric) user id; others are 401."""
    user = _player(client)
    sid = client.post(f"/platform/players/{user}/login").json()["sid"]
    assert client.post("/authenticate", json={"sid": sid}, headers=KEY).json() == {
        "user_id": int(user)
    }
    assert client.post("/authenticate", json={"sid": "nope"}, headers=KEY).status_code == 401


def test_list_bonuses_in_pascal_case(client: TestClient) -> None:
    """`Data`, `Success`, `Errors` exactly."""
    body = client.get("/bonus/list", headers=KEY).json()
    assert conforms("BonusList", body) == []
    assert {"text": "Welcome bonus 100%", "value": "WELCOME100"} in body["Data"]


FT_HEADERS = {
    **KEY,
    "X-Fasttrack-Id": "ft-777",
    "X-Fasttrack-Actionid": "12",
    "X-Fasttrack-Actiongroupid": "34",
    "X-Fasttrack-Activityid": "56",
    "X-Fasttrack-Triggerhash": "abc",
}


def _outbox_bonus_events(client: TestClient) -> list[dict[str, Any]]:
    platform = client.app.state.platform  # type: ignore[attr-defined]
    with platform.db.read() as conn:
        rows = conn.execute(
            "SELECT payload FROM outbox WHERE event_type = 'BONUS' ORDER BY id"
        ).fetchall()
    return [json.loads(r[0]) for r in rows]


def test_credit_bonus_once_per_fasttrack_id(client: TestClient) -> None:
    """A repeated X-Fasttrack-Id answers success without crediting again."""
    user = _player(client)
    body = {"user_id": user, "bonus_code": "WELCOME100", "validity_amount": 7}
    first = client.post("/bonus/credit", json=body, headers=FT_HEADERS).json()
    again = client.post("/bonus/credit", json=body, headers=FT_HEADERS).json()
    assert (first["duplicate"], again["duplicate"]) == (False, True)
    assert first["user_bonus_id"] == again["user_bonus_id"]
    assert len(_outbox_bonus_events(client)) == 1


def test_echo_fasttrack_headers_into_bonus_event(client: TestClient) -> None:
    """The BONUS event carries FT's references, integers where FT has integers."""
    user = _player(client)
    client.post(
        "/bonus/credit", json={"user_id": user, "bonus_code": "RELOAD25"}, headers=FT_HEADERS
    )
    [event] = _outbox_bonus_events(client)
    assert event["fasttrack_references"] == {
        "id": "ft-777",
        "action_id": 12,
        "action_group_id": 34,
        "activity_id": 56,
        "trigger_hash": "abc",
    }


def test_credit_funds_as_real_money(client: TestClient) -> None:
    """`/bonus/credit/funds` credits cash at once: the bonus completes and turns real."""
    user = _player(client)
    body = {"user_id": user, "bonus_code": "WELCOME100", "amount": 15, "currency": "EUR"}
    assert client.post("/bonus/credit/funds", json=body, headers=FT_HEADERS).status_code == 200
    assert client.get(f"/platform/players/{user}").json()["real_balance"] == 15
    assert [e["status"] for e in _outbox_bonus_events(client)] == [
        "Pending",
        "Created",
        "Completed",
    ]


def test_reject_unknown_bonus_code(client: TestClient) -> None:
    """An unknown bonus code is a 400 in FT's error shape."""
    user = _player(client)
    response = client.post("/bonus/credit", json={"user_id": user, "bonus_code": "X"}, headers=KEY)
    assert (response.status_code, set(response.json())) == (400, {"error", "code"})


def test_unsubscribe_publishes_consents_event(client: TestClient) -> None:
    """FT's POST /userconsents (list or UKGC object) changes consents and queues the event."""
    user = _player(client)
    change = {"consents": [{"opted_in": False, "type": "email"}]}
    assert client.post(f"/userconsents/{user}", json=change, headers=KEY).status_code == 200
    ukgc = {"consents": {"channel": "sms", "opted_in": False, "products": ["casino"]}}
    assert client.post(f"/userconsents/{user}", json=ukgc, headers=KEY).status_code == 200
    consents = client.get(f"/userconsents/{user}", headers=KEY).json()["consents"]
    assert {c["type"] for c in consents if not c["opted_in"]} == {"email", "sms"}
    platform = client.app.state.platform  # type: ignore[attr-defined]
    with platform.db.read() as conn:
        count = conn.execute(
            "SELECT COUNT(*) FROM outbox WHERE event_type = 'USER_CONSENTS_V2'"
        ).fetchone()[0]
    assert count == 2


def test_report_invalid_request_paths(client: TestClient) -> None:
    """A bad platform request lists each problem with its JSON path."""
    user = _player(client)
    response = client.post(f"/platform/players/{user}/deposits", json={"amount": -5})
    assert response.status_code == 400
    assert response.json()["problems"][0]["path"] == "$.amount"


@pytest.mark.parametrize(
    ("defect", "component", "path"),
    [
        ("userdetails_missing_field", "UserDetails", "/userdetails/{}"),
        ("userdetails_wrong_type", "UserDetails", "/userdetails/{}"),
        ("consents_missing_type", "UserConsents", "/userconsents/{}"),
        ("blocks_wrong_shape", "UserBlocks", "/userblocks/{}"),
    ],
)
def test_defect_breaks_the_contract(
    make_operator: OperatorFactory, defect: str, component: str, path: str
) -> None:
    """Each shape defect makes the answer violate FT's contract."""
    with make_operator(ft_url=NOWHERE, defects=[defect]) as client:
        user = _player(client)
        body = client.get(path.format(user), headers=KEY).json()
    assert conforms(component, body) != []


def test_defect_unknown_user_200(make_operator: OperatorFactory) -> None:
    """`unknown_user_200`: an unknown user is answered 200 instead of 404."""
    with make_operator(ft_url=NOWHERE, defects=["unknown_user_200"]) as client:
        assert client.get("/userdetails/nobody", headers=KEY).status_code == 200


def test_defect_reconciliation_inconsistent(make_operator: OperatorFactory) -> None:
    """`reconciliation_inconsistent`: unblocked players are listed as blocked."""
    with make_operator(ft_url=NOWHERE, defects=["reconciliation_inconsistent"]) as client:
        user = _player(client)
        body = client.post("/reconciliation", json={"field": "blocked"}, headers=KEY).json()
    assert body["users"] == [user]


def test_defect_bonus_credit_not_idempotent(make_operator: OperatorFactory) -> None:
    """`bonus_credit_not_idempotent`: the same X-Fasttrack-Id credits twice."""
    with make_operator(ft_url=NOWHERE, defects=["bonus_credit_not_idempotent"]) as client:
        user = _player(client)
        body = {"user_id": user, "bonus_code": "WELCOME100"}
        for _ in range(2):
            client.post("/bonus/credit", json=body, headers=FT_HEADERS)
        assert len(_outbox_bonus_events(client)) == 2


def test_defect_bonus_credit_not_idempotent_for_funds(make_operator: OperatorFactory) -> None:
    """`bonus_credit_not_idempotent` covers `/bonus/credit/funds` too: paid twice."""
    with make_operator(ft_url=NOWHERE, defects=["bonus_credit_not_idempotent"]) as client:
        user = _player(client)
        body = {"user_id": user, "bonus_code": "WELCOME100", "amount": 5, "currency": "EUR"}
        for _ in range(2):
            client.post("/bonus/credit/funds", json=body, headers=FT_HEADERS)
        assert client.get(f"/platform/players/{user}").json()["real_balance"] == 10


def test_defect_consents_post_toggles(make_operator: OperatorFactory) -> None:
    """`consents_post_toggles`: the same opt-out sent twice leaves the player opted in."""
    with make_operator(ft_url=NOWHERE, defects=["consents_post_toggles"]) as client:
        user = _player(client, consents={"sms": True})
        opt_out = {"consents": [{"opted_in": False, "type": "sms"}]}
        for _ in range(2):
            client.post(f"/userconsents/{user}", json=opt_out, headers=KEY)
        body = client.get(f"/userconsents/{user}", headers=KEY).json()
    assert {c["type"]: c["opted_in"] for c in body["consents"]}["sms"] is True


def test_defect_slow_lookups(make_operator: OperatorFactory) -> None:
    """`slow_lookups`: an Operator API call takes about 1.5 s."""
    with make_operator(ft_url=NOWHERE, defects=["slow_lookups"]) as client:
        user = _player(client)
        started = time.monotonic()
        client.get(f"/userdetails/{user}", headers=KEY)
        assert time.monotonic() - started >= 1.4
