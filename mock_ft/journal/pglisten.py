"""Commits of the other instances on a PostgreSQL journal, heard through LISTEN/NOTIFY.

Each batch that writes events sends `NOTIFY mock_ft_commits` inside its transaction; PostgreSQL
delivers it to every listening connection when, and only if, the transaction commits. A thread
per journal listens on its own connection and calls `heard` for each commit of another
connection (this instance's own commits already woke its waiters), so `/_mock/events/wait` and
the live stream on any instance answer as soon as any instance journals an event. The same
connection listens on `mock_ft_rules` (journal/rules.py) and calls `heard_rules` for another
instance's change of the shared fault and callback rules.

If the listening connection breaks (PostgreSQL restarted), the thread reconnects, and calls
`heard` once it listens again: a commit made meanwhile was not heard, so waiters look again.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

import psycopg

from mock_ft.journal.pgconn import connection_options
from mock_ft.journal.rules import RULES_CHANNEL

__all__ = ["CHANNEL", "CommitListener"]

CHANNEL = "mock_ft_commits"
_POLL = 0.5  # seconds between looks at the stop flag while no notification comes
_RETRY = 1.0  # seconds between reconnection attempts

log = logging.getLogger(__name__)


class CommitListener:
    """A thread that calls `heard()` for each commit of another writer of the database."""

    def __init__(
        self,
        url: str,
        heard: Callable[[], None],
        own_pid: Callable[[], int],
        heard_rules: Callable[[], None] = lambda: None,
    ) -> None:
        self._url = url
        self._heard = heard
        self._heard_rules = heard_rules
        self._own_pid = own_pid  # the writer connection's backend pid: its commits are skipped
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: psycopg.Connection[Any] | None = None

    def start(self) -> None:
        """Listen now (so no commit after `start` returns is missed), then in the thread."""
        self._conn = self._connect()
        self._thread = threading.Thread(target=self._run, name="mock-ft commit listener")
        self._thread.daemon = True
        self._thread.start()

    def stop(self, wake: Callable[[], None] = lambda: None) -> None:
        """Stop the thread and close its connection; `wake` sends a notification on the
        channel, so that the thread stops now rather than within `_POLL` seconds."""
        self._stop.set()
        if self._thread is not None:
            with contextlib.suppress(psycopg.Error):
                wake()
            self._thread.join()
            self._thread = None
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
            self._conn = None

    def _connect(self) -> psycopg.Connection[Any]:
        options = connection_options("mock-ft listener")
        conn: psycopg.Connection[Any] = psycopg.Connection.connect(self._url, **options)
        conn.execute(f"LISTEN {CHANNEL}")
        conn.execute(f"LISTEN {RULES_CHANNEL}")
        return conn

    def _run(self) -> None:
        while not self._stop.is_set():
            conn = self._conn
            try:
                if conn is None:
                    conn = self._conn = self._connect()
                    self._heard()  # what was committed while deaf
                    self._heard_rules()
                own = self._own_pid()
                for note in conn.notifies(timeout=_POLL):
                    if self._stop.is_set():
                        return
                    if note.pid == own:
                        continue
                    if note.channel == RULES_CHANNEL:
                        self._heard_rules()
                    else:
                        self._heard()
            except psycopg.Error as exc:
                log.warning("journal commit listener: %s; reconnecting", type(exc).__name__)
                if conn is not None:
                    with contextlib.suppress(psycopg.Error):
                        conn.close()
                self._conn = None
                self._stop.wait(_RETRY)
