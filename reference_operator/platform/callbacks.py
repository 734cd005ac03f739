"""What FT's Callback Actions ask of the platform: cancel bonuses, sync loyalty points.

Also the memory of which callbacks were served (`callbacks_served`): FT may repeat a Callback
Action with the same `X-Fasttrack-Id`, and the operator must answer it as before, changing nothing.
"""

from __future__ import annotations

import json
import math
import sqlite3
from typing import Any

from ..errors import Conflict
from ..ft.events import ft_timestamp
from ..platform import money
from ..platform.core import Platform

__all__ = [
    "POINTS_PER_UNIT",
    "active_bonuses",
    "cancel_bonuses",
    "loyalty_points",
    "remember_answer",
    "served_answer",
    "sync_loyalty",
]

POINTS_PER_UNIT = 1  # loyalty points per unit of casino turnover (base currency)
_ACTIVE = ("Pending", "Created", "Ongoing")  # the statuses `cancel` may follow


def active_bonuses(platform: Platform, user_ids: list[str]) -> list[str]:
    """The user_bonus_ids of every active bonus of each user, oldest first.

    Every user is looked up, so an unknown one (NotFound) is refused before anything changes.
    """
    marks = ", ".join("?" for _ in _ACTIVE)
    with platform.db.read() as conn:
        for user_id in user_ids:
            platform.player(conn, user_id)
        return [
            row[0]
            for user_id in user_ids
            for row in conn.execute(
                f"SELECT user_bonus_id FROM bonuses WHERE user_id = ? AND status IN ({marks}) "  # noqa: S608 - fixed placeholders
                "ORDER BY rowid",
                (user_id, *_ACTIVE),
            )
        ]


def cancel_bonuses(platform: Platform, user_bonus_ids: list[str]) -> list[str]:
    """Forfeit each bonus (BONUS Forfeited, then the wallets when money moved); the ones done."""
    cancelled = []
    for user_bonus_id in user_bonus_ids:
        try:
            money.bonus_transition(platform, user_bonus_id, "cancel")
        except Conflict:  # completed or cancelled meanwhile: no longer active, nothing to do
            continue
        cancelled.append(user_bonus_id)
    return cancelled


def loyalty_points(conn: sqlite3.Connection, user_id: str) -> int:
    """The player's loyalty points (0 before the first sync)."""
    row = conn.execute("SELECT points FROM loyalty WHERE user_id = ?", (user_id,)).fetchone()
    return int(row[0]) if row else 0


def sync_loyalty(
    platform: Platform, user_id: str, turnover: float, programme: str
) -> tuple[int, bool]:
    """Set the points from FT's turnover figure; publish CUSTOM when they changed.

    Returns the points and whether they changed. Setting (not adding) makes a repeat harmless.
    """
    points = math.floor(turnover * POINTS_PER_UNIT)
    with platform.change() as (conn, emit):
        platform.player(conn, user_id)
        changed = points != loyalty_points(conn, user_id)
        conn.execute(
            "INSERT INTO loyalty (user_id, programme, points, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (user_id) DO UPDATE SET programme = excluded.programme, "
            "points = excluded.points, updated_at = excluded.updated_at",
            (user_id, programme, points, ft_timestamp()),
        )
        if changed:  # CUSTOM `data` values are strings in FT's templates
            emit(
                "CUSTOM",
                user_id,
                notification_type="loyalty_points_updated",
                data={"points": str(points), "programme": programme},
            )
    return points, changed


def served_answer(platform: Platform, fasttrack_id: str, endpoint: str) -> dict[str, Any] | None:
    """The answer given to this X-Fasttrack-Id at `endpoint`, if it was served before."""
    with platform.db.read() as conn:
        row = conn.execute(
            "SELECT answer FROM callbacks_served WHERE fasttrack_id = ? AND endpoint = ?",
            (fasttrack_id, endpoint),
        ).fetchone()
    if row is None:
        return None
    answer: dict[str, Any] = json.loads(row[0])
    return answer


def remember_answer(
    platform: Platform, fasttrack_id: str, endpoint: str, answer: dict[str, Any]
) -> None:
    """Store the answer so a repeat of this X-Fasttrack-Id gets it again."""
    with platform.db.transaction() as conn:
        conn.execute(
            "INSERT INTO callbacks_served (fasttrack_id, endpoint, answer, served_at) "
            "VALUES (?, ?, ?, ?)",
            (fasttrack_id, endpoint, json.dumps(answer), ft_timestamp()),
        )
