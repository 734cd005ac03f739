"""The player model: FT's segmentation arithmetic, folded from the journal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mock_ft.crm import create_app
from mock_ft.players import PlayerState
from mock_ft.settings import Settings
from tests.conftest import JSON_HEADERS, KEY_HEADERS
from tests.ft_events import ft_event

# A hand-computed history: (event type, fields). Money in base currency = amount x rate.
HISTORY: list[tuple[str, dict[str, Any]]] = [
    ("USER_CREATE_V2", {}),
    (
        "PAYMENT",
        {
            "payment_id": "p1",
            "type": "Credit",
            "status": "Approved",
            "amount": 100,
            "currency": "EUR",
            "exchange_rate": 1.0,
        },
    ),
    (
        "PAYMENT",
        {
            "payment_id": "p2",
            "type": "Credit",
            "status": "Approved",
            "amount": 50,
            "currency": "USD",
            "exchange_rate": 0.9,
        },
    ),
    (
        "PAYMENT",
        {
            "payment_id": "p3",
            "type": "Credit",
            "status": "Requested",
            "amount": 30,
            "currency": "EUR",
            "exchange_rate": 1.0,
        },
    ),
    (
        "PAYMENT",
        {
            "payment_id": "p2",
            "type": "Credit",
            "status": "Rollback",
            "amount": 50,
            "currency": "USD",
            "exchange_rate": 0.9,
        },
    ),
    (
        "PAYMENT",
        {
            "payment_id": "p4",
            "type": "Debit",
            "status": "Requested",
            "amount": 20,
            "currency": "GBP",
            "exchange_rate": 1.15,
        },
    ),
    (
        "PAYMENT",
        {
            "payment_id": "p4",
            "type": "Debit",
            "status": "Approved",
            "amount": 20,
            "currency": "GBP",
            "exchange_rate": 1.15,
        },
    ),
    (
        "PAYMENT",
        {
            "payment_id": "p5",
            "type": "Credit",
            "status": "Approved",
            "amount": 200,
            "currency": "SEK",
            "exchange_rate": 0.088,
        },
    ),
    (
        "CASINO",
        {
            "activity_id": "c1",
            "type": "Bet",
            "status": "Approved",
            "amount": 10,
            "exchange_rate": 1.0,
        },
    ),
    (
        "CASINO",
        {
            "activity_id": "c2",
            "type": "Bet",
            "status": "Approved",
            "amount": 5,
            "currency": "USD",
            "exchange_rate": 0.9,
        },
    ),
    (
        "CASINO",
        {
            "activity_id": "c3",
            "type": "Win",
            "status": "Approved",
            "amount": 20,
            "exchange_rate": 1.0,
        },
    ),
    (
        "CASINO",
        {
            "activity_id": "c4",
            "type": "Bet",
            "status": "Rollback",
            "amount": 5,
            "currency": "USD",
            "exchange_rate": 0.9,
        },
    ),
    ("BONUS", {"user_bonus_id": "ub1", "status": "Created"}),
    ("BONUS", {"user_bonus_id": "ub2", "status": "Pending"}),
    ("BONUS", {"user_bonus_id": "ub1", "status": "Forfeited"}),
    ("CUSTOM", {"notification_type": "chat_bonus_request", "data": {}}),
    ("CUSTOM", {"notification_type": "chat_bonus_request", "data": {}}),
    ("LOGIN_V2", {}),
]
EXPECTED = {
    "deposit_count": 2,  # p1, p5 (p2 rolled back, p3 only requested)
    "deposit_total_base": 117.6,  # 100 + 45 - 45 + 17.6
    "withdrawal_count": 1,
    "withdrawal_total_base": 23.0,  # 20 x 1.15
    "withdrawal_requested_count": 1,
    "casino_bet_count": 1,  # two bets, one rolled back
    "casino_turnover_base": 10.0,  # 10 + 4.5 - 4.5
    "casino_win_total_base": 20.0,
    "active_bonus_count": 1,
    "active_bonus_ids": ["ub2"],
    "bonus_count": 2,
    "custom_events": {"chat_bonus_request": 2},
    "login_count": 1,
}


def _fold(history: list[tuple[str, dict[str, Any]]]) -> PlayerState:
    state = PlayerState("7001")
    for number, (event_type, fields) in enumerate(history, start=1):
        state.apply(number, event_type, ft_event(event_type, **fields)[1])
    return state


def test_fold_matches_hand_computed_totals() -> None:
    """Currencies, exchange rates and rollbacks add up as computed by hand."""
    public = _fold(HISTORY).public()
    assert {key: public[key] for key in EXPECTED} == EXPECTED


def test_fold_counts_missing_exchange_rate_as_one() -> None:
    """An event without `exchange_rate` is taken to be in base currency."""
    _, payment = ft_event("PAYMENT", amount=40)
    del payment["exchange_rate"]
    state = PlayerState("7001")
    state.apply(1, "PAYMENT", payment)
    assert state.deposit_total_base == 40


def test_fold_records_first_deposit_once() -> None:
    """The first approved deposit's time and amount stay when more deposits follow."""
    first = ft_event("PAYMENT", amount=10, exchange_rate=2.0, timestamp="2026-01-01T10:00:00Z")[1]
    later = ft_event("PAYMENT", amount=99, payment_id="x", timestamp="2026-01-02T10:00:00Z")[1]
    state = PlayerState("7001")
    state.apply(1, "PAYMENT", first)
    state.apply(2, "PAYMENT", later)
    assert (state.first_deposit_at, state.first_deposit_amount_base) == (
        "2026-01-01T10:00:00Z",
        20.0,
    )
    assert state.last_deposit_at == "2026-01-02T10:00:00Z"


