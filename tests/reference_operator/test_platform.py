"""The platform's business rules, and the FT events each change queues in its outbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reference_operator.app import create_app
from reference_operator.settings import OperatorSettings
from tests.reference_operator.conftest import OperatorFactory


@pytest.fixture
def client(make_operator: OperatorFactory) -> Iterator[TestClient]:
    with make_operator(ft_url="http://127.0.0.1:9", retry_base_seconds=60) as operator:
        yield operator


def _queued(client: TestClient, event_type: str | None = None) -> list[dict[str, Any]]:
    """Payloads in the outbox, oldest first (nothing is delivered: FT is unreachable)."""
    platform = client.app.state.platform  # type: ignore[attr-defined]
    with platform.db.read() as conn:
        rows = conn.execute("SELECT event_type, payload FROM outbox ORDER BY id").fetchall()
    return [
        {"type": row[0], **json.loads(row[1])}
        for row in rows
        if event_type is None or row[0] == event_type
    ]


def _funded(client: TestClient, amount: float = 100) -> str:
    user: str = client.post("/platform/players").json()["user_id"]
    client.post(f"/platform/players/{user}/deposits", json={"amount": amount})
    return user


def _balance(client: TestClient, user: str) -> tuple[float, float]:
    player = client.get(f"/platform/players/{user}").json()
    return player["real_balance"], player["bonus_balance"]


def test_make_up_players_deterministically(make_operator: OperatorFactory, tmp_path: Any) -> None:
    """The same seed makes up the same players; --players creates them at start."""
    names = []
    for run in range(2):
        with make_operator(
            ft_url="http://127.0.0.1:9", players=3, seed=11, database=str(tmp_path / f"{run}.db")
        ) as client:
            names.append(client.get("/platform/players/100003").json()["username"])
    assert names[0] == names[1]


def test_refuse_taken_user_id(client: TestClient) -> None:
    """Registering an existing user_id is a 409 that says how to get a fresh one."""
    client.post("/platform/players", json={"user_id": "abc1"})
    response = client.post("/platform/players", json={"user_id": "abc1"})
    assert response.status_code == 409
    assert "leave user_id out" in response.json()["error"]


def test_publish_profile_update(client: TestClient) -> None:
    """A profile change is stored and announced with USER_UPDATE_V2."""
    user = client.post("/platform/players").json()["user_id"]
    client.patch(f"/platform/players/{user}", json={"city": "Valletta", "roles": ["VIP"]})
    player = client.get(f"/platform/players/{user}").json()
    assert (player["city"], json.loads(player["roles"])) == ("Valletta", ["VIP"])
    assert [e["type"] for e in _queued(client)][-1] == "USER_UPDATE_V2"


def test_return_funds_of_rejected_withdrawal(client: TestClient) -> None:
    """Requested reserves the money; Rejected gives it back; each status is published."""
    user = _funded(client)
    payment = client.post(f"/platform/players/{user}/withdrawals", json={"amount": 40}).json()
    assert _balance(client, user) == (60, 0)
    client.post(f"/platform/payments/{payment['payment_id']}/reject")
    assert _balance(client, user) == (100, 0)
    statuses = [(e["type"], e["status"]) for e in _queued(client, "PAYMENT")]
    assert statuses[-2:] == [("Debit", "Requested"), ("Debit", "Rejected")]


def test_cancel_withdrawal_only_once(client: TestClient) -> None:
    """A withdrawal that is no longer Requested cannot be decided again (409)."""
    user = _funded(client)
    payment = client.post(f"/platform/players/{user}/withdrawals", json={"amount": 10}).json()
    assert client.post(f"/platform/payments/{payment['payment_id']}/cancel").status_code == 200
    again = client.post(f"/platform/payments/{payment['payment_id']}/approve")
    assert again.status_code == 409


def test_refuse_withdrawal_beyond_balance(client: TestClient) -> None:
    """More than the real balance cannot be withdrawn."""
    user = _funded(client, 10)
    response = client.post(f"/platform/players/{user}/withdrawals", json={"amount": 11})
    assert response.status_code == 409


def test_roll_back_deposit(client: TestClient) -> None:
    """Rolling back an approved deposit takes the money back and publishes Rollback."""
    user = _funded(client, 30)
    payment_id = _queued(client, "PAYMENT")[-1]["payment_id"]
    assert client.post(f"/platform/payments/{payment_id}/rollback").status_code == 200
    assert _balance(client, user) == (0, 0)
    assert _queued(client, "PAYMENT")[-1]["status"] == "Rollback"
    assert client.post(f"/platform/payments/{payment_id}/rollback").status_code == 409


def test_deposit_batch_as_separate_deposits(client: TestClient) -> None:
    """A batch of deposits credits and publishes exactly what the same deposits posted one by
    one do: a Requested and an Approved PAYMENT and the balances for each."""
    alone = client.post("/platform/players").json()["user_id"]
    for amount in (5, 7):
        client.post(f"/platform/players/{alone}/deposits", json={"amount": amount})
    batched = client.post("/platform/players").json()["user_id"]
    response = client.post(f"/platform/players/{batched}/deposits/batch", json={"amounts": [5, 7]})
    assert response.status_code == 201, response.text
    assert len(response.json()["payment_ids"]) == 2
    assert _balance(client, batched) == _balance(client, alone) == (12, 0)

    def shape(user: str) -> list[tuple[str, Any, Any]]:
        return [
            (e["type"], e.get("status"), e.get("amount"))
            for e in _queued(client)
            if e.get("user_id") == user
        ]

    assert shape(batched) == shape(alone)
    assert len(shape(batched)) == 1 + 2 * 3  # registration; Requested, Approved, balances


def test_refuse_deposit_batch_with_bad_amounts(client: TestClient) -> None:
    """Each bad amount of a batch is named by its JSON path, and nothing is deposited."""
    user = client.post("/platform/players").json()["user_id"]
    response = client.post(f"/platform/players/{user}/deposits/batch", json={"amounts": [5, 0, -1]})
    assert response.status_code == 400
    paths = [problem["path"] for problem in response.json()["problems"]]
    assert paths == ["$.amounts[1]", "$.amounts[2]"]
    assert _balance(client, user) == (0, 0)


def test_answer_unknown_payment_404(client: TestClient) -> None:
    """An unknown payment id is a 404."""
    assert client.post("/platform/payments/999/approve").status_code == 404


def test_adjust_wallets(client: TestClient) -> None:
    """Adjustments move one wallet, never below zero, and publish both wallets."""
    user = _funded(client, 5)
    body = {"amount": 2.5, "wallet": "bonus_money"}
    client.post(f"/platform/players/{user}/balance-adjustments", json=body)
    assert _balance(client, user) == (5, 2.5)
    too_much = {"amount": -6, "wallet": "real_money"}
    response = client.post(f"/platform/players/{user}/balance-adjustments", json=too_much)
    assert response.status_code == 409
    wallets = _queued(client, "USER_BALANCES_UPDATE")[-1]["balances"]
    assert {(w["key"], w["amount"]) for w in wallets} == {("real_money", 5), ("bonus_money", 2.5)}


def test_walk_bonus_lifecycle(client: TestClient) -> None:
    """Pending, Created (bonus money), Ongoing, Completed (turns real); out of order is 409."""
    user = _funded(client, 0.01)
    grant = client.post(f"/platform/players/{user}/bonuses", json={"amount": 20}).json()
    path = f"/platform/bonuses/{grant['user_bonus_id']}"
    assert client.post(f"{path}/complete").status_code == 409
    for action in ("claim", "wager", "complete"):
        assert client.post(f"{path}/{action}").status_code == 200
    assert _balance(client, user) == (20.01, 0)
    statuses = [e["status"] for e in _queued(client, "BONUS")]
    assert statuses == ["Pending", "Created", "Ongoing", "Completed"]


def test_forfeit_claimed_bonus(client: TestClient) -> None:
    """Cancelling a claimed bonus removes its bonus money (status Forfeited)."""
    user = client.post("/platform/players").json()["user_id"]
    grant = client.post(f"/platform/players/{user}/bonuses", json={"amount": 5}).json()
    client.post(f"/platform/bonuses/{grant['user_bonus_id']}/claim")
    client.post(f"/platform/bonuses/{grant['user_bonus_id']}/cancel")
    assert _balance(client, user) == (0, 0)
    assert _queued(client, "BONUS")[-1]["status"] == "Forfeited"


def test_refuse_unknown_bonus(client: TestClient) -> None:
    """Unknown bonus codes and instances are 404s."""
    user = client.post("/platform/players").json()["user_id"]
    unknown_code = client.post(f"/platform/players/{user}/bonuses", json={"bonus_code": "NOPE"})
    assert unknown_code.status_code == 404
    assert client.post("/platform/bonuses/ub-none/claim").status_code == 404


def test_settle_winning_sports_bet(client: TestClient) -> None:
    """A won single pays stake x odds; the Settlement links to its bet; settling twice is 409."""
    user = _funded(client, 10)
    bet = client.post(f"/platform/players/{user}/sports/bets", json={"amount": 4, "odds": 2.5})
    bet_id = bet.json()["bet_id"]
    settled = client.post(f"/platform/sports/bets/{bet_id}/settle", json={"won": True}).json()
    assert settled["payout"] == 10
    assert _balance(client, user) == (16, 0)
    last = _queued(client, "SPORTSBOOK")[-1]
    assert (last["type"], last["activity_id_reference"], len(last["bets"])) == (
        "Settlement",
        bet_id,
        1,
    )
    again = client.post(f"/platform/sports/bets/{bet_id}/settle", json={"won": True})
    assert again.status_code == 409
    assert client.post("/platform/sports/bets/sb-x/settle", json={"won": True}).status_code == 404


def test_refuse_bets_beyond_balance(client: TestClient) -> None:
    """Casino and sportsbook stakes need the money."""
    user = _funded(client, 1)
    casino = client.post(f"/platform/players/{user}/casino/bets", json={"amount": 2})
    sports = client.post(f"/platform/players/{user}/sports/bets", json={"amount": 2, "odds": 2})
    assert (casino.status_code, sports.status_code) == (409, 409)


def test_close_casino_round_once(client: TestClient) -> None:
    """A round closes with its win (0 for a loss); a second win or an unknown round is refused."""
    user = _funded(client, 10)
    round_id = client.post(f"/platform/players/{user}/casino/bets", json={"amount": 3}).json()
    assert client.post(f"/platform/players/{user}/casino/wins", json={**round_id, "amount": 0})
    again = client.post(f"/platform/players/{user}/casino/wins", json={**round_id, "amount": 1})
    unknown = client.post(
        f"/platform/players/{user}/casino/wins", json={"round_id": "r", "amount": 1}
    )
    assert (again.status_code, unknown.status_code) == (409, 404)
    bet, win = _queued(client, "CASINO")
    assert (bet["round_id"], bet["is_round_end"], win["is_round_end"]) == (
        round_id["round_id"],
        False,
        True,
    )


def test_answer_unknown_player_404(client: TestClient) -> None:
    """Actions on an unknown player are 404s in FT's error shape."""
    response = client.post("/platform/players/nobody/login")
    assert (response.status_code, set(response.json())) == (404, {"error", "code"})


