"""WAL checkpoints on a thread of their own, so the event loop never waits for the disk.

In WAL mode with `synchronous=NORMAL` a commit only appends to the log; the fsyncs happen when
the log is copied back into the database (a checkpoint). Left to SQLite, that happens inside
whichever COMMIT crosses the threshold: on the event loop, stalling every request for
milliseconds. Here a thread with its own connection runs PASSIVE checkpoints (they never block
the writer) whenever commits happened; SQLite releases the GIL while it works. The writer keeps a
far higher automatic threshold as a backstop should this thread ever fall behind.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable

__all__ = ["BACKSTOP_PAGES", "Checkpointer"]

BACKSTOP_PAGES = 20_000  # the writer's own wal_autocheckpoint (about 80 MiB of log)


class Checkpointer(threading.Thread):
    """Runs `PRAGMA wal_checkpoint(PASSIVE)` every `interval` seconds while commits happen."""

    def __init__(self, path: str, commits: Callable[[], int], interval: float = 0.1) -> None:
        super().__init__(name="journal-checkpoint", daemon=True)
        self._path = path
        self._commits = commits
        self._interval = interval
        self._stopping = threading.Event()
        self._seen = commits()  # read now: commits made before the thread runs still count
        self.checkpoints = 0

    def run(self) -> None:
        conn = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
        try:
            conn.execute("PRAGMA cache_size=-2000")
            conn.execute("PRAGMA busy_timeout=5000")
            while not self._stopping.wait(self._interval):
                now = self._commits()
                if now != self._seen:
                    self._seen = now
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                    self.checkpoints += 1
        except sqlite3.Error:
            return  # the writer's backstop threshold takes over; nothing is lost either way
        finally:
            conn.close()

    def stop(self) -> None:
        """Stop and wait for the thread (the final checkpoint happens when the writer closes)."""
        self._stopping.set()
        self.join()
