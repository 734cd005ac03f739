"""Journal records of verification and scenario runs, and the figures the dashboard charts."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mock_ft.journal.tx import Tx

__all__ = [
    "LATENCY_EDGES_MS",
    "RunEntry",
    "append_run",
    "event_rate",
    "latency_histogram",
    "query_runs",
]

# Upper edges (ms) of the delivery-latency histogram; FT's target is 1,000 ms.
LATENCY_EDGES_MS = (5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000)


@dataclass(slots=True, frozen=True)
class RunEntry:
    """A posted run report."""

    id: int
    kind: str
    received_at: float
    passed: bool
    document: dict[str, Any]


def append_run(
    kind: str, received_at: float, passed: bool, document: dict[str, Any]
) -> Callable[[Tx], int]:
    """A journal job that stores a run report and returns its id."""

    def job(tx: Tx) -> int:
        cursor = tx.conn.execute(
            "INSERT INTO runs (kind, received_at, passed, document) VALUES (?, ?, ?, ?) "
            "RETURNING id",
            (kind, received_at, int(passed), json.dumps(document)),  # big ints too
        )
        return int(cursor.fetchone()[0])

    return job


def query_runs(kind: str | None, limit: int) -> Callable[[Tx], list[RunEntry]]:
    """A journal job: the newest `limit` runs (of `kind`), newest first."""

    def job(tx: Tx) -> list[RunEntry]:
        rows = tx.conn.execute(
            "SELECT * FROM runs WHERE ? IS NULL OR kind = ? ORDER BY id DESC LIMIT ?",
            (kind, kind, limit),
        )
        return [
            RunEntry(
                r["id"], r["kind"], r["received_at"], bool(r["passed"]), json.loads(r["document"])
            )
            for r in rows
        ]

    return job


def latency_histogram(tx: Tx) -> list[dict[str, Any]]:
    """Job: delivery latencies of the newest 10,000 accepted events, counted per bucket."""
    counts = [0] * (len(LATENCY_EDGES_MS) + 1)
    for row in tx.conn.execute(
        "SELECT latency_ms FROM events WHERE verdict = 'accepted' AND latency_ms IS NOT NULL "
        "ORDER BY id DESC LIMIT 10000"
    ):
        value = row[0]
        index = next(
            (i for i, edge in enumerate(LATENCY_EDGES_MS) if value <= edge), len(LATENCY_EDGES_MS)
        )
        counts[index] += 1
    labels = [f"≤{edge} ms" for edge in LATENCY_EDGES_MS] + [f">{LATENCY_EDGES_MS[-1]} ms"]
    return [{"label": label, "count": n} for label, n in zip(labels, counts, strict=True)]


def event_rate(since: float) -> Callable[[Tx], list[dict[str, Any]]]:
    """Job factory: attempts per second since `since` (Unix time), seconds without any left out."""

    def job(tx: Tx) -> list[dict[str, Any]]:
        rows = tx.conn.execute(
            "SELECT CAST(FLOOR(received_at) AS BIGINT) AS second, COUNT(*) FROM events "
            "WHERE received_at >= ? GROUP BY second ORDER BY second",
            (since,),
        )
        return [{"second": int(r[0]), "count": int(r[1])} for r in rows]

    return job
