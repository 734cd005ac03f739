"""Casino rounds and sportsbook bets, each bet and each outcome published as its own event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ..errors import Conflict, NotFound
from ..ft.events import ft_timestamp
from ..platform.core import Platform

__all__ = ["casino_bet", "casino_win", "sports_bet", "sports_settle"]

CASINO_VENDOR = ("netent", "NetEnt")


def casino_bet(
    platform: Platform, user_id: str, game_id: str, game_name: str, amount: float
) -> str:
    """Stake `amount` of real money on a new round; publishes CASINO Bet; returns the round id."""
    round_id = platform.new_id("round")
    with platform.change() as (conn, emit):
        player = platform.player(conn, user_id)
        before = player["real_balance"]
        if amount > before:
            msg = f"bet of {amount} exceeds the real balance {before}"
            raise Conflict(msg)
        conn.execute(
            "INSERT INTO casino_rounds (round_id, user_id, game_id, game_name, bet) "
            "VALUES (?, ?, ?, ?, ?)",
            (round_id, user_id, game_id, game_name, amount),
        )
        conn.execute(
            "UPDATE players SET real_balance = real_balance - ? WHERE user_id = ?",
            (amount, user_id),
        )
        emit(
            "CASINO",
            user_id,
            **_casino_fields(platform, round_id, game_id, game_name, amount, player["currency"]),
            wager_amount=amount,
            bonus_wager_amount=0,
            balance_before=before,
            balance_after=before - amount,
            is_round_end=False,
            type="Bet",
        )
    return round_id


def casino_win(platform: Platform, user_id: str, round_id: str, amount: float) -> None:
    """Close a round with a win (0 for a loss); publishes CASINO Win with is_round_end."""
    with platform.change() as (conn, emit):
        row = conn.execute(
            "SELECT * FROM casino_rounds WHERE round_id = ? AND user_id = ?", (round_id, user_id)
        ).fetchone()
        if row is None:
            msg = f"no casino round {round_id!r} for player {user_id!r}"
            raise NotFound(msg)
        if row["closed"]:
            msg = f"round {round_id} is already closed"
            raise Conflict(msg)
        player = platform.player(conn, user_id)
        before = player["real_balance"]
        conn.execute(
            "UPDATE casino_rounds SET win = ?, closed = 1 WHERE round_id = ?", (amount, round_id)
        )
        conn.execute(
            "UPDATE players SET real_balance = real_balance + ? WHERE user_id = ?",
            (amount, user_id),
        )
        emit(
            "CASINO",
            user_id,
            **_casino_fields(
                platform, round_id, row["game_id"], row["game_name"], amount, player["currency"]
            ),
            balance_before=before,
            balance_after=before + amount,
            is_round_end=True,
            type="Win",
        )


def _casino_fields(
    platform: Platform, round_id: str, game_id: str, game_name: str, amount: float, currency: str
) -> dict[str, object]:
    """What a Bet and its Win share: a fresh activity id, the round, the game, the vendor."""
    return {
        "activity_id": platform.new_id("cas"),
        "round_id": round_id,
        "amount": amount,
        "currency": currency,
        "exchange_rate": 1.0,
        "game_id": game_id,
        "game_name": game_name,
        "game_type": "Slots",
        "status": "Approved",
        "vendor_id": CASINO_VENDOR[0],
        "vendor_name": CASINO_VENDOR[1],
    }


def _bets(row: dict[str, object]) -> list[dict[str, object]]:
    return [
        {
            "event_name": row["event_name"],
            "match_start": row["match_start"],
            "odds": row["odds"],
            "market": row["market"],
            "sports_name": "Football",
            "tournament_name": "Premier League",
            "is_live": False,
            "is_free_bet": False,
            "is_risk_free_bet": False,
            "outcomes": [{"criterion_name": row["market"], "outcome_label": row["outcome"]}],
        }
    ]


def sports_bet(
    platform: Platform, user_id: str, amount: float, odds: float, event_name: str, outcome: str
) -> str:
    """A single bet; publishes SPORTSBOOK Bet; returns the bet id (its activity_id)."""
    bet_id = platform.new_id("sb")
    match_start = ft_timestamp(datetime.now(UTC) + timedelta(days=1))
    row: dict[str, object] = {
        "event_name": event_name,
        "match_start": match_start,
        "odds": odds,
        "market": "Match Result",
        "outcome": outcome,
    }
    with platform.change() as (conn, emit):
        player = platform.player(conn, user_id)
        before = player["real_balance"]
        if amount > before:
            msg = f"bet of {amount} exceeds the real balance {before}"
            raise Conflict(msg)
        conn.execute(
            "INSERT INTO sport_bets (bet_id, user_id, amount, odds, event_name, market, "
            "match_start, outcome, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open')",
            (bet_id, user_id, amount, odds, event_name, row["market"], match_start, outcome),
        )
        conn.execute(
            "UPDATE players SET real_balance = real_balance - ? WHERE user_id = ?",
            (amount, user_id),
        )
        emit(
            "SPORTSBOOK",
            user_id,
            activity_id=bet_id,
            amount=amount,
            wager_amount=amount,
            bonus_wager_amount=0,
            balance_before=before,
            balance_after=before - amount,
            odds=odds,
            bet_type="Single",
            bets=_bets(row),
            currency=player["currency"],
            exchange_rate=1.0,
            status="Approved",
            type="Bet",
        )
    return bet_id


def sports_settle(platform: Platform, bet_id: str, won: bool) -> float:
    """Settle a bet; publishes SPORTSBOOK Settlement linked by activity_id_reference."""
    with platform.change() as (conn, emit):
        bet = conn.execute("SELECT * FROM sport_bets WHERE bet_id = ?", (bet_id,)).fetchone()
        if bet is None:
            msg = f"no sportsbook bet {bet_id!r}"
            raise NotFound(msg)
        if bet["status"] != "open":
            msg = f"bet {bet_id} is already settled ({bet['status']})"
            raise Conflict(msg)
        payout = round(bet["amount"] * bet["odds"], 2) if won else 0.0
        player = platform.player(conn, bet["user_id"])
        before = player["real_balance"]
        conn.execute(
            "UPDATE sport_bets SET status = ? WHERE bet_id = ?", ("won" if won else "lost", bet_id)
        )
        conn.execute(
            "UPDATE players SET real_balance = real_balance + ? WHERE user_id = ?",
            (payout, bet["user_id"]),
        )
        emit(
            "SPORTSBOOK",
            bet["user_id"],
            activity_id=platform.new_id("sb"),
            activity_id_reference=bet_id,
            amount=payout,
            balance_before=before,
            balance_after=before + payout,
            odds=bet["odds"],
            bet_type="Single",
            bets=_bets(dict(bet)),
            currency=player["currency"],
            exchange_rate=1.0,
            status="Approved",
            type="Settlement",
        )
    return payout
