"""What a transport hands the pipeline (`Attempt`) and what it answers (`Outcome`).

Also the masking of headers that may carry a secret, so none reaches the journal: REST and both
brokers mask before an attempt is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from mock_ft.problems import Problem

__all__ = ["MASK", "Attempt", "Outcome", "is_secret_header", "mask_headers"]

_PLAIN_ACCEPTED = b'{"status": "accepted", "event_id": %d, "duplicate_of": null, "warnings": []}'
_SECRET_WORDS = ("key", "token", "secret", "password", "auth", "cookie", "signature")
MASK = "***"


def is_secret_header(name: str, secret_header: str) -> bool:
    """True for a header that may carry a secret: the API key's, or one named like a secret."""
    lowered = name.lower()
    return lowered == secret_header.lower() or any(w in lowered for w in _SECRET_WORDS)


def mask_headers(headers: dict[str, str], secret_header: str) -> dict[str, str]:
    """Headers fit for the journal: any that may carry a secret is masked."""
    return {
        name: MASK if is_secret_header(name, secret_header) else value
        for name, value in headers.items()
    }


@dataclass(slots=True)
class Attempt:
    """One delivery attempt as a transport received it."""

    transport: str
    received_at: float
    body: bytes
    event_type: str | None
    headers: dict[str, str] = field(default_factory=dict)
    method: str | None = None
    path: str | None = None
    fault: dict[str, Any] | None = None  # the fault rule acting on this attempt, for the journal
    broker_ref: str | None = None  # a broker delivery's identity, to know its redeliveries
    redelivered: bool = False  # the broker says it delivered this before (RabbitMQ)
    offset: tuple[str, int] | None = None  # Kafka: (topic:partition@group, offset) of this record


@dataclass(slots=True)
class Outcome:
    """What the pipeline decided and journaled."""

    status_code: int
    event_id: int
    error_code: str | None = None
    message: str = ""
    problems: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()
    duplicate_of: int | None = None
    retry_after: int | None = None  # set by a fault rule
    # A broker delivery the journal held already (journaled before a crash, or by another
    # instance that had the partition or the message first): nothing was written.
    already: bool = False

    @property
    def accepted(self) -> bool:
        """True when the event was accepted (answer 200 / ack)."""
        return self.error_code is None

    def body_bytes(self) -> bytes:
        """`body()` as JSON; the common plain "accepted" answer is formatted, not serialised."""
        if self.error_code is None and not self.warnings and self.duplicate_of is None:
            return _PLAIN_ACCEPTED % self.event_id
        return orjson.dumps(self.body())

    def body(self) -> dict[str, Any]:
        """The documented JSON answer (`Accepted` or `Error` in the contract)."""
        if self.accepted:
            return {
                "status": "accepted",
                "event_id": self.event_id,
                "duplicate_of": self.duplicate_of,
                "warnings": [w.to_dict() for w in self.warnings],
            }
        return {
            "error": self.error_code,
            "message": self.message,
            "event_id": self.event_id,
            "problems": [p.to_dict() for p in self.problems],
        }