def test_fold_sportsbook_turnover_and_settlement() -> None:
    """Sportsbook bets add turnover; settlements add to the settled total."""
    state = PlayerState("7001")
    state.apply(1, "SPORTSBOOK", ft_event("SPORTSBOOK", amount=5, exchange_rate=2.0)[1])
    state.apply(2, "SPORTSBOOK", ft_event("SPORTSBOOK", type="Settlement", amount=12.5)[1])
    assert (state.sportsbook_bet_count, state.sportsbook_turnover_base) == (1, 10.0)
    assert state.sportsbook_settled_total_base == 12.5


def test_fold_keeps_latest_balances() -> None:
    """USER_BALANCES_UPDATE replaces each wallet, with its base amount."""
    state = PlayerState("7001")
    state.apply(1, "USER_BALANCES_UPDATE", ft_event("USER_BALANCES_UPDATE")[1])
    wallets = [{"key": "real_money", "amount": 3, "currency": "USD", "exchange_rate": 0.5}]
    state.apply(2, "USER_BALANCES_UPDATE", ft_event("USER_BALANCES_UPDATE", balances=wallets)[1])
    assert state.balances["real_money"] == {"amount": 3, "currency": "USD", "amount_base": 1.5}
    assert state.balances["bonus_money"]["amount"] == 10.0


def _post(client: TestClient, event_type: str, **fields: Any) -> int:
    path, payload = ft_event(event_type, **fields)
    response = client.post(path, json=payload, headers=KEY_HEADERS)
    assert response.status_code == 200, response.text
    return int(response.json()["event_id"])


@pytest.fixture
def journal_settings(tmp_path: Path) -> Settings:
    return Settings(journal=str(tmp_path / "journal.sqlite3"), allowed_hosts=["testserver"])


def test_view_player_from_journal(journal_settings: Settings) -> None:
    """GET /_mock/players/{id} shows the hand-computed totals of events sent over REST."""
    with TestClient(create_app(journal_settings)) as client:
        for event_type, fields in HISTORY:
            _post(client, event_type, **fields)
        player = client.get("/_mock/players/7001").json()
    assert {key: player[key] for key in EXPECTED} == EXPECTED


def test_rebuild_player_after_restart(journal_settings: Settings) -> None:
    """A new mock on the same journal file shows the same player: the model is the journal's."""
    with TestClient(create_app(journal_settings)) as client:
        for event_type, fields in HISTORY:
            _post(client, event_type, **fields)
        before = client.get("/_mock/players/7001").json()
    with TestClient(create_app(journal_settings)) as client:
        after = client.get("/_mock/players/7001").json()
    assert after == before


