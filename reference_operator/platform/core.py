"""What every platform action shares: the database, the outbox, and one way to change things.

`Platform.change()` opens a write transaction and hands out an `emit` function; the events
emitted are written to the outbox in that same transaction, and the dispatcher is woken once it
has committed. So a change and its FT events are both there, or neither.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from faker import Faker

from ..db import Database
from ..errors import NotFound
from ..ft.events import build
from ..ft.outbox import Outbox
from ..settings import OperatorSettings

__all__ = ["CONSENT_TYPES", "Emit", "Platform"]

CONSENT_TYPES = (
    "email",
    "sms",
    "telephone",
    "postMail",
    "siteNotification",
    "pushNotification",
)

Emit = Callable[..., None]


class Platform:
    """The platform's state and the one door through which it changes."""

    def __init__(
        self, db: Database, settings: OperatorSettings, notify: Callable[[], None] = lambda: None
    ) -> None:
        self.db = db
        self.settings = settings
        self.outbox = Outbox(settings)
        self.notify = notify  # wakes the dispatcher after a commit
        self.faker = Faker(["en_GB"])
        self.faker.seed_instance(settings.seed)

    @contextmanager
    def change(self) -> Iterator[tuple[sqlite3.Connection, Emit]]:
        """A write transaction and `emit(event_type, user_id, **fields)` for its FT events."""
        with self.db.transaction() as conn:

            def emit(event_type: str, user_id: str, **fields: Any) -> None:
                event = build(event_type, user_id, self.settings.origin, **fields)
                self.outbox.enqueue(conn, event)

            yield conn, emit
        self.notify()

    @staticmethod
    def player(conn: sqlite3.Connection, user_id: str) -> sqlite3.Row:
        """The player's row, or NotFound."""
        row: sqlite3.Row | None = conn.execute(
            "SELECT * FROM players WHERE user_id = ?", (user_id,)
        ).fetchone()
        if row is None:
            msg = f"no player {user_id!r}; register one with POST /platform/players"
            raise NotFound(msg)
        return row

    def emit_balances(self, conn: sqlite3.Connection, emit: Emit, user_id: str) -> None:
        """Publish the player's wallets (FT wants both real_money and bonus_money)."""
        row = self.player(conn, user_id)
        emit(
            "USER_BALANCES_UPDATE",
            user_id,
            balances=[
                {
                    "amount": round(row["real_balance"], 2),
                    "currency": row["currency"],
                    "key": "real_money",
                    "exchange_rate": 1.0,
                },
                {
                    "amount": round(row["bonus_balance"], 2),
                    "currency": row["currency"],
                    "key": "bonus_money",
                    "exchange_rate": 1.0,
                },
            ],
        )

    @staticmethod
    def new_id(prefix: str) -> str:
        """A fresh unique id such as `cas-1b9d6bcd...`."""
        return f"{prefix}-{uuid.uuid4().hex[:16]}"
