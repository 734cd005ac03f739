"""Plain dataclasses for what goes into and comes out of the journal."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from mock_ft.journal.jsontext import viewable
from mock_ft.problems import Problem

__all__ = ["EventFilter", "JournalEntry", "NewEntry", "where_clause"]


def where_clause(conditions: tuple[tuple[str, Any, str], ...]) -> tuple[str, list[Any]]:
    """` WHERE a = ? AND b > ?` and its parameters, from (column, value, operator) triples;
    a value of None leaves its condition out (None means "any")."""
    clauses = [f"{column} {op} ?" for column, value, op in conditions if value is not None]
    params = [value for _, value, _ in conditions if value is not None]
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


@dataclass(slots=True)
class NewEntry:
    """An attempt about to be journaled; stream checks may add warnings and a duplicate link."""

    # What the transport received, in the order the pipeline passes it (positionally: keywords
    # cost a dict per event); then what validation and the stream checks find.
    transport: str
    received_at: float
    verdict: str
    status_code: int
    method: str | None = None
    path: str | None = None
    event_type: str | None = None
    user_id: str | None = None
    payload: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    fault: dict[str, Any] | None = None  # the fault rule that acted on this attempt
    broker_ref: str | None = None  # a broker delivery's identity (see Pipeline, redeliveries)
    offset: tuple[str, int] | None = None  # Kafka (topic/partition, offset): kept as consumed
    error_code: str | None = None
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    event_timestamp: str | None = None
    latency_ms: float | None = None
    idempotency_key: str | None = None
    duplicate_of: int | None = None
    event_epoch: float | None = None  # the event's timestamp as Unix time; for checks, not stored


@dataclass(slots=True, frozen=True)
class JournalEntry:
    """One journaled attempt, as read back."""

    id: int
    received_at: float
    transport: str
    method: str | None
    path: str | None
    event_type: str | None
    user_id: str | None
    verdict: str
    status_code: int
    error_code: str | None
    payload: str | None
    headers: dict[str, str]
    errors: tuple[Problem, ...]
    warnings: tuple[Problem, ...]
    event_timestamp: str | None
    latency_ms: float | None
    idempotency_key: str | None
    duplicate_of: int | None
    fault: dict[str, Any] | None = None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> JournalEntry:
        """Decode a row of the events table."""
        return cls(
            id=row["id"],
            received_at=row["received_at"],
            transport=row["transport"],
            method=row["method"],
            path=row["path"],
            event_type=row["event_type"],
            user_id=row["user_id"],
            verdict=row["verdict"],
            status_code=row["status_code"],
            error_code=row["error_code"],
            payload=row["payload"],
            headers=json.loads(row["headers"]),
            errors=tuple(Problem.from_dict(p) for p in json.loads(row["errors"])),
            warnings=tuple(Problem.from_dict(p) for p in json.loads(row["warnings"])),
            event_timestamp=row["event_timestamp"],
            latency_ms=row["latency_ms"],
            idempotency_key=row["idempotency_key"],
            duplicate_of=row["duplicate_of"],
            fault=json.loads(row["fault"]) if row["fault"] else None,
        )

    def payload_json(self) -> Any:
        """The payload decoded, or the raw text when no view could show it decoded (not JSON,
        too deep, lone surrogates)."""
        if self.payload is None:
            return None
        return viewable(self.payload)


@dataclass(slots=True, frozen=True)
class EventFilter:
    """Which journal entries a query wants; None means any."""

    event_type: str | None = None
    user_id: str | None = None
    verdict: str | None = None
    transport: str | None = None
    since: float | None = None
    until: float | None = None
    after_id: int | None = None
    before_id: int | None = None

    def where(self) -> tuple[str, list[Any]]:
        """SQL WHERE clause and its parameters."""
        return where_clause(
            (
                ("event_type", self.event_type, "="),
                ("user_id", self.user_id, "="),
                ("verdict", self.verdict, "="),
                ("transport", self.transport, "="),
                ("received_at", self.since, ">="),
                ("received_at", self.until, "<"),
                ("id", self.after_id, ">"),
                ("id", self.before_id, "<"),
            )
        )
