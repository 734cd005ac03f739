"""Checks across events: duplicates, payment transitions, unknown users, orphans, freshness."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from mock_ft.samples import ft_timestamp, sample_events
from tests.conftest import KEY_HEADERS

SAMPLE = {route.event_type: payload for route, payload in sample_events()}


def _send(client: TestClient, path: str, **fields: Any) -> dict[str, Any]:
    kind = {
        "/v1/integration/payment": "PAYMENT",
        "/v1/integration/casino": "CASINO",
        "/v1/integration/sports": "SPORTSBOOK",
        "/v1/integration/bonus": "BONUS",
        "/v2/integration/user": "USER_CREATE_V2",
        "/v2/integration/login": "LOGIN_V2",
        "/v2/integration/lottery": "LOTTERY_V2",
    }[path]
    payload = {**SAMPLE[kind], "timestamp": ft_timestamp(), **fields}
    response = client.post(path, json=payload, headers=KEY_HEADERS)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _codes(body: dict[str, Any]) -> list[str]:
    return [w["code"] for w in body["warnings"]]


def _register(client: TestClient, user_id: str = "7001") -> None:
    _send(client, "/v2/integration/user", user_id=user_id)


def test_link_duplicate_payment_to_first(client: TestClient) -> None:
    """The same payment_id+status twice is accepted, warned and linked to the first."""
    _register(client)
    first = _send(client, "/v1/integration/payment", payment_id="p1", status="Approved")
    again = _send(client, "/v1/integration/payment", payment_id="p1", status="Approved", amount=9)
    assert again["duplicate_of"] == first["event_id"]
    assert "duplicate" in _codes(again)
    entry = client.get(f"/_mock/events/{again['event_id']}").json()
    assert entry["duplicate_of"] == first["event_id"]


def test_accept_payment_status_progression_without_warning(client: TestClient) -> None:
    """Requested -> Approved -> Rollback is the life of a payment: no warnings."""
    _register(client)
    for status in ("Requested", "Approved", "Rollback"):
        body = _send(client, "/v1/integration/payment", payment_id="p2", status=status)
        assert _codes(body) == [], status


def test_warn_rollback_without_approved(client: TestClient) -> None:
    """A Rollback needs a prior Approved with the same payment_id."""
    _register(client)
    body = _send(client, "/v1/integration/payment", payment_id="p3", status="Rollback")
    [warning] = body["warnings"]
    assert warning["code"] == "payment_transition"
    assert "needs a prior Approved" in warning["message"]


def test_warn_approved_then_rejected(client: TestClient) -> None:
    """An Approved payment cannot later be Rejected."""
    _register(client)
    _send(client, "/v1/integration/payment", payment_id="p4", status="Approved")
    body = _send(client, "/v1/integration/payment", payment_id="p4", status="Rejected")
    assert _codes(body) == ["payment_transition"]


def test_warn_event_for_unregistered_user(client: TestClient) -> None:
    """Events for a user never registered are warned; after registration they are not."""
    assert _codes(_send(client, "/v2/integration/login", user_id="ghost")) == ["unregistered_user"]
    _register(client, "ghost")
    assert _codes(_send(client, "/v2/integration/login", user_id="ghost")) == []


def test_warn_second_registration(client: TestClient) -> None:
    """Registering the same user twice (different content) is warned."""
    _register(client, "u9")
    body = _send(client, "/v2/integration/user", user_id="u9", note="again")
    assert _codes(body) == ["reregistered"]


def test_warn_duplicate_casino_activity(client: TestClient) -> None:
    """activity_id identifies a casino event."""
    _register(client)
    _send(client, "/v1/integration/casino", activity_id="a1")
    assert "duplicate" in _codes(_send(client, "/v1/integration/casino", activity_id="a1"))


def test_warn_casino_win_without_bet(client: TestClient) -> None:
    """A Win whose round_id had no Bet is an orphan; one with a Bet is fine."""
    _register(client)
    orphan = _send(client, "/v1/integration/casino", activity_id="w0", round_id="r0", type="Win")
    assert _codes(orphan) == ["orphan_outcome"]
    _send(client, "/v1/integration/casino", activity_id="b1", round_id="r1", type="Bet")
    paired = _send(client, "/v1/integration/casino", activity_id="w1", round_id="r1", type="Win")
    assert _codes(paired) == []


def test_warn_sportsbook_settlement_without_bet(client: TestClient) -> None:
    """A Settlement refers to its bet by activity_id_reference."""
    _register(client)
    body = _send(
        client,
        "/v1/integration/sports",
        activity_id="s2",
        type="Settlement",
        activity_id_reference="missing",
    )
    assert _codes(body) == ["orphan_outcome"]


def test_warn_duplicate_bonus_status(client: TestClient) -> None:
    """One bonus event per status per user_bonus_id."""
    _register(client)
    _send(client, "/v1/integration/bonus", user_bonus_id="ub1", status="Created")
    assert (
        _codes(_send(client, "/v1/integration/bonus", user_bonus_id="ub1", status="Ongoing")) == []
    )
    again = _send(client, "/v1/integration/bonus", user_bonus_id="ub1", status="Created")
    assert "duplicate" in _codes(again)


def test_warn_duplicate_lottery_ticket(client: TestClient) -> None:
    """ticket_id + type identifies a lottery event."""
    _register(client)
    _send(client, "/v2/integration/lottery", ticket_id="t9", type="Bet")
    assert "duplicate" in _codes(
        _send(client, "/v2/integration/lottery", ticket_id="t9", type="Bet")
    )


def test_warn_identical_retry_of_keyless_event(client: TestClient) -> None:
    """Events without an FT key are duplicates when their body is identical."""
    _register(client)
    stamp = ft_timestamp()
    _send(client, "/v2/integration/login", timestamp=stamp)
    assert _codes(_send(client, "/v2/integration/login", timestamp=stamp)) == ["duplicate"]


def test_warn_late_delivery(client: TestClient) -> None:
    """An event delivered more than 1 s after its timestamp is late."""
    _register(client)
    stale = ft_timestamp(datetime.now(UTC) - timedelta(seconds=5))
    body = _send(client, "/v2/integration/login", timestamp=stale)
    late = [w for w in body["warnings"] if w["code"] == "late_delivery"]
    assert [w["path"] for w in late] == ["$.timestamp"]


def test_warn_future_timestamp(client: TestClient) -> None:
    """A timestamp well ahead of the mock's clock points at a clock or zone bug."""
    _register(client)
    ahead = ft_timestamp(datetime.now(UTC) + timedelta(minutes=5))
    assert _codes(_send(client, "/v2/integration/login", timestamp=ahead)) == ["future_timestamp"]


def test_count_warnings_in_stats(client: TestClient) -> None:
    """Stats count warnings by code."""
    _send(client, "/v2/integration/login", user_id="nobody")
    assert client.get("/_mock/stats").json()["warnings"] == {"unregistered_user": 1}


def test_warn_out_of_order_event_for_user(client: TestClient) -> None:
    """An event stamped before the user's previous event is out of order."""
    now = datetime.now(UTC)
    _send(client, "/v2/integration/user", user_id="o1", timestamp=ft_timestamp(now))
    earlier = ft_timestamp(now - timedelta(milliseconds=300))
    assert _codes(_send(client, "/v2/integration/login", user_id="o1", timestamp=earlier)) == [
        "out_of_order"
    ]
    later = ft_timestamp(now + timedelta(milliseconds=200))
    assert _codes(_send(client, "/v2/integration/login", user_id="o1", timestamp=later)) == []
