"""Payments (deposits, withdrawals, rollbacks), balance adjustments and bonuses.

Every status a payment or bonus passes through is published (FT: "the more statuses the better"),
with the same `payment_id` / `user_bonus_id`, followed by the wallets when they changed.
"""

from __future__ import annotations

import json
import sqlite3

from ..errors import Conflict, NotFound
from ..platform.core import Emit, Platform

__all__ = [
    "BONUS_CATALOGUE",
    "adjust_balance",
    "bonus_transition",
    "decide_withdrawal",
    "deposit",
    "grant_bonus",
    "rollback",
    "withdraw",
]

VENDOR = ("12", "Skrill")
# bonus_code: (bonus_id, label, FT product, FT bonus type)
BONUS_CATALOGUE: dict[str, tuple[str, str, str, str]] = {
    "WELCOME100": ("b-100", "Welcome bonus 100%", "Casino", "WelcomeBonus"),
    "FREESPINS50": ("b-200", "50 free spins", "Casino", "FreeSpins"),
    "RELOAD25": ("b-300", "Reload bonus 25%", "Casino", "ReloadBonus"),
    "SPORTSFREEBET": ("b-400", "Risk-free bet", "Sportsbook", "RiskFreeBet"),
    "REFERRAL10": ("b-500", "Refer-a-friend reward", "Casino", "ReloadBonus"),
    "CHATBONUS5": ("b-600", "Chat bonus bot reward", "Casino", "FreeSpins"),
}
# Bonus lifecycle: action -> (statuses it may follow, FT status it leads to)
_BONUS_STEPS = {
    "claim": ({"Pending"}, "Created"),
    "wager": ({"Created"}, "Ongoing"),
    "complete": ({"Created", "Ongoing"}, "Completed"),
    "cancel": ({"Pending", "Created", "Ongoing"}, "Forfeited"),
}


def _payment_event(emit: Emit, row: sqlite3.Row) -> None:
    emit(
        "PAYMENT",
        row["user_id"],
        payment_id=str(row["payment_id"]),
        amount=row["amount"],
        currency=row["currency"],
        exchange_rate=1.0,
        fee_amount=0,
        status=row["status"],
        type=row["type"],
        vendor_id=row["vendor_id"],
        vendor_name=row["vendor_name"],
    )


def _move(conn: sqlite3.Connection, user_id: str, real: float = 0.0, bonus: float = 0.0) -> None:
    conn.execute(
        "UPDATE players SET real_balance = real_balance + ?, bonus_balance = bonus_balance + ? "
        "WHERE user_id = ?",
        (real, bonus, user_id),
    )


def _payment(conn: sqlite3.Connection, payment_id: str) -> sqlite3.Row:
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM payments WHERE payment_id = ?", (payment_id,)
    ).fetchone()
    if row is None:
        msg = f"no payment {payment_id!r}"
        raise NotFound(msg)
    return row


def _set_status(conn: sqlite3.Connection, payment_id: int, status: str) -> sqlite3.Row:
    conn.execute("UPDATE payments SET status = ? WHERE payment_id = ?", (status, payment_id))
    return _payment(conn, str(payment_id))


def deposit(platform: Platform, user_id: str, amount: float) -> str:
    """An approved deposit: PAYMENT Credit Requested then Approved, then the wallets."""
    with platform.change() as (conn, emit):
        player = platform.player(conn, user_id)
        cursor = conn.execute(
            "INSERT INTO payments (user_id, type, amount, currency, status, vendor_id, "
            "vendor_name) VALUES (?, 'Credit', ?, ?, 'Requested', ?, ?)",
            (user_id, amount, player["currency"], *VENDOR),
        )
        payment_id = int(cursor.lastrowid or 0)
        _payment_event(emit, _payment(conn, str(payment_id)))
        _move(conn, user_id, real=amount)
        _payment_event(emit, _set_status(conn, payment_id, "Approved"))
        platform.emit_balances(conn, emit, user_id)
    return str(payment_id)


def withdraw(platform: Platform, user_id: str, amount: float) -> str:
    """A withdrawal request: the funds are reserved; PAYMENT Debit Requested, then the wallets."""
    with platform.change() as (conn, emit):
        player = platform.player(conn, user_id)
        if amount > player["real_balance"]:
            msg = f"withdrawal of {amount} exceeds the real balance {player['real_balance']}"
            raise Conflict(msg)
        cursor = conn.execute(
            "INSERT INTO payments (user_id, type, amount, currency, status, vendor_id, "
            "vendor_name) VALUES (?, 'Debit', ?, ?, 'Requested', ?, ?)",
            (user_id, amount, player["currency"], *VENDOR),
        )
        _move(conn, user_id, real=-amount)
        _payment_event(emit, _payment(conn, str(cursor.lastrowid)))
        platform.emit_balances(conn, emit, user_id)
    return str(cursor.lastrowid)


def decide_withdrawal(platform: Platform, payment_id: str, status: str) -> None:
    """Approve, reject or cancel a requested withdrawal; rejected or cancelled funds return."""
    with platform.change() as (conn, emit):
        row = _payment(conn, payment_id)
        if row["type"] != "Debit" or row["status"] != "Requested":
            msg = f"payment {payment_id} is a {row['type']} in status {row['status']}; only a "
            msg += "Requested withdrawal can be approved, rejected or cancelled"
            raise Conflict(msg)
        _payment_event(emit, _set_status(conn, row["payment_id"], status))
        if status != "Approved":
            _move(conn, row["user_id"], real=row["amount"])
            platform.emit_balances(conn, emit, row["user_id"])


