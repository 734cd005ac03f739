"""The control API's answers about journaled attempts and what they caused (lookups, callbacks)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from mock_ft.journal import JournalEntry
from mock_ft.journal.callbacks import CallbackEntry
from mock_ft.journal.lookups import LookupEntry

__all__ = [
    "AttemptPublic",
    "CallbackPublic",
    "CallbacksPublic",
    "ErrorBody",
    "EventDetail",
    "EventPublic",
    "EventsPublic",
    "Idle",
    "LookupPublic",
    "LookupsPublic",
    "ProblemPublic",
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
    fault: dict[str, Any] | None = Field(
        None,
        description="The fault rule that acted on this attempt: its `rule` id, `action`, and the "
        "`status`, `retry_after` or `delay_ms` it applied. `status_code` 0: nothing was answered.",
    )

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
            fault=entry.fault,
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


class Idle(BaseModel):
    """The answer of /_mock/idle: every reaction to what was journaled so far is done."""

    idle: bool = True


class LookupPublic(BaseModel):
    """One call the mock made to the operator's Operator API, as FT would."""

    id: int
    event_id: int | None = Field(description="The journaled event that caused it.")
    user_id: str | None
    endpoint: str = Field(description="userdetails, userconsents or userblocks.")
    method: str
    url: str
    started_at: float
    status_code: int | None
    latency_ms: float | None
    ok: bool = Field(description="200 in FT's exact shape (a slow answer alone is still ok).")
    problems: list[ProblemPublic] = Field(description="Status, content type, shape, `slow`.")
    error: str | None = Field(description="Why no answer came (unreachable, timeout, token).")
    response: str | None = Field(description="The answer's first 4 KiB, as evidence.")

    @classmethod
    def of(cls, entry: LookupEntry) -> LookupPublic:
        """Public view of a journaled lookup."""
        data: dict[str, Any] = {
            name: getattr(entry, name) for name in cls.model_fields if name != "problems"
        }
        return cls(**data, problems=[ProblemPublic(**p.to_dict()) for p in entry.problems])


class LookupsPublic(BaseModel):
    """A page of lookups; pass `next_cursor` as `after_id` for the next."""

    data: list[LookupPublic]
    count: int
    next_cursor: int | None


class AttemptPublic(BaseModel):
    started_at: float
    status_code: int | None
    latency_ms: float | None
    error: str | None


class CallbackPublic(BaseModel):
    """One Callback Action the mock fired, with every attempt."""

    id: int
    rule_id: str
    event_id: int | None = Field(description="The journaled event that triggered it.")
    user_id: str | None
    method: str
    url: str
    request_headers: dict[str, str] = Field(description="As sent; x-api-key masked.")
    request_body: Any = Field(description="The rendered JSON body (null for a GET).")
    started_at: float
    latency_ms: float | None = Field(
        description="First request to final answer, back-off included."
    )
    status_code: int | None = Field(description="Of the last attempt.")
    ok: bool = Field(description="The receiver answered 2xx in the end.")
    attempts: list[AttemptPublic]
    error: str | None = Field(description="Why the last attempt failed.")
    response: str | None = Field(description="The last answer's first 4 KiB.")
    notes: list[str] = Field(description="Placeholders that had no value when rendered.")

    @classmethod
    def of(cls, entry: CallbackEntry) -> CallbackPublic:
        """Public view of a journaled callback."""
        data = {name: getattr(entry, name) for name in cls.model_fields}
        data["request_body"] = entry.request_json()
        return cls.model_validate(data)


class CallbacksPublic(BaseModel):
    """A page of callbacks; pass `next_cursor` as `after_id` for the next."""

    data: list[CallbackPublic]
    count: int
    next_cursor: int | None


class EventDetail(EventPublic):
    """One journaled attempt, with the lookups and Callback Actions it caused."""

    lookups: list[LookupPublic]
    callbacks: list[CallbackPublic]
