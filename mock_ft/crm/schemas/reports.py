"""The control API's reports: health, delivery, stats, posted runs and the dashboard's figures."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from mock_ft.journal.runs import RunEntry

__all__ = [
    "MAX_ROWS",
    "BrokerHealth",
    "Charts",
    "DeliveryPublic",
    "Health",
    "ResetResult",
    "RetryAfterPublic",
    "RunIn",
    "RunPublic",
    "RunsPublic",
    "SeriesPublic",
    "Stats",
]

MAX_ROWS = 50_000  # attempts (and lookups) a figures call reads at most: bounds time and memory


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
        description="Idempotency keys per problem kind: five, or as many as `examples` asks."
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
    partitions: list[str] = Field(
        default_factory=list,
        description="Kafka: the partitions (`topic:partition`) assigned to this instance in its "
        "consumer group; several instances of one group split them. Empty for RabbitMQ.",
    )


class InstancePublic(BaseModel):
    """A mock-ft instance writing the journal, seen by its heartbeat."""

    id: str
    started_at: float = Field(description="Unix time the instance started.")
    seen_at: float = Field(description="Unix time of its last heartbeat.")
    lease_until: float = Field(
        description="Unix time after which it is no longer seen unless it beats again."
    )


class ClaimsPublic(BaseModel):
    """This instance's claims on lookups and callback actions (a shared PostgreSQL journal)."""

    held: int = Field(description="Claims queued or running on this instance now.")
    sweeps: int = Field(description="Sweeps for expired claims done since it started.")
    taken: int = Field(description="Claims its sweeps took over (their claimer died or stalled).")


class Health(BaseModel):
    """Liveness, where the journal is, the broker consumers, and the instances on the journal."""

    status: str
    version: str
    journal: str
    brokers: list[BrokerHealth] = Field(default_factory=list)
    instance: str | None = Field(None, description="This instance's id.")
    instances: list[InstancePublic] = Field(
        default_factory=list,
        description="The instances writing the journal now (this one included), oldest first; "
        "several share one PostgreSQL journal.",
    )
    claims: ClaimsPublic | None = Field(
        None, description="On a PostgreSQL journal: this instance's claims; null on SQLite."
    )


class ResetResult(BaseModel):
    """What a reset removed."""

    removed: int


class RunIn(BaseModel):
    """A run report, as `mock-ft verify` or `mock-ft replay` wrote it (report.json, replay.json)."""

    kind: Literal["verify", "replay"]
    document: dict[str, Any] = Field(description="The report's JSON; `passed` says the verdict.")


class RunPublic(BaseModel):
    id: int
    kind: str
    received_at: float
    passed: bool
    document: dict[str, Any]

    @classmethod
    def of(cls, entry: RunEntry) -> RunPublic:
        return cls(
            id=entry.id,
            kind=entry.kind,
            received_at=entry.received_at,
            passed=entry.passed,
            document=entry.document,
        )


class RunsPublic(BaseModel):
    data: list[RunPublic]


class Charts(BaseModel):
    """Figures for the dashboard's charts."""

    latency: list[dict[str, Any]] = Field(description="Delivery latency per bucket (newest 10k).")
    rate: list[dict[str, Any]] = Field(description="Attempts per second over the last `window` s.")
    window: int


class SeriesPublic(BaseModel):
    """One window of the journal, cut into equal time buckets."""

    since: float = Field(description="Start of the first bucket (Unix time).")
    until: float = Field(description="Now (Unix time).")
    bucket_seconds: int
    truncated: bool = Field(description=f"The window held more than the newest {MAX_ROWS:,} "
                            "attempts; older ones are left out.")  # fmt: skip
    buckets: list[dict[str, Any]] = Field(
        description="Per bucket: start, accepted, rejected, faulted (attempts), and p50, p95, "
        "p99 of accepted events' delivery latency (ms; null when none)."
    )
    latency_ms: dict[str, float | None] = Field(description="p50, p95, p99, max over the window.")
    attempts_per_event: dict[str, int] = Field(
        description="Events (by idempotency key) per number of attempts they took."
    )
    lookups: list[dict[str, Any]] = Field(
        description="Per Operator API endpoint: count, failed, p50, p95, p99, max (ms)."
    )
    lookup_budget_ms: float
    delivery_target_ms: float
