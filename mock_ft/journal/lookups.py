"""Journal records of the mock's calls to the operator's Operator API (FT-style lookups)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from mock_ft.journal.models import where_clause
from mock_ft.journal.tx import Tx
from mock_ft.problems import Problem

__all__ = ["LookupEntry", "LookupFilter", "LookupRecord", "append_lookup", "query_lookups"]

_COLUMNS = (
    "event_id, user_id, endpoint, method, url, started_at, status_code, latency_ms, ok, "
    "problems, error, response"
)


@dataclass(slots=True)
class LookupRecord:
    """One call to the operator, as it went."""

    event_id: int | None
    user_id: str | None
    endpoint: str
    method: str
    url: str
    started_at: float
    status_code: int | None = None
    latency_ms: float | None = None
    problems: list[Problem] = field(default_factory=list)
    error: str | None = None
    response: str | None = None  # the body (first 4 KiB), as evidence

    @property
    def ok(self) -> bool:
        """Answered 200 in FT's shape; being slow alone does not fail a lookup."""
        return self.error is None and all(p.code == "slow" for p in self.problems)


@dataclass(slots=True, frozen=True)
class LookupEntry:
    """A journaled lookup, as read back."""

    id: int
    event_id: int | None
    user_id: str | None
    endpoint: str
    method: str
    url: str
    started_at: float
    status_code: int | None
    latency_ms: float | None
    ok: bool
    problems: tuple[Problem, ...]
    error: str | None
    response: str | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> LookupEntry:
        """Decode a row of the lookups table."""
        return cls(
            id=row["id"],
            event_id=row["event_id"],
            user_id=row["user_id"],
            endpoint=row["endpoint"],
            method=row["method"],
            url=row["url"],
            started_at=row["started_at"],
            status_code=row["status_code"],
            latency_ms=row["latency_ms"],
            ok=bool(row["ok"]),
            problems=tuple(Problem.from_dict(p) for p in json.loads(row["problems"])),
            error=row["error"],
            response=row["response"],
        )


@dataclass(slots=True, frozen=True)
class LookupFilter:
    """Which lookups a query wants; None means any."""

    event_id: int | None = None
    user_id: str | None = None
    endpoint: str | None = None
    ok: bool | None = None
    after_id: int | None = None

    def where(self) -> tuple[str, list[Any]]:
        """SQL WHERE clause and its parameters."""
        return where_clause(
            (
                ("event_id", self.event_id, "="),
                ("user_id", self.user_id, "="),
                ("endpoint", self.endpoint, "="),
                ("ok", None if self.ok is None else int(self.ok), "="),
                ("id", self.after_id, ">"),
            )
        )


def append_lookup(record: LookupRecord) -> Callable[[Tx], int]:
    """A journal job that writes `record` and returns its id."""

    def job(tx: Tx) -> int:
        problems = orjson.dumps([p.to_dict() for p in record.problems]).decode()
        cursor = tx.conn.execute(
            f"INSERT INTO lookups ({_COLUMNS}) "  # noqa: S608 - fixed columns
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                record.event_id,
                record.user_id,
                record.endpoint,
                record.method,
                record.url,
                record.started_at,
                record.status_code,
                record.latency_ms,
                int(record.ok),
                problems,
                record.error,
                record.response,
            ),
        )
        tx.bumps["lookup", "ok" if record.ok else "failed"] += 1
        return int(cursor.fetchone()[0])

    return job


def query_lookups(flt: LookupFilter, *, limit: int) -> Callable[[Tx], list[LookupEntry]]:
    """A journal job returning up to `limit` lookups matching `flt`, oldest first."""
    where, params = flt.where()
    sql = f"SELECT * FROM lookups{where} ORDER BY id LIMIT ?"  # noqa: S608 - fixed columns

    def job(tx: Tx) -> list[LookupEntry]:
        return [LookupEntry.from_row(r) for r in tx.conn.execute(sql, [*params, limit])]

    return job
