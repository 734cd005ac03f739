"""The platform's SQLite database: one connection, one writer at a time, WAL for durability.

Every business change and the FT events it causes are written in one transaction (see
`Database.transaction`), so an event exists in the outbox exactly when its change exists.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reference_operator.errors import SettingsError

__all__ = ["Database"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS players (
    user_id TEXT PRIMARY KEY, username TEXT NOT NULL, email TEXT NOT NULL,
    first_name TEXT NOT NULL, last_name TEXT NOT NULL, title TEXT NOT NULL, address TEXT NOT NULL,
    city TEXT NOT NULL, postal_code TEXT NOT NULL, country TEXT NOT NULL, currency TEXT NOT NULL,
    language TEXT NOT NULL, mobile TEXT NOT NULL, mobile_prefix TEXT NOT NULL,
    birth_date TEXT NOT NULL, sex TEXT NOT NULL, roles TEXT NOT NULL,
    registration_date TEXT NOT NULL, registration_code TEXT NOT NULL,
    affiliate_reference TEXT NOT NULL, market TEXT NOT NULL, verified_at TEXT NOT NULL,
    real_balance REAL NOT NULL DEFAULT 0, bonus_balance REAL NOT NULL DEFAULT 0,
    blocked INTEGER NOT NULL DEFAULT 0, blocked_note TEXT NOT NULL DEFAULT '',
    excluded INTEGER NOT NULL DEFAULT 0, excluded_note TEXT NOT NULL DEFAULT '',
    referred_by TEXT
);
CREATE TABLE IF NOT EXISTS consents (
    user_id TEXT NOT NULL, type TEXT NOT NULL, opted_in INTEGER NOT NULL,
    PRIMARY KEY (user_id, type)
);
CREATE TABLE IF NOT EXISTS sessions (
    sid TEXT PRIMARY KEY, user_id TEXT NOT NULL, created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS payments (
    payment_id INTEGER PRIMARY KEY AUTOINCREMENT, user_id TEXT NOT NULL, type TEXT NOT NULL,
    amount REAL NOT NULL, currency TEXT NOT NULL, status TEXT NOT NULL,
    vendor_id TEXT NOT NULL, vendor_name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS casino_rounds (
    round_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, game_id TEXT NOT NULL,
    game_name TEXT NOT NULL, bet REAL NOT NULL, win REAL, closed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS sport_bets (
    bet_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, amount REAL NOT NULL, odds REAL NOT NULL,
    event_name TEXT NOT NULL, market TEXT NOT NULL, match_start TEXT NOT NULL,
    outcome TEXT NOT NULL, status TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS bonuses (
    user_bonus_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, bonus_id TEXT NOT NULL,
    bonus_code TEXT NOT NULL, amount REAL NOT NULL, status TEXT NOT NULL,
    fasttrack_id TEXT, fasttrack_references TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS ix_bonuses_ft ON bonuses(fasttrack_id);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, user_id TEXT NOT NULL, event_type TEXT NOT NULL,
    method TEXT NOT NULL, path TEXT NOT NULL, payload TEXT NOT NULL,
    created_at REAL NOT NULL, due_at REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    delivered_at REAL, abandoned INTEGER NOT NULL DEFAULT 0, last_error TEXT,
    unanswered INTEGER NOT NULL DEFAULT 0  -- attempts sent that got no answer
);
CREATE TABLE IF NOT EXISTS loyalty (
    user_id TEXT PRIMARY KEY, programme TEXT NOT NULL, points INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS callbacks_served (
    fasttrack_id TEXT NOT NULL, endpoint TEXT NOT NULL, answer TEXT NOT NULL,
    served_at TEXT NOT NULL, PRIMARY KEY (fasttrack_id, endpoint)
);
CREATE INDEX IF NOT EXISTS ix_outbox_pending ON outbox(user_id, id) WHERE delivered_at IS NULL
    AND abandoned = 0;
"""
# Columns added since the first release, added to older database files when they are opened.
ADDED_COLUMNS = (
    ("players", "referred_by", "TEXT"),
    ("outbox", "unanswered", "INTEGER NOT NULL DEFAULT 0"),
)


def _add_missing_columns(conn: sqlite3.Connection) -> None:
    for table, column, kind in ADDED_COLUMNS:
        present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if column not in present:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")


class Database:
    """The platform database. `transaction()` for writes, `read()` for reads."""

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            msg = f"cannot create the folder of the platform database {path}: {exc.strerror}"
            raise SettingsError(msg) from None
        try:
            self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(SCHEMA)
            _add_missing_columns(self._conn)
        except sqlite3.Error as exc:
            msg = f"cannot open the platform database {path}: {exc}; check --database"
            raise SettingsError(msg) from None
        self._lock = threading.RLock()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed when the block ends, rolled back if it raises."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """The connection for reads (serialised with writes)."""
        with self._lock:
            yield self._conn

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._conn.close()
