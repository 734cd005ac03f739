"""Figures over time for the dashboard's charts, in SQL over a bounded slice of the journal.

Every query reads at most the newest `max_rows` attempts (and lookups), so a chart costs the same
on a journal of a thousand events as on one of ten million; the answer says `truncated` when the
window held more. Percentiles are nearest-rank, as /_mock/stats computes them, so the two agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mock_ft.journal.tx import Tx

__all__ = ["BUCKET_STEPS", "MAX_BUCKETS", "Series", "bucket_seconds", "lookup_latency", "series"]

MAX_BUCKETS = 120
BUCKET_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)
QUANTILES = (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))


def bucket_seconds(span: float) -> int:
    """The smallest round bucket that cuts `span` seconds into at most MAX_BUCKETS buckets."""
    return next((s for s in BUCKET_STEPS if span / s <= MAX_BUCKETS), BUCKET_STEPS[-1])


@dataclass(slots=True)
class Series:
    """What the charts draw: one window of the journal, cut into equal buckets."""

    since: float
    until: float
    bucket_seconds: int
    truncated: bool = False
    buckets: list[dict[str, Any]] = field(default_factory=list)
    latency_ms: dict[str, float | None] = field(default_factory=dict)  # over the whole window
    attempts_per_event: dict[str, int] = field(default_factory=dict)
    lookups: list[dict[str, Any]] = field(default_factory=list)


def _rank(q: float) -> str:
    # Nearest rank, ceil(q * n) clamped to [1, n], without SQLite's optional math functions.
    x = f"({q!r} * n)"
    return f"MIN(n, MAX(1, CAST({x} AS INTEGER) + ({x} > CAST({x} AS INTEGER))))"


_PICKS = ", ".join(f"MAX(CASE WHEN rn = {_rank(q)} THEN latency_ms END)" for _, q in QUANTILES)


def series(now: float, window: float, max_rows: int = 50_000) -> Callable[[Tx], Series]:
    """A journal job: the last `window` seconds up to `now`, starting at the oldest attempt in it
    (so a short run fills the chart), over at most the newest `max_rows` attempts."""

    def job(tx: Tx) -> Series:
        conn = tx.conn
        top = conn.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0]
        floor_id = max(0, top - max_rows)
        first = conn.execute(
            "SELECT MIN(received_at), COUNT(*) FROM events WHERE id > ? AND received_at >= ?",
            (floor_id, now - window),
        ).fetchone()
        if not first[1]:
            return Series(since=now - window, until=now, bucket_seconds=bucket_seconds(window))
        truncated = floor_id > 0 and bool(
            conn.execute(
                "SELECT 1 FROM events WHERE id = ? AND received_at >= ?", (floor_id, now - window)
            ).fetchone()
        )
        size = bucket_seconds(max(1.0, now - first[0]))
        since = first[0] // size * size  # buckets on round times of day
        scope = "FROM events WHERE id > ? AND received_at >= ?"
        args = (floor_id, since)
        found = Series(since=since, until=now, bucket_seconds=size, truncated=truncated)
        found.buckets = _buckets(tx, scope, args, since, size)
        found.latency_ms = _window_latency(tx, scope, args)
        found.attempts_per_event = _attempts(tx, scope, args)
        return found

    return job


def _buckets(
    tx: Tx, scope: str, args: tuple[Any, ...], since: float, size: int
) -> list[dict[str, Any]]:
    bucket = f"CAST((received_at - {since!r}) / {size} AS INTEGER)"
    counts = tx.conn.execute(
        f"SELECT {bucket} AS b, SUM(verdict = 'accepted'), SUM(verdict = 'rejected'), "
        f"SUM(verdict = 'faulted') {scope} GROUP BY b ORDER BY b",
        args,
    ).fetchall()
    latency = tx.conn.execute(
        f"SELECT b, {_PICKS} FROM (SELECT {bucket} AS b, latency_ms, "  # noqa: S608 - numbers only
        f"ROW_NUMBER() OVER (PARTITION BY {bucket} ORDER BY latency_ms) AS rn, "
        f"COUNT(*) OVER (PARTITION BY {bucket}) AS n {scope} "
        "AND verdict = 'accepted' AND latency_ms IS NOT NULL) GROUP BY b",
        args,
    ).fetchall()
    picks = {row[0]: row[1:] for row in latency}
    out = []
    for b, accepted, rejected, faulted in counts:
        row = {"start": since + b * size, "accepted": accepted, "rejected": rejected}
        row["faulted"] = faulted
        for (name, _), value in zip(QUANTILES, picks.get(b, (None,) * 3), strict=True):
            row[name] = value
        out.append(row)
    return out


def _window_latency(tx: Tx, scope: str, args: tuple[Any, ...]) -> dict[str, float | None]:
    row = tx.conn.execute(
        f"SELECT {_PICKS}, MAX(latency_ms) FROM (SELECT latency_ms, "  # noqa: S608 - fixed text
        "ROW_NUMBER() OVER (ORDER BY latency_ms) AS rn, COUNT(*) OVER () AS n "
        f"{scope} AND verdict = 'accepted' AND latency_ms IS NOT NULL)",
        args,
    ).fetchone()
    return {"p50": row[0], "p95": row[1], "p99": row[2], "max": row[3]}


def _attempts(tx: Tx, scope: str, args: tuple[Any, ...]) -> dict[str, int]:
    # As the delivery report counts them: attempts grouped by FT's idempotency key, rejected
    # attempts (invalid, not part of the delivery picture) left out.
    rows = tx.conn.execute(
        f"SELECT n, COUNT(*) FROM (SELECT COUNT(*) AS n {scope} "  # noqa: S608 - fixed text
        "AND idempotency_key IS NOT NULL AND verdict != 'rejected' GROUP BY idempotency_key) "
        "GROUP BY n ORDER BY n",
        args,
    ).fetchall()
    return {str(n): count for n, count in rows}


def lookup_latency(max_rows: int = 50_000) -> Callable[[Tx], list[dict[str, Any]]]:
    """A journal job: per Operator API endpoint, calls, failures and latency percentiles of the
    newest `max_rows` lookups."""

    def job(tx: Tx) -> list[dict[str, Any]]:
        rows = tx.conn.execute(
            f"SELECT endpoint, COUNT(*), SUM(1 - ok), {_PICKS}, MAX(latency_ms) FROM ("  # noqa: S608 - fixed text
            "SELECT endpoint, ok, latency_ms, "
            "ROW_NUMBER() OVER (PARTITION BY endpoint ORDER BY latency_ms IS NULL, latency_ms) "
            "AS rn, COUNT(latency_ms) OVER (PARTITION BY endpoint) AS n "
            "FROM (SELECT * FROM lookups ORDER BY id DESC LIMIT ?)) GROUP BY endpoint "
            "ORDER BY endpoint",
            (max_rows,),
        ).fetchall()
        return [
            {"endpoint": r[0], "count": r[1], "failed": r[2], "p50": r[3], "p95": r[4]}
            | {"p99": r[5], "max": r[6]}
            for r in rows
        ]

    return job
