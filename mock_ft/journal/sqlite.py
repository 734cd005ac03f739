"""The SQLite backend: one file (or `:memory:`), one writer, WAL, checkpoints off the loop."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from mock_ft.errors import JournalError
from mock_ft.journal.checkpoint import BACKSTOP_PAGES, Checkpointer
from mock_ft.journal.migrations import Step, migrate
from mock_ft.journal.opening import WriterLock, check_integrity
from mock_ft.journal.sql import SQLITE, Connection, Dialect

__all__ = ["SqliteDatabase"]


class SqliteDatabase:
    """A journal file's connection, its writer lock and its checkpoint thread."""

    dialect: Dialect = SQLITE
    errors: tuple[type[Exception], ...] = (sqlite3.Error,)

    def __init__(
        self, path: str, *, sync: str, checkpoint_interval: float, commits: Callable[[], int]
    ) -> None:
        self.path = path
        self._sync = sync
        self._checkpoint_interval = checkpoint_interval  # 0: SQLite checkpoints inside COMMIT
        self._commits = commits
        self.checkpointer: Checkpointer | None = None
        self._conn: sqlite3.Connection | None = None
        self._lock: WriterLock | None = None  # held while a file journal is open
        self.migrated: list[Step] = []

    @property
    def conn(self) -> Connection:
        """The writer connection; JournalError once closed."""
        if self._conn is None:
            msg = f"journal {self.path} is closed; start() it before use"
            raise JournalError(msg)
        return self._conn

    def in_transaction(self) -> bool:
        """Whether a transaction is open (to roll back after a failed job)."""
        return self._conn is not None and self._conn.in_transaction

    def scrub(self, text: str) -> str:
        """`text` as it may be shown (a file journal has no secret in it)."""
        return text

    def open(self) -> None:
        """Take the writer lock, open and check the file, migrate it, start checkpointing."""
        if self.path != ":memory:":
            self._make_folder()
            self._lock = WriterLock(self.path).take()
        try:
            self._conn = self._open()
        except JournalError:
            self._release(clean=False)
            raise
        if self.path != ":memory:" and self._checkpoint_interval > 0:
            self._conn.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
            self.checkpointer = Checkpointer(self.path, self._commits, self._checkpoint_interval)
            self.checkpointer.start()

    def close(self) -> None:
        """Stop checkpointing, close the file and release its lock."""
        if self.checkpointer is not None:
            self.checkpointer.stop()
            self.checkpointer = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._release(clean=True)

    def _release(self, *, clean: bool) -> None:
        if self._lock is not None:
            self._lock.release(clean=clean)
            self._lock = None

    def _make_folder(self) -> None:
        try:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            msg = f"cannot create the folder of journal {self.path}: {exc.strerror}"
            raise JournalError(msg) from None

    def _open(self) -> sqlite3.Connection:
        # A file this mock closed cleanly and nobody touched since needs no second check.
        unchanged = self._lock is not None and self._lock.unchanged
        existing = self.path != ":memory:" and Path(self.path).is_file() and not unchanged
        _bind_none_cheaply()
        try:
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self._sync.upper()}")
            conn.execute("PRAGMA cache_size=-16000")  # 16 MiB page cache: bounds memory
            conn.execute("PRAGMA busy_timeout=5000")
            if existing:
                check_integrity(conn, self.path)  # closed below when it is damaged
            self.migrated = migrate(conn, "sqlite", SQLITE.begin)
        except sqlite3.Error as exc:
            msg = (
                f"cannot open journal {self.path}: {exc}; check the path or use --journal :memory:"
            )
            raise JournalError(msg) from None
        except JournalError:
            conn.close()
            raise
        return conn


def _bind_none_cheaply() -> None:
    """Register the identity adapter for None: binding None (SQL NULL) then costs a dict lookup.

    Without a registered adapter, CPython's sqlite3 (3.11) first asks its PrepareProtocol type
    for `__adapt__`; that failed lookup formats and drops an AttributeError for every NULL bound,
    about 5% of an event's ingest. The result is the same NULL either way; registering is
    process-wide and idempotent, and leaves every other type's binding untouched.
    """
    empty: dict[None, None] = {}
    sqlite3.register_adapter(type(None), empty.get)  # C-level, None for any value: no frame
