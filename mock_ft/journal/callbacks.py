"""Journal records of the Callback Actions the mock fired, each linked to its triggering event."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from mock_ft.journal.models import where_clause
from mock_ft.journal.tx import Tx

__all__ = [
    "CallAttempt",
    "CallbackEntry",
    "CallbackFilter",
    "CallbackRecord",
    "append_callback",
    "query_callbacks",
]

_COLUMNS = (
    "rule_id, event_id, user_id, method, url, request_headers, request_body, started_at, "
    "latency_ms, status_code, ok, attempts, error, response, notes"
)
_MARKS = ", ".join("?" * 15)


@dataclass(slots=True)
class CallAttempt:
    """One HTTP attempt of a callback."""

    started_at: float
    status_code: int | None = None
    latency_ms: float | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the journal."""
        return {
            "started_at": self.started_at,
            "status_code": self.status_code,
            "latency_ms": self.latency_ms,
            "error": self.error,
        }


@dataclass(slots=True)
class CallbackRecord:
    """A fired callback, as it went: the request as rendered (secrets masked) and every attempt."""

    rule_id: str
    event_id: int | None
    user_id: str | None
    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str | None
    started_at: float
    attempts: list[CallAttempt] = field(default_factory=list)
    latency_ms: float | None = None
    response: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def status_code(self) -> int | None:
        """The last attempt's status, if it got one."""
        return self.attempts[-1].status_code if self.attempts else None

    @property
    def error(self) -> str | None:
        """Why the last attempt failed, if it did."""
        return self.attempts[-1].error if self.attempts else "never sent"

    @property
    def ok(self) -> bool:
        """The receiver answered 2xx in the end."""
        code = self.status_code
        return code is not None and 200 <= code < 300


@dataclass(slots=True, frozen=True)
class CallbackEntry:
    """A journaled callback, as read back."""

    id: int
    rule_id: str
    event_id: int | None
    user_id: str | None
    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str | None
    started_at: float
    latency_ms: float | None
    status_code: int | None
    ok: bool
    attempts: tuple[dict[str, Any], ...]
    error: str | None
    response: str | None
    notes: tuple[str, ...]

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> CallbackEntry:
        """Decode a row of the callbacks table."""
        data = dict(row)
        data["request_headers"] = json.loads(row["request_headers"])
        data["attempts"] = tuple(json.loads(row["attempts"]))
        data["notes"] = tuple(json.loads(row["notes"]))
        data["ok"] = bool(row["ok"])
        return cls(**data)

    def request_json(self) -> Any:
        """The rendered body decoded (None for a GET)."""
        return None if self.request_body is None else json.loads(self.request_body)


@dataclass(slots=True, frozen=True)
class CallbackFilter:
    """Which callbacks a query wants; None means any."""

    rule_id: str | None = None
    event_id: int | None = None
    user_id: str | None = None
    ok: bool | None = None
    after_id: int | None = None

    def where(self) -> tuple[str, list[Any]]:
        """SQL WHERE clause and its parameters."""
        return where_clause(
            (
                ("rule_id", self.rule_id, "="),
                ("event_id", self.event_id, "="),
                ("user_id", self.user_id, "="),
                ("ok", None if self.ok is None else int(self.ok), "="),
                ("id", self.after_id, ">"),
            )
        )


def append_callback(record: CallbackRecord) -> Callable[[Tx], int]:
    """A journal job that writes `record` and returns its id."""

    def job(tx: Tx) -> int:
        cursor = tx.conn.execute(
            f"INSERT INTO callbacks ({_COLUMNS}) VALUES ({_MARKS}) RETURNING id",  # noqa: S608 - fixed columns
            (
                record.rule_id,
                record.event_id,
                record.user_id,
                record.method,
                record.url,
                orjson.dumps(record.request_headers).decode(),
                record.request_body,
                record.started_at,
                record.latency_ms,
                record.status_code,
                int(record.ok),
                orjson.dumps([a.to_dict() for a in record.attempts]).decode(),
                None if record.ok else record.error,
                record.response,
                orjson.dumps(record.notes).decode(),
            ),
        )
        tx.bumps["callback", "ok" if record.ok else "failed"] += 1
        return int(cursor.fetchone()[0])

    return job


def query_callbacks(flt: CallbackFilter, *, limit: int) -> Callable[[Tx], list[CallbackEntry]]:
    """A journal job returning up to `limit` callbacks matching `flt`, oldest first."""
    where, params = flt.where()
    sql = f"SELECT * FROM callbacks{where} ORDER BY id LIMIT ?"  # noqa: S608 - fixed columns

    def job(tx: Tx) -> list[CallbackEntry]:
        return [CallbackEntry.from_row(r) for r in tx.conn.execute(sql, [*params, limit])]

    return job
