"""Stream checks: what is wrong across events rather than within one.

They run inside the journal transaction that records the event, so each event sees exactly the
events before it, including those earlier in its own batch. Their state lives in SQLite (`marks`,
`users`, written behind per batch by the journal's `Tx`), never in memory across batches. Every
finding is a warning: FT itself accepts such events. The checks only read and return a
`StateUpdate`; `record_state` applies it once the event has an id, so a batch that has to be
retried job by job records nothing twice. `stream_reads` names beforehand what they will read, so
the journal fetches it for a whole batch at once.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from mock_ft.contracts import EventRoute
from mock_ft.journal.models import NewEntry
from mock_ft.journal.tx import Reads, Tx, UserState
from mock_ft.problems import Problem, json_path

__all__ = [
    "StateUpdate",
    "apply_stream_checks",
    "idempotency_key",
    "record_state",
    "stream_reads",
]

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
# (field naming the bet on the Bet event, field linking an outcome to it, outcome type)
_BET_LINKS = {
    "CASINO": ("round_id", "round_id", "Win"),
    "SPORTSBOOK": ("activity_id", "activity_id_reference", "Settlement"),
    "LOTTERY_V2": ("ticket_id", "ticket_id", "Settlement"),
}


_KEY_PREFIXES: dict[str, str] = {}  # "PAYMENT:payment_id+status=" per event type, built once


@dataclass(slots=True)
class StateUpdate:
    """What an accepted, non-duplicate event changes in the stream-check state."""

    idempotency_key: str
    user: tuple[str, bool, float | None] | None = None  # user_id, registered, last event epoch
    payment: tuple[str, str] | None = None  # payment_id, status
    bet: tuple[str, str] | None = None  # mark kind, bet key


def idempotency_key(route: EventRoute, payload: dict[str, Any]) -> str:
    """FT's identity of an event: its key fields when the contract names them, else its content."""
    fields = route.idempotency_key
    if fields:
        values = [payload.get(f) for f in fields]
        if None not in values and "" not in values:
            prefix = _KEY_PREFIXES.get(route.event_type)
            if prefix is None:
                prefix = _KEY_PREFIXES[route.event_type] = f"{route.event_type}:{'+'.join(fields)}="
            return prefix + "|".join(map(str, values))
    digest = hashlib.sha1(  # noqa: S324 - identity, not security
        json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    return f"{route.event_type}:body={digest}"


def stream_reads(
    route: EventRoute, payload: dict[str, Any], key: str, user_id: str | None
) -> Reads:
    """What `apply_stream_checks` will read for this event (`key`: its idempotency key)."""
    reads = Reads([("idem", key)])
    event_type = route.event_type
    if user_id is not None and event_type != "GAME":
        reads.users.append(user_id)
    if event_type == "PAYMENT":
        reads.marks.append(("payment", str(payload["payment_id"])))
    elif event_type in _BET_LINKS:
        _, link_field, outcome = _BET_LINKS[event_type]
        link = payload.get(link_field)
        if payload.get("type") == outcome and link:
            reads.marks.append((f"bet:{event_type}", str(link)))
    return reads


def apply_stream_checks(
    tx: Tx, entry: NewEntry, route: EventRoute, payload: dict[str, Any], key: str
) -> StateUpdate | None:
    """Add warnings and the duplicate link to `entry` (`key`: its idempotency key); return the
    state to record, if any."""
    entry.idempotency_key = key
    first = tx.mark("idem", key)
    if first is not None:
        label = "+".join(route.idempotency_key) if route.idempotency_key else "body"
        entry.duplicate_of = first[1]
        entry.warnings.append(
            Problem(
                "$",
                "duplicate",
                f"duplicate of event #{first[1]} (same {label}); FT would count it twice",
            )
        )
        return None  # a duplicate changes no state
    update = StateUpdate(key)
    if entry.user_id is not None and route.event_type != "GAME":
        update.user = _check_user(tx, entry, route.event_type, entry.user_id)
    if route.event_type == "PAYMENT":
        update.payment = _check_payment(tx, entry, payload)
    elif route.event_type in _BET_LINKS:
        update.bet = _check_bet(tx, entry, route.event_type, payload)
    return update


def _check_user(
    tx: Tx, entry: NewEntry, event_type: str, user_id: str
) -> tuple[str, bool, float | None]:
    known = tx.user(user_id)
    registered = known is not None and known.registered
    if event_type == "USER_CREATE_V2" and registered:
        entry.warnings.append(
            Problem("$.user_id", "reregistered", f"user {user_id!r} was already registered")
        )
    elif event_type not in _NO_USER_CHECK and not registered:
        entry.warnings.append(
            Problem(
                "$.user_id",
                "unregistered_user",
                f"no USER_CREATE_V2 was accepted for user {user_id!r} before this event",
            )
        )
    last = known.last_epoch if known else None
    epoch = entry.event_epoch
    if known is not None and epoch is not None and last is not None and epoch < last:
        entry.warnings.append(
            Problem(
                "$.timestamp",
                "out_of_order",
                f"timestamp is earlier than event #{known.last_event_id} for user {user_id!r}; "
                "publish each player's events in the order they happened",
            )
        )
    newest = last if epoch is None or (last is not None and last > epoch) else epoch
    return user_id, registered or event_type == "USER_CREATE_V2", newest


def _check_payment(tx: Tx, entry: NewEntry, payload: dict[str, Any]) -> tuple[str, str]:
    payment_id, status = str(payload["payment_id"]), payload["status"]
    previous = tx.mark("payment", payment_id)
    before: str | None = previous[0] if previous else None
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
    return payment_id, status


def _check_bet(
    tx: Tx, entry: NewEntry, event_type: str, payload: dict[str, Any]
) -> tuple[str, str] | None:
    bet_field, link_field, outcome = _BET_LINKS[event_type]
    kind = f"bet:{event_type}"
    if payload.get("type") == "Bet" and payload.get(bet_field):
        return kind, str(payload[bet_field])
    link = payload.get(link_field)
    if payload.get("type") == outcome and link and tx.mark(kind, str(link)) is None:
        entry.warnings.append(
            Problem(
                json_path([link_field]),
                "orphan_outcome",
                f"{event_type} {outcome} refers to {link_field} {link!r}, but no Bet with it "
                "was received",
            )
        )
    return None


def record_state(tx: Tx, update: StateUpdate | None, event_id: int) -> None:
    """Apply what an accepted event changed, now that it has an id."""
    if update is None:
        return
    tx.set_mark("idem", update.idempotency_key, None, event_id)
    if update.user is not None:
        user_id, registered, last_epoch = update.user
        tx.set_user(user_id, UserState(registered, last_epoch, event_id))
    if update.payment is not None:
        tx.set_mark("payment", update.payment[0], update.payment[1], event_id)
    if update.bet is not None:
        tx.set_mark(update.bet[0], update.bet[1], None, event_id)
