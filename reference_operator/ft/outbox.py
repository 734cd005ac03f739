"""The transactional outbox: an FT event is written in the same transaction as its change.

`enqueue` is called inside the platform's write transaction; the dispatcher publishes what is
here, in order per player, until FT answers 200. Defect switches that corrupt or lose events act
here, at the one place every event passes.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
from dataclasses import dataclass

from ..ft.events import FtEvent
from ..settings import OperatorSettings

__all__ = ["Outbox", "PendingEvent"]

_LATE_SECONDS = 2.0  # the `late_events` defect's delay
_ENUM_FIELDS = ("status", "type", "product", "bet_type")


@dataclass(slots=True, frozen=True)
class PendingEvent:
    """An outbox row not yet delivered."""

    id: int
    user_id: str
    event_type: str
    method: str
    path: str
    payload: str
    attempts: int
    due_at: float


class Outbox:
    """Writes events into the outbox table (and applies the event defect switches)."""

    def __init__(self, settings: OperatorSettings) -> None:
        self.settings = settings
        self._random = random.Random(settings.seed)  # noqa: S311 - a defect's dice, not security

    def enqueue(self, conn: sqlite3.Connection, event: FtEvent) -> None:
        """Add `event` to the outbox inside the caller's transaction."""
        settings = self.settings
        if settings.has("drops_events") and self._random.random() < 0.1:
            return
        payload = dict(event.payload)
        if settings.has("events_missing_field"):
            payload.pop("origin", None)
        if settings.has("events_wrong_enum_case"):
            for name in _ENUM_FIELDS:
                if isinstance(payload.get(name), str):
                    payload[name] = payload[name].lower()
        now = time.time()
        due = now + _LATE_SECONDS if settings.has("late_events") else now
        copies = 2 if settings.has("duplicate_events") else 1
        body = json.dumps(payload, separators=(",", ":"))
        for _ in range(copies):
            conn.execute(
                "INSERT INTO outbox (user_id, event_type, method, path, payload, created_at, "
                "due_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (event.user_id, event.event_type, event.method, event.path, body, now, due),
            )