def test_count_players_whose_next_event_was_never_sent(tmp_path: Any) -> None:
    """`next_unsent` counts the players whose oldest pending event has no attempt yet: an event
    behind an attempted one, a delivered one or an abandoned one is not a player's next."""
    settings = OperatorSettings(database=str(tmp_path / "p.sqlite3"), players=0)
    app = create_app(settings)  # no lifespan: no dispatcher sends anything meanwhile
    rows = [  # user, attempts, delivered, abandoned
        ("tried", 1, False, False), ("tried", 0, False, False),
        ("fresh", 0, False, False), ("fresh", 0, False, False),
        ("done", 1, True, False),
        ("gave_up", 3, False, True), ("gave_up", 0, False, False),
    ]  # fmt: skip
    with app.state.platform.db.transaction() as conn:
        for user, attempts, delivered, abandoned in rows:
            conn.execute(
                "INSERT INTO outbox (user_id, event_type, method, path, payload, created_at, "
                "due_at, attempts, delivered_at, abandoned) VALUES (?, 'LOGIN_V2', 'POST', "
                "'/v2/integration/login', '{}', 0, 0, ?, ?, ?)",
                (user, attempts, 1.0 if delivered else None, int(abandoned)),
            )
    outbox = TestClient(app).get("/platform/outbox").json()
    assert (outbox["next_unsent"], outbox["pending"]) == (2, 5)  # fresh and gave_up