def test_view_player_as_of_event(journal_settings: Settings) -> None:
    """`as_of` folds only the events up to that id, without spoiling the current view."""
    with TestClient(create_app(journal_settings)) as client:
        _post(client, "USER_CREATE_V2")
        first = _post(client, "PAYMENT", payment_id="a", amount=10)
        _post(client, "PAYMENT", payment_id="b", amount=5)
        now = client.get("/_mock/players/7001").json()
        then = client.get("/_mock/players/7001", params={"as_of": first}).json()
        again = client.get("/_mock/players/7001").json()
    assert (then["deposit_count"], then["deposit_total_base"]) == (1, 10.0)
    assert now == again
    assert now["deposit_count"] == 2


def test_ignore_rejected_and_duplicate_events_in_player(journal_settings: Settings) -> None:
    """Only accepted first sightings count: a duplicate PAYMENT or an invalid one adds nothing."""
    with TestClient(create_app(journal_settings)) as client:
        _post(client, "USER_CREATE_V2")
        _post(client, "PAYMENT", payment_id="a", amount=10)
        _post(client, "PAYMENT", payment_id="a", amount=10)  # a duplicate: accepted, linked
        path, bad = ft_event("PAYMENT", payment_id="z", amount=-5)
        assert client.post(path, json=bad, headers=KEY_HEADERS).status_code == 400
        player = client.get("/_mock/players/7001").json()
    assert (player["deposit_count"], player["deposit_total_base"]) == (1, 10.0)


def test_answer_404_for_unknown_player(client: TestClient) -> None:
    """A user with no accepted event is not found, with a message saying so."""
    response = client.get("/_mock/players/nobody")
    assert response.status_code == 404
    assert "no accepted event of user 'nobody'" in response.json()["message"]


def test_list_players_in_pages(client: TestClient) -> None:
    """The list view pages by user id with a cursor."""
    for user in ("u1", "u2", "u3"):
        _post(client, "USER_CREATE_V2", user_id=user)
    first = client.get("/_mock/players", params={"limit": 2}).json()
    rest = client.get("/_mock/players", params={"after": first["next_cursor"]}).json()
    assert [p["user_id"] for p in first["data"]] == ["u1", "u2"]
    assert [p["user_id"] for p in rest["data"]] == ["u3"]
    assert rest["next_cursor"] is None


def test_forget_players_on_reset(client: TestClient) -> None:
    """After /_mock/reset the player is gone, not served from the cache."""
    _post(client, "USER_CREATE_V2")
    assert client.get("/_mock/players/7001").status_code == 200
    client.post("/_mock/reset", headers=JSON_HEADERS).raise_for_status()
    assert client.get("/_mock/players/7001").status_code == 404


def test_fold_tolerates_amounts_beyond_floats(journal_settings: Settings) -> None:
    """An amount FT's schema allows but no float holds (10**400) counts as 0, not a crash,
    and an overflowing product stays a number."""
    with TestClient(create_app(journal_settings)) as client:
        path, payload = ft_event("SPORTSBOOK")
        body = json.dumps(payload).replace('"amount": 5.0', '"amount": ' + "9" * 400)
        response = client.post(
            path, content=body, headers={**KEY_HEADERS, "Content-Type": "application/json"}
        )
        assert response.status_code == 200, response.text
        _post(client, "CASINO", amount=1e308, exchange_rate=10.0)
        player = client.get("/_mock/players/7001").json()
    assert (player["sportsbook_turnover_base"], player["casino_turnover_base"]) == (0.0, 0.0)
    assert player["event_count"] == 2


def test_fold_keeps_totals_finite_when_a_sum_overflows(journal_settings: Settings) -> None:
    """Two amounts each a float, whose sum is not (2 x 1e308), leave the total a number: the
    view's schema says `number`, and JSON has no infinity (a Schemathesis run found `null`)."""
    with TestClient(create_app(journal_settings)) as client:
        for activity in ("sb-1", "sb-2"):
            _post(client, "SPORTSBOOK", activity_id=activity, amount=1e308)
        player = client.get("/_mock/players/7001").json()
    assert player["sportsbook_turnover_base"] == 1e308
    assert player["sportsbook_bet_count"] == 2
