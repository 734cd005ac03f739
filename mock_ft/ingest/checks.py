"""Stream checks: what is wrong across events rather than within one.

They run inside the journal transaction that records the event, so each event sees exactly the
events before it, including those earlier in its own batch. Their state lives in SQLite (`marks`,
`users`, written behind per batch by the journal's `Tx`), never in memory across batches. Every
finding is a warning: FT itself accepts such events. The checks record what an event changes under
the id its entry will be inserted with (`Tx.next_id`); a batch that has to be retried job by job
is retried in a fresh `Tx`, so nothing is recorded twice. `stream_reads` names beforehand what
they will read, so the journal fetches it for a whole batch at once.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from mock_ft.contracts import EventRoute
from mock_ft.journal.models import NewEntry
from mock_ft.journal.tx import Reads, Tx, UserState
from mock_ft.problems import Problem, json_path

__all__ = ["apply_stream_checks", "idempotency_key", "stream_reads"]

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


def idempotency_key(route: EventRoute, payload: dict[str, Any]) -> str:
    """FT's identity of an event: its key fields when the contract names them, else its content."""
    fields = route.idempotency_key
    if fields:
        values = list(map(payload.get, fields))  # no comprehension frame: this runs per event
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
    tx: Tx, entry: NewEntry, route: EventRoute, payload: dict[str, Any], key: str, event_id: int
) -> None:
    """Add warnings and the duplicate link to `entry` (`key`: its idempotency key), and record
    what it changes under `event_id`, the id it is about to be inserted with."""
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
        return  # a duplicate changes no state
    tx.set_mark("idem", key, None, event_id)
    event_type = route.event_type
    if entry.user_id is not None and event_type != "GAME":
        _check_user(tx, entry, event_type, entry.user_id, event_id)
    if event_type == "PAYMENT":
        _check_payment(tx, entry, payload, event_id)
    elif event_type in _BET_LINKS:
        _check_bet(tx, entry, event_type, payload, event_id)


def _check_user(tx: Tx, entry: NewEntry, event_type: str, user_id: str, event_id: int) -> None:
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
    tx.set_user(user_id, UserState(registered or event_type == "USER_CREATE_V2", newest, event_id))


def _check_payment(tx: Tx, entry: NewEntry, payload: dict[str, Any], event_id: int) -> None:
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
    tx.set_mark("payment", payment_id, status, event_id)


def _check_bet(
    tx: Tx, entry: NewEntry, event_type: str, payload: dict[str, Any], event_id: int
) -> None:
    bet_field, link_field, outcome = _BET_LINKS[event_type]
    kind = f"bet:{event_type}"
    if payload.get("type") == "Bet" and payload.get(bet_field):
        tx.set_mark(kind, str(payload[bet_field]), None, event_id)
        return
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
