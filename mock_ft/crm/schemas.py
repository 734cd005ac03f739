"""Pydantic models of the control API's answers (the edges; the journal uses dataclasses)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from mock_ft.journal import JournalEntry

__all__ = [
    "DeliveryPublic",
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


class RetryAfterPublic(BaseModel):
    """How the publisher treated `Retry-After`."""

    asked: int = Field(description="Retries that followed an answer with Retry-After.")
    honoured: int = Field(description="... that waited at least as long as asked.")
    ignored: int = Field(description="... that came sooner.")


class DeliveryPublic(BaseModel):
    """What the publisher did with FT's answers: lost, duplicated, retried, how fast.

    Attempts are grouped into events by FT's idempotency key (`idempotency_key` of each event).
    """

    ok: bool = Field(description="True when nothing below is a problem.")
    problems: list[str] = Field(description="What the publisher must fix, one sentence each.")
    attempts: int
    rejected_attempts: int = Field(description="Attempts refused for auth or validation.")
    faulted_attempts: int = Field(description="Attempts a fault rule acted on.")
    events: int = Field(description="Distinct events (idempotency keys) attempted.")
    delivered: int = Field(description="Events with an accepted attempt.")
    expected: int | None = Field(description="Events the run should have published, if given.")
    missing: int | None = Field(description="`expected` minus `delivered`, if given.")
    lost: int = Field(description="Events refused by a fault and never delivered again.")
    duplicated: int = Field(
        description="Events accepted again although FT's 200 reached the publisher."
    )
    redelivered_after_lost_answer: int = Field(
        description="Re-deliveries after an answer the publisher never got (a `drop_answer` "
        "fault, or a client that hung up before the answer): what a correct publisher does."
    )
    client_left_before_answer: int = Field(
        description="Accepted attempts whose client hung up (e.g. its timeout fired) before "
        "the 200 could be sent."
    )
    attempts_per_event: dict[str, int] = Field(description="Attempts: how many events took them.")
    max_attempts: int
    retries: int
    retry_gap_ms: dict[str, float | None] = Field(
        description="min/p50/p99 wait between a failed attempt's answer and the next attempt."
    )
    retry_after: RetryAfterPublic
    hammering: int = Field(description="Retries sooner than `hammer_ms` without Retry-After.")
    hammer_ms: float
    latency_ms: dict[str, float | None] = Field(
        description="p50/p99/max delivery latency (receive time minus timestamp) of events."
    )
    time_to_deliver_ms: dict[str, float | None] = Field(
        description="p50/p99/max from an event's first attempt to its first accepted one."
    )
    truncated: bool = Field(description="True when the window held more attempts than read.")
    examples: dict[str, list[str]] = Field(
        description="Up to five idempotency keys per problem kind."
    )


class Stats(BaseModel):
    """Counters over the whole journal since the last reset."""

    total: int
    by_verdict: dict[str, int]
    by_type: dict[str, int]
    by_transport: dict[str, int] = Field(description="Attempts by rest, rabbitmq and kafka.")
    errors: dict[str, int]
    warnings: dict[str, int]
    latency_ms: dict[str, float | None] = Field(
        description="p50/p99/max delivery latency over the newest 10,000 accepted events."
    )
    delivery: DeliveryPublic = Field(
        description="The delivery report over the newest 10,000 attempts (GET /_mock/delivery "
        "for a chosen window and an expected count)."
    )


class BrokerHealth(BaseModel):
    """One broker consumer: where it consumes from (no credentials) and how it is doing."""

    transport: Literal["rabbitmq", "kafka"]
    target: str
    state: Literal["starting", "connected", "reconnecting", "paused", "stopped"]
    error: str | None = Field(description="Why it is not connected, while it retries.")
    consumed: int = Field(description="Messages taken from the broker since start.")
    redeliveries_skipped: int = Field(
        description="Redeliveries of messages the journal already held (acked, not journaled)."
    )
    batches: int = Field(
        0,
        description="Batches journaled, one group commit each (RabbitMQ: the deliveries that had "
        "arrived, acked at once; Kafka: one partition's share of a fetch); consumed / batches is "
        "the events per commit.",
    )


class Health(BaseModel):
    """Liveness, where the journal is, and the broker consumers."""

    status: str
    version: str
    journal: str
    brokers: list[BrokerHealth] = Field(default_factory=list)


class ResetResult(BaseModel):
    """What a reset removed."""

    removed: int
