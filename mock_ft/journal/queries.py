"""The journal's read and housekeeping jobs, run through `Journal.run`/`run_sync` in a batch.

Kept apart from the group commit in `store.py`; `Journal` inherits them, so callers write
`journal.run_sync(Journal.query(...))` as before. The SQL is the dialect both backends take.
"""

from __future__ import annotations

from collections.abc import Callable

from mock_ft.journal.models import EventFilter, JournalEntry, NewEntry
from mock_ft.journal.tx import Tx


class Queries:
    """Job factories and jobs over the journal's tables."""

    @staticmethod
    def append(entry: NewEntry) -> Callable[[Tx], int]:
        """A job that writes `entry` and returns its id."""
        return lambda tx: tx.insert(entry)

    @staticmethod
    def query(
        flt: EventFilter, *, limit: int, newest_first: bool = False
    ) -> Callable[[Tx], list[JournalEntry]]:
        """A job returning up to `limit` entries matching `flt`, ordered by id."""
        where, params = flt.where()
        order = "DESC" if newest_first else "ASC"
        sql = f"SELECT * FROM events{where} ORDER BY id {order} LIMIT ?"  # noqa: S608 - fixed columns

        def job(tx: Tx) -> list[JournalEntry]:
            return [JournalEntry.from_row(r) for r in tx.conn.execute(sql, [*params, limit])]

        return job

    @staticmethod
    def get(entry_id: int) -> Callable[[Tx], JournalEntry | None]:
        """A job returning one entry by id, or None."""

        def job(tx: Tx) -> JournalEntry | None:
            row = tx.conn.execute("SELECT * FROM events WHERE id = ?", (entry_id,)).fetchone()
            return JournalEntry.from_row(row) if row else None

        return job

    @staticmethod
    def counters(tx: Tx) -> dict[str, dict[str, int]]:
        """Job: every counter, as {kind: {key: n}}."""
        out: dict[str, dict[str, int]] = {}
        for row in tx.conn.execute("SELECT kind, key, n FROM counters"):
            out.setdefault(row["kind"], {})[row["key"]] = row["n"]
        return out

    @staticmethod
    def recent_latencies(tx: Tx, limit: int = 10_000) -> list[float]:
        """Job: delivery latencies (ms) of the newest accepted events, sorted ascending."""
        rows = tx.conn.execute(
            "SELECT latency_ms FROM (SELECT latency_ms FROM events WHERE verdict = 'accepted' "
            "AND latency_ms IS NOT NULL ORDER BY id DESC LIMIT ?) AS e ORDER BY latency_ms",
            (limit,),
        )
        return [r[0] for r in rows]

    @staticmethod
    def delivery(broker_ref: str) -> Callable[[Tx], int | None]:
        """Job factory: the first accepted or rejected entry of a broker delivery, if any (in a
        batch that names the ref in its `Reads`, after any batch journaling it elsewhere)."""

        def job(tx: Tx) -> int | None:
            row = tx.conn.execute(
                "SELECT id FROM events WHERE broker_ref = ? AND verdict != 'faulted' "
                "ORDER BY id LIMIT 1",
                (broker_ref,),
            ).fetchone()
            return None if row is None else int(row[0])

        return job

    @staticmethod
    def offsets(tx: Tx) -> dict[str, int]:
        """Job: each Kafka source (`topic:partition@group`) and the next offset the journal
        expects."""
        rows = tx.conn.execute("SELECT source, next_offset FROM broker_offsets")
        return {row[0]: int(row[1]) for row in rows}

    @staticmethod
    def reset(tx: Tx) -> int:
        """Job: delete every entry, mark, player and counter; return how many entries went."""
        conn = tx.conn  # writes the batch's held-back events first, so they go too
        removed: int = conn.execute("DELETE FROM events").rowcount
        # Kafka offsets stay: the broker will not send the deleted events again.
        for table in ("marks", "users", "counters", "lookups", "callbacks", "reactions"):
            conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
        tx.forget_state()
        return removed