def rollback(platform: Platform, payment_id: str) -> None:
    """Reverse an approved payment: PAYMENT Rollback with the same payment_id, then the wallets."""
    with platform.change() as (conn, emit):
        row = _payment(conn, payment_id)
        if row["status"] != "Approved":
            msg = f"payment {payment_id} is {row['status']}; only an Approved one can roll back"
            raise Conflict(msg)
        _payment_event(emit, _set_status(conn, row["payment_id"], "Rollback"))
        sign = -1 if row["type"] == "Credit" else 1
        _move(conn, row["user_id"], real=sign * row["amount"])
        platform.emit_balances(conn, emit, row["user_id"])


def adjust_balance(platform: Platform, user_id: str, amount: float, wallet: str) -> None:
    """A manual correction of one wallet; publishes USER_BALANCES_UPDATE."""
    with platform.change() as (conn, emit):
        player = platform.player(conn, user_id)
        column = "real_balance" if wallet == "real_money" else "bonus_balance"
        if player[column] + amount < 0:
            msg = f"the adjustment would make {wallet} negative ({player[column]} + {amount})"
            raise Conflict(msg)
        _move(
            conn, user_id, **({"real": amount} if column == "real_balance" else {"bonus": amount})
        )
        platform.emit_balances(conn, emit, user_id)


def _bonus_event(emit: Emit, row: sqlite3.Row, currency: str) -> None:
    _, _, product, kind = BONUS_CATALOGUE[row["bonus_code"]]
    fields: dict[str, object] = {
        "amount": row["amount"],
        "bonus_code": row["bonus_code"],
        "bonus_id": row["bonus_id"],
        "user_bonus_id": row["user_bonus_id"],
        "currency": currency,
        "exchange_rate": 1.0,
        "product": product,
        "status": row["status"],
        "type": kind,
    }
    if row["fasttrack_references"]:
        fields["fasttrack_references"] = json.loads(row["fasttrack_references"])
    emit("BONUS", row["user_id"], **fields)


def grant_bonus(
    platform: Platform,
    user_id: str,
    bonus_code: str,
    amount: float,
    *,
    fasttrack_id: str | None = None,
    references: dict[str, object] | None = None,
) -> str:
    """Give a bonus (status Pending); publishes BONUS. FT's references are echoed when given."""
    if bonus_code not in BONUS_CATALOGUE:
        msg = f"unknown bonus_code {bonus_code!r}; GET /bonus/list names the offered ones"
        raise NotFound(msg)
    user_bonus_id = platform.new_id("ub")
    with platform.change() as (conn, emit):
        player = platform.player(conn, user_id)
        conn.execute(
            "INSERT INTO bonuses (user_bonus_id, user_id, bonus_id, bonus_code, amount, status, "
            "fasttrack_id, fasttrack_references) VALUES (?, ?, ?, ?, ?, 'Pending', ?, ?)",
            (
                user_bonus_id,
                user_id,
                BONUS_CATALOGUE[bonus_code][0],
                bonus_code,
                amount,
                fasttrack_id,
                json.dumps(references) if references else None,
            ),
        )
        row = conn.execute(
            "SELECT * FROM bonuses WHERE user_bonus_id = ?", (user_bonus_id,)
        ).fetchone()
        _bonus_event(emit, row, player["currency"])
    return user_bonus_id


def bonus_transition(platform: Platform, user_bonus_id: str, action: str) -> str:
    """Move a bonus along its lifecycle; publishes BONUS (and the wallets when money moved)."""
    allowed_from, status = _BONUS_STEPS[action]
    with platform.change() as (conn, emit):
        row = conn.execute(
            "SELECT * FROM bonuses WHERE user_bonus_id = ?", (user_bonus_id,)
        ).fetchone()
        if row is None:
            msg = f"no bonus {user_bonus_id!r}"
            raise NotFound(msg)
        if row["status"] not in allowed_from:
            msg = f"bonus {user_bonus_id} is {row['status']}; {action} needs one of "
            msg += ", ".join(sorted(allowed_from))
            raise Conflict(msg)
        conn.execute(
            "UPDATE bonuses SET status = ? WHERE user_bonus_id = ?", (status, user_bonus_id)
        )
        user_id, amount = row["user_id"], row["amount"]
        player = platform.player(conn, user_id)
        moves = {"Created": (0.0, amount), "Completed": (amount, -amount)}
        if status == "Forfeited" and row["status"] != "Pending":
            moves["Forfeited"] = (0.0, -min(amount, player["bonus_balance"]))
        updated = conn.execute(
            "SELECT * FROM bonuses WHERE user_bonus_id = ?", (user_bonus_id,)
        ).fetchone()
        _bonus_event(emit, updated, player["currency"])
        if status in moves:
            real, bonus = moves[status]
            _move(conn, user_id, real=real, bonus=bonus)
            platform.emit_balances(conn, emit, user_id)
    return status
