"""Stream checks: what is wrong across events rather than within one.

They run on the journal's writer thread, inside the transaction that records the event, so each
event sees exactly the events journaled before it. Their state lives in the `marks` table, never in
memory. Every finding is a warning on the journal entry: FT itself accepts such events.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from typing import Any

from mock_ft.contracts import EventRoute
from mock_ft.journal.models import NewEntry
from mock_ft.problems import Problem, json_path

__all__ = ["apply_stream_checks", "idempotency_key"]

# Payment statuses each status may follow (FT docs, section 2.5.4); None = first seen.
_PAYMENT_NEXT: dict[str | None, frozenset[str]] = {
    None: frozenset({"Requested", "Approved", "Rejected", "Cancelled"}),
    "Requested": frozenset({"Approved", "Rejected", "Cancelled"}),
    "Approved": frozenset({"Rollback"}),
    "Rejected": frozenset(),
    "Cancelled": frozenset(),
    "Rollback": frozenset(),
}
# Events whose first sighting of a user is legitimate, or that carry no user.
_NO_USER_CHECK = frozenset({"USER_CREATE_V2", "GAME"})


def idempotency_key(route: EventRoute, payload: dict[str, Any]) -> str:
    """FT's identity of an event: its key fields when the contract names them, else its content."""
    fields = route.idempotency_key
    if fields and all(payload.get(f) not in (None, "") for f in fields):
        values = "|".join(str(payload[f]) for f in fields)
        return f"{route.event_type}:{'+'.join(fields)}={values}"
    digest = hashlib.sha1(  # noqa: S324 - identity, not security
        json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    return f"{route.event_type}:body={digest}"


def _mark(conn: sqlite3.Connection, kind: str, key: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = conn.execute(
        "SELECT value, event_id FROM marks WHERE kind = ? AND key = ?", (kind, key)
    ).fetchone()
    return row


def _set_mark(conn: sqlite3.Connection, kind: str, key: str, value: str | None, eid: int) -> None:
    conn.execute(
        "INSERT INTO marks (kind, key, value, event_id) VALUES (?, ?, ?, ?) "
        "ON CONFLICT DO UPDATE SET value = excluded.value, event_id = excluded.event_id",
        (kind, key, value, eid),
    )


def apply_stream_checks(
    conn: sqlite3.Connection, entry: NewEntry, route: EventRoute, payload: dict[str, Any]
) -> list[tuple[str, str, str | None]]:
    """Add warnings and the duplicate link to `entry`; return the marks to set once it has an id."""
    marks: list[tuple[str, str, str | None]] = []
    key = entry.idempotency_key = idempotency_key(route, payload)
    first = _mark(conn, "idem", key)
    if first is not None:
        entry.duplicate_of = first["event_id"]
        entry.warnings.append(
            Problem(
                "$",
                "duplicate",
                f"duplicate of event #{first['event_id']} (same {_key_label(route)}); "
                "FT would count it twice",
            )
        )
        return marks  # a duplicate changes no state
    marks.append(("idem", key, None))

    user_id = entry.user_id
    if route.event_type == "USER_CREATE_V2" and user_id is not None:
        if _mark(conn, "user", user_id) is not None:
            entry.warnings.append(
                Problem("$.user_id", "reregistered", f"user {user_id!r} was already registered")
            )
        marks.append(("user", user_id, None))
    elif (
        route.event_type not in _NO_USER_CHECK
        and user_id is not None
        and _mark(conn, "user", user_id) is None
    ):
        entry.warnings.append(
            Problem(
                "$.user_id",
                "unregistered_user",
                f"no USER_CREATE_V2 was accepted for user {user_id!r} before this event",
            )
        )

    if user_id is not None and entry.event_epoch is not None:
        marks.extend(_per_user_order(conn, entry, user_id, entry.event_epoch))
    if route.event_type == "PAYMENT":
        marks.extend(_payment_transition(conn, entry, payload))
    elif route.event_type in ("CASINO", "SPORTSBOOK", "LOTTERY_V2"):
        marks.extend(_bet_then_outcome(conn, entry, route.event_type, payload))
    return marks


def _key_label(route: EventRoute) -> str:
    return "+".join(route.idempotency_key) if route.idempotency_key else "body"


def _per_user_order(
    conn: sqlite3.Connection, entry: NewEntry, user_id: str, epoch: float
) -> list[tuple[str, str, str | None]]:
    previous = _mark(conn, "last_seen", user_id)
    if previous is not None and epoch < float(previous["value"]):
        entry.warnings.append(
            Problem(
                "$.timestamp",
                "out_of_order",
                f"timestamp is earlier than event #{previous['event_id']} for user {user_id!r}; "
                "publish each player's events in the order they happened",
            )
        )
        return []  # keep the newest instant as the reference
    return [("last_seen", user_id, repr(epoch))]


def _payment_transition(
    conn: sqlite3.Connection, entry: NewEntry, payload: dict[str, Any]
) -> list[tuple[str, str, str | None]]:
    payment_id, status = str(payload["payment_id"]), payload["status"]
    previous = _mark(conn, "payment", payment_id)
    before: str | None = previous["value"] if previous else None
    if status not in _PAYMENT_NEXT.get(before, frozenset()):
        if status == "Rollback" and before != "Approved":
            why = "a Rollback needs a prior Approved payment with the same payment_id"
        else:
            why = f"{before or 'nothing'} cannot be followed by {status}"
        entry.warnings.append(
            Problem(
                json_path(["status"]),
                "payment_transition",
                f"impossible status change for payment_id {payment_id!r}: {why}",
            )
        )
    return [("payment", payment_id, status)]


def _bet_then_outcome(
    conn: sqlite3.Connection, entry: NewEntry, event_type: str, payload: dict[str, Any]
) -> list[tuple[str, str, str | None]]:
    # (field naming the bet on the bet event, field linking the outcome to it, outcome type)
    bet_field, link_field, outcome = {
        "CASINO": ("round_id", "round_id", "Win"),
        "SPORTSBOOK": ("activity_id", "activity_id_reference", "Settlement"),
        "LOTTERY_V2": ("ticket_id", "ticket_id", "Settlement"),
    }[event_type]
    kind = f"bet:{event_type}"
    if payload.get("type") == "Bet" and payload.get(bet_field):
        return [(kind, str(payload[bet_field]), None)]
    link = payload.get(link_field)
    if payload.get("type") == outcome and link and _mark(conn, kind, str(link)) is None:
        entry.warnings.append(
            Problem(
                json_path([link_field]),
                "orphan_outcome",
                f"{event_type} {outcome} refers to {link_field} {link!r}, but no Bet with it "
                "was received",
            )
        )
    return []


def record_marks(
    conn: sqlite3.Connection, marks: list[tuple[str, str, str | None]], event_id: int
) -> None:
    """Persist the marks an accepted event set, now that it has an id."""
    for kind, key, value in marks:
        _set_mark(conn, kind, key, value, event_id)
