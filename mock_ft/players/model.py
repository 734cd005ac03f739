"""The player model: what FT's segmentation knows of a player, folded from the event feed.

`PlayerState.apply(event_type, payload)` folds one accepted event, in journal order. Money is
counted in base currency (`amount * exchange_rate`, facts file 2.5; a missing rate counts as 1).
Payments follow FT's segmentation rules (2.5.4): Credit+Approved adds a deposit, Credit+Rollback
takes it away again; Debit likewise for withdrawals. Casino and sportsbook turnover count
approved bets; a Rollback reverses what its type added. An amount no float holds counts as 0,
and so does one whose sum with a total would leave the floats: JSON has no infinity.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["ACTIVE_BONUS_STATUSES", "PLAYER_FIELDS", "PlayerState", "base_amount"]

# BONUS statuses in which a bonus still binds the player (facts file 2.5.7: Pending = given,
# not claimed; Created = claimed; Ongoing = being wagered). Every other status ends a bonus.
ACTIVE_BONUS_STATUSES = frozenset({"Pending", "Created", "Ongoing", "Claimed"})


def base_amount(payload: dict[str, Any]) -> float:
    """`amount * exchange_rate` (a missing or odd rate counts as 1; no amount as 0)."""
    amount = payload.get("amount")
    rate = payload.get("exchange_rate", 1)
    if isinstance(amount, bool) or not isinstance(amount, int | float):
        return 0.0
    if isinstance(rate, bool) or not isinstance(rate, int | float):
        rate = 1
    try:
        value = float(amount) * float(rate)
    except OverflowError:  # an integer beyond any float: FT's schema allows it, no total can
        return 0.0
    return value if math.isfinite(value) else 0.0


def _plus(total: float, change: float) -> float:
    """`total + change`, or `total` when the sum is beyond any float (1e308 + 1e308)."""
    value = total + change
    return value if math.isfinite(value) else total


@dataclass(slots=True)
class PlayerState:
    """One player as folded from accepted events (lookup results are added by the view)."""

    user_id: str
    event_count: int = 0
    last_event_id: int = 0
    last_event_at: str | None = None
    registered_at: str | None = None
    origin: str | None = None
    last_login_at: str | None = None
    login_count: int = 0
    deposit_count: int = 0
    deposit_total_base: float = 0.0
    first_deposit_at: str | None = None
    first_deposit_amount_base: float | None = None
    last_deposit_at: str | None = None
    withdrawal_count: int = 0
    withdrawal_total_base: float = 0.0
    withdrawal_requested_count: int = 0
    last_withdrawal_requested_at: str | None = None
    active_bonuses: dict[str, dict[str, Any]] = field(default_factory=dict)
    bonus_count: int = 0
    casino_bet_count: int = 0
    casino_turnover_base: float = 0.0
    casino_win_total_base: float = 0.0
    sportsbook_bet_count: int = 0
    sportsbook_turnover_base: float = 0.0
    sportsbook_settled_total_base: float = 0.0
    balances: dict[str, dict[str, Any]] = field(default_factory=dict)
    custom_events: dict[str, int] = field(default_factory=dict)
    event_counts: dict[str, int] = field(default_factory=dict)
    _bonuses_seen: set[str] = field(default_factory=set)

    @property
    def active_bonus_count(self) -> int:
        """How many bonuses are in an active status."""
        return len(self.active_bonuses)

    def apply(self, event_id: int, event_type: str, payload: dict[str, Any]) -> None:
        """Fold one accepted, first-seen event into the state."""
        self.event_count += 1
        self.last_event_id = event_id
        stamp = payload.get("timestamp")
        stamp = stamp if isinstance(stamp, str) else None
        self.last_event_at = stamp or self.last_event_at
        self.event_counts[event_type] = self.event_counts.get(event_type, 0) + 1
        if isinstance(payload.get("origin"), str):
            self.origin = payload["origin"]
        handler = _HANDLERS.get(event_type)
        if handler is not None:
            handler(self, payload, stamp)

    def public(self) -> dict[str, Any]:
        """The state as plain JSON-able data, with the derived counts; rounded money."""
        data = asdict(self)
        del data["_bonuses_seen"]
        for key, value in data.items():
            if isinstance(value, float):
                data[key] = round(value, 6)
        data["active_bonus_count"] = self.active_bonus_count
        data["active_bonus_ids"] = sorted(self.active_bonuses)
        return data


def _registration(state: PlayerState, payload: dict[str, Any], stamp: str | None) -> None:
    state.registered_at = state.registered_at or stamp


def _login(state: PlayerState, payload: dict[str, Any], stamp: str | None) -> None:
    state.login_count += 1
    state.last_login_at = stamp


def _payment(state: PlayerState, payload: dict[str, Any], stamp: str | None) -> None:
    status, kind, base = payload.get("status"), payload.get("type"), base_amount(payload)
    sign = {"Approved": 1, "Rollback": -1}.get(str(status), 0)
    if kind == "Credit" and sign:
        state.deposit_count += sign
        state.deposit_total_base = _plus(state.deposit_total_base, sign * base)
        if sign > 0:
            state.last_deposit_at = stamp
            if state.first_deposit_at is None:
                state.first_deposit_at, state.first_deposit_amount_base = stamp, base
    elif kind == "Debit" and sign:
        state.withdrawal_count += sign
        state.withdrawal_total_base = _plus(state.withdrawal_total_base, sign * base)
    elif kind == "Debit" and status == "Requested":
        state.withdrawal_requested_count += 1
        state.last_withdrawal_requested_at = stamp


def _casino(state: PlayerState, payload: dict[str, Any], stamp: str | None) -> None:
    sign = {"Approved": 1, "Rollback": -1}.get(str(payload.get("status")), 0)
    change = sign * base_amount(payload)
    if payload.get("type") == "Bet":
        state.casino_bet_count += sign
        state.casino_turnover_base = _plus(state.casino_turnover_base, change)
    elif payload.get("type") == "Win":
        state.casino_win_total_base = _plus(state.casino_win_total_base, change)


def _sportsbook(state: PlayerState, payload: dict[str, Any], stamp: str | None) -> None:
    sign = {"Approved": 1, "Rollback": -1}.get(str(payload.get("status")), 0)
    change = sign * base_amount(payload)
    if payload.get("type", "Bet") == "Bet":  # `type` is optional in the schema: a bet then
        state.sportsbook_bet_count += sign
        state.sportsbook_turnover_base = _plus(state.sportsbook_turnover_base, change)
    elif payload.get("type") == "Settlement":
        state.sportsbook_settled_total_base = _plus(state.sportsbook_settled_total_base, change)


def _bonus(state: PlayerState, payload: dict[str, Any], stamp: str | None) -> None:
    key = payload.get("user_bonus_id")
    if not isinstance(key, str):
        return
    if key not in state._bonuses_seen:
        state._bonuses_seen.add(key)
        state.bonus_count += 1
    status = payload.get("status")
    if status in ACTIVE_BONUS_STATUSES:
        state.active_bonuses[key] = {
            name: payload.get(name)
            for name in ("bonus_id", "bonus_code", "status", "amount", "currency", "product")
        }
        state.active_bonuses[key]["since"] = stamp
    else:
        state.active_bonuses.pop(key, None)


def _balances(state: PlayerState, payload: dict[str, Any], stamp: str | None) -> None:
    for wallet in payload.get("balances") or ():
        if isinstance(wallet, dict) and isinstance(wallet.get("key"), str):
            state.balances[wallet["key"]] = {
                "amount": wallet.get("amount"),
                "currency": wallet.get("currency"),
                "amount_base": round(base_amount(wallet), 6),
            }


def _custom(state: PlayerState, payload: dict[str, Any], stamp: str | None) -> None:
    name = payload.get("notification_type")
    if isinstance(name, str):
        state.custom_events[name] = state.custom_events.get(name, 0) + 1


_HANDLERS = {
    "USER_CREATE_V2": _registration,
    "LOGIN_V2": _login,
    "PAYMENT": _payment,
    "CASINO": _casino,
    "SPORTSBOOK": _sportsbook,
    "BONUS": _bonus,
    "USER_BALANCES_UPDATE": _balances,
    "CUSTOM": _custom,
}

# Top-level names a rule may test or a template may use (`player.NAME...`); the last five come
# from the Operator API lookups (see players.view).
PLAYER_FIELDS = (
    *(name for name in PlayerState.__slots__ if not name.startswith("_")),
    "active_bonus_count",
    "active_bonus_ids",
    "profile",
    "consents",
    "blocked",
    "excluded",
    "lookups",
)
