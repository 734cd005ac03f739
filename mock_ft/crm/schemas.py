"""Pydantic models of the control API's answers (the edges; the journal uses dataclasses)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from mock_ft.journal import JournalEntry

__all__ = [
    "ErrorBody",
    "EventPublic",
    "EventsPublic",
    "Health",
    "ProblemPublic",
    "ResetResult",
    "Stats",
    "WaitTimeout",
]


class ProblemPublic(BaseModel):
    """One problem: where (JSONPath), a stable code, and a message for people."""

    path: str
    code: str
    message: str


class ErrorBody(BaseModel):
    """Every 4xx of mock-ft has this shape."""

    error: str
    message: str
    problems: list[ProblemPublic] = Field(default_factory=list)


class EventPublic(BaseModel):
    """A journaled ingest attempt."""

    id: int
    received_at: float = Field(description="Unix time (seconds) the attempt arrived.")
    transport: str
    method: str | None
    path: str | None
    event_type: str | None
    user_id: str | None
    verdict: str = Field(
        description="`accepted`, `rejected`, or `faulted` (a fault rule answered)."
    )
    status_code: int
    error_code: str | None
    payload: Any = Field(description="The body as JSON, or as text when it was not JSON.")
    headers: dict[str, str] = Field(description="Request headers, secrets masked as ***.")
    errors: list[ProblemPublic]
    warnings: list[ProblemPublic]
    event_timestamp: str | None
    latency_ms: float | None = Field(description="Receive time minus the event's timestamp.")
    idempotency_key: str | None
    duplicate_of: int | None

    @classmethod
    def of(cls, entry: JournalEntry) -> EventPublic:
        """Public view of a journal entry."""
        return cls(
            id=entry.id,
            received_at=entry.received_at,
            transport=entry.transport,
            method=entry.method,
            path=entry.path,
            event_type=entry.event_type,
            user_id=entry.user_id,
            verdict=entry.verdict,
            status_code=entry.status_code,
            error_code=entry.error_code,
            payload=entry.payload_json(),
            headers=entry.headers,
            errors=[ProblemPublic(**p.to_dict()) for p in entry.errors],
            warnings=[ProblemPublic(**p.to_dict()) for p in entry.warnings],
            event_timestamp=entry.event_timestamp,
            latency_ms=entry.latency_ms,
            idempotency_key=entry.idempotency_key,
            duplicate_of=entry.duplicate_of,
        )


class EventsPublic(BaseModel):
    """A page of journal entries. Pass `next_cursor` as `after_id` (or `before_id`) for the next."""

    data: list[EventPublic]
    count: int
    next_cursor: int | None


class WaitTimeout(BaseModel):
    """The 408 answer of /_mock/events/wait: what matched so far, and what arrived last."""

    error: str = "wait_timeout"
    message: str
    wanted: int
    seen: list[EventPublic]
    recent: list[EventPublic]


class Stats(BaseModel):
    """Counters over the whole journal since the last reset."""

    total: int
    by_verdict: dict[str, int]
    by_type: dict[str, int]
    errors: dict[str, int]
    warnings: dict[str, int]
    latency_ms: dict[str, float | None] = Field(
        description="p50/p99/max delivery latency over the newest 10,000 accepted events."
    )


class Health(BaseModel):
    """Liveness and where the journal is."""

    status: str
    version: str
    journal: str


class ResetResult(BaseModel):
    """What a reset removed."""

    removed: int
