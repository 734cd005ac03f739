"""What `mock-ft journal check` reports: a journal's backend, schema version, the migration steps
it has not taken, and whether it is sound. Reads only: it neither migrates nor takes the lock."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from mock_ft.errors import JournalError
from mock_ft.extras import require
from mock_ft.journal.migrations import LATEST, Step, applied, pending
from mock_ft.journal.opening import check_integrity
from mock_ft.journal_url import journal_scheme, redact, refusal

__all__ = ["Inspection", "inspect_journal"]


@dataclass(slots=True)
class Inspection:
    """A journal as `check` found it."""

    shown: str  # the journal, its password masked
    backend: str  # sqlite or postgresql
    version: int
    latest: int = LATEST
    pending: list[Step] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Up to date and sound."""
        return not self.pending and not self.problems


def inspect_journal(target: str) -> Inspection:
    """Inspect the journal at `target`; JournalError when it cannot be opened at all."""
    problem = refusal(target)
    if problem is not None:
        raise JournalError(problem)
    if target == ":memory:":
        msg = "a :memory: journal lives only inside its server; give a file or a URL to check"
        raise JournalError(msg)
    if journal_scheme(target) is not None:
        return _inspect_postgres(target)
    return _inspect_sqlite(target)


def _inspect_sqlite(path: str) -> Inspection:
    if not Path(path).is_file():
        msg = f"no journal at {path}; `mock-ft serve` or `mock-ft journal migrate` creates it"
        raise JournalError(msg)
    try:
        conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        msg = f"cannot open journal {path}: {exc}"
        raise JournalError(msg) from None
    try:
        found = Inspection(path, "sqlite", 0)
        try:
            check_integrity(conn, path)
            found.version = applied(conn, "sqlite")
            found.pending = pending(conn, "sqlite")
        except JournalError as exc:
            found.problems.append(exc.message)
        except sqlite3.Error as exc:
            found.problems.append(f"journal {path} cannot be read: {exc}")
        return found
    finally:
        conn.close()


def _inspect_postgres(url: str) -> Inspection:
    require("postgres", needed_by="a PostgreSQL journal (--journal postgresql://...)")
    import psycopg  # an extra: loaded only here

    from mock_ft.journal.pgconn import PgConnection, connect
    from mock_ft.journal.postgres import PgDatabase

    shown = redact(url)
    try:
        raw = connect(url)
    except psycopg.Error as exc:
        scrubbed = PgDatabase(url, shown).scrub(str(exc)).strip()
        msg = f"cannot open journal {shown}: {scrubbed}"
        raise JournalError(msg) from None
    with raw:
        conn = PgConnection(raw)
        found = Inspection(shown, "postgresql", 0)
        try:
            found.version = applied(conn, "postgresql")
            found.pending = pending(conn, "postgresql")
        except JournalError as exc:
            found.problems.append(exc.message)
        return found
