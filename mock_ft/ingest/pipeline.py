"""The one ingest pipeline: decode, validate, check and journal. Transports only decode and answer.

REST, RabbitMQ and Kafka all hand an `Attempt` to `Pipeline.ingest`; the `Outcome` says what to
answer (HTTP status, or ack/reject). An accepted outcome is returned only after its journal commit.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Coroutine
from typing import Any

import orjson

from mock_ft.contracts import IntegrationContract
from mock_ft.ingest.attempts import Attempt, Outcome
from mock_ft.ingest.checks import apply_stream_checks, idempotency_key, stream_reads
from mock_ft.ingest.timestamps import parse_ft_timestamp
from mock_ft.ingest.validation import EventValidator
from mock_ft.journal import Journal, NewEntry
from mock_ft.journal.delivery import note_lost_answer
from mock_ft.journal.jsontext import Refusal, decode_event
from mock_ft.journal.tx import Reads, Tx
from mock_ft.problems import Problem

__all__ = ["ERROR_STATUS", "Pipeline"]

# The documented status of every rejection (contracts/integration-api.yaml, components.responses).
ERROR_STATUS = {
    "validation_failed": 400,
    "malformed_json": 400,
    "empty_body": 400,
    "invalid_encoding": 400,
    "invalid_unicode": 400,  # a lone surrogate: no view could show it
    "too_deep": 400,  # nested beyond jsontext.MAX_DEPTH: no view could show it
    "unauthorized": 401,
    "unknown_endpoint": 404,
    "method_not_allowed": 405,
    "unknown_event_type": 400,  # brokers: the `type` property/header is missing or unknown
    "body_too_large": 413,
    "unsupported_media_type": 415,
}
# Where each broker carries the event type (facts file, section 2.1).
_TYPE_CARRIER = {"rabbitmq": "AMQP `type` property", "kafka": "Kafka record header `type`"}
_TYPE_PATH = {"rabbitmq": "property.type", "kafka": "header.type"}  # as problems name it
_ALSO_CARRIED = {"kafka": " (or publish to a topic named after it: PAYMENT, or <prefix>.PAYMENT)"}


class Pipeline:
    """Validates, checks and journals attempts from any transport."""

    def __init__(
        self,
        journal: Journal,
        contract: IntegrationContract,
        *,
        freshness_target_ms: float,
        on_accepted: Callable[[int, str | None, str | None], None] | None = None,
        on_accepting: Callable[[Tx, int, str | None, str | None], None] | None = None,
    ) -> None:
        self.journal = journal
        self.routes = contract.by_type()
        self.validator = EventValidator(contract)
        self.freshness_target_ms = freshness_target_ms
        # Told of each accepted first sighting (event id, type, user id), after its commit:
        # the app's lookups and callback rules. It must not block.
        self.on_accepted = on_accepted
        # Told the same inside the accepting transaction (a shared journal's claims); None on
        # SQLite, so its hot path is as it was.
        self.on_accepting = on_accepting

    async def reject(
        self,
        attempt: Attempt,
        error_code: str,
        message: str,
        problems: tuple[Problem, ...] = (),
        payload: Any = None,
    ) -> Outcome:
        """Journal a rejected attempt and return its outcome."""
        status = ERROR_STATUS[error_code]
        entry = self._entry(attempt, "rejected", status, payload)
        entry.error_code = error_code
        entry.errors = list(problems)

        def job(tx: Tx) -> int:
            return ALREADY if _already(tx, attempt) else tx.insert(entry)

        delivery = attempt.offset is not None or attempt.broker_ref is not None
        event_id = await self.journal.run(
            job, _delivery_reads(attempt, Reads()) if delivery else None
        )
        if event_id == ALREADY:
            return Outcome(200, 0, already=True)
        return Outcome(status, event_id, error_code, message, problems)

    async def fault(
        self, attempt: Attempt, status: int, message: str, retry_after: int | None = None
    ) -> Outcome:
        """Journal an attempt a fault rule failed (verdict `faulted`) and return its outcome.

        `status` is what is answered, 0 when the rule answers nothing (timeout, reset). The
        attempt keeps its FT idempotency key, so a delivery report can follow its retries.
        """
        try:  # best effort, so the attempt can be found by its user_id and key
            payload = orjson.loads(attempt.body)
        except orjson.JSONDecodeError:
            payload = None
        entry = self._entry(attempt, "faulted", status, payload)
        entry.error_code = "injected_fault"
        entry.offset = None  # the broker sends this record again: the journal is not past it
        route = self.routes.get(attempt.event_type or "")
        if route is not None and isinstance(payload, dict):
            entry.idempotency_key = idempotency_key(route, payload)
        event_id = await self.journal.run(Journal.append(entry))
        return Outcome(status, event_id, "injected_fault", message, retry_after=retry_after)

    async def answer_lost(self, event_id: int, why: str) -> None:
        """The publisher did not get the answer to accepted event `event_id` (`why`: a fault
        dropped it, or the client left first): its re-send is at-least-once delivery, and the
        delivery report counts it so, not as a duplicate."""
        await self.journal.run(note_lost_answer(event_id, why))

    async def journaled_as(self, broker_ref: str) -> int | None:
        """The id under which a broker delivery was journaled (accepted or rejected), if it was.

        A broker redelivers what was not acknowledged, also when the mock had journaled it and
        stopped before the ack; such a redelivery is FT's affair, not a second attempt.
        """
        return await self.journal.run(Journal.delivery(broker_ref))

    async def next_offsets(self) -> dict[str, int]:
        """Kafka: per `topic:partition@group`, the offset after the last record the journal
        holds."""
        return await self.journal.run(Journal.offsets)

    def ingest(self, attempt: Attempt) -> Coroutine[Any, Any, Outcome]:
        """Decode and validate one attempt now; return the coroutine that checks and journals it.

        Plain `def` on purpose: every frame in the await chain is resumed once more per event.
        """
        if attempt.event_type not in self.routes:
            message = self._unknown_type(attempt)
            where = _TYPE_PATH.get(attempt.transport, "type")
            problem = Problem(where, "unknown_event_type", message)
            return self.reject(attempt, "unknown_event_type", message, (problem,))
        body = attempt.body
        if not body or body.isspace():  # as `not body.strip()`, without copying the body
            return self.reject(
                attempt, "empty_body", "the body is empty; send the event as a JSON object"
            )
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            message = f"the body is not UTF-8 (byte {exc.start}); send UTF-8 encoded JSON"
            return self.reject(attempt, "invalid_encoding", message)
        try:
            payload, duplicates = decode_event(text)
        except Refusal as exc:
            problem = Problem(exc.path, exc.code, exc.message)
            return self.reject(attempt, exc.code, exc.message, (problem,))
        except json.JSONDecodeError as exc:
            message = (
                f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            )
            problem = Problem("$", "malformed_json", message)
            return self.reject(attempt, "malformed_json", message, (problem,))
        verdict = self.validator.validate(attempt.event_type, payload)
        if verdict.errors:
            count = len(verdict.errors)
            message = (
                f"{attempt.event_type} failed validation: {count} problem(s); "
                "see `problems` for each JSON path"
            )
            problems = (*duplicates, *verdict.errors) if duplicates else verdict.errors
            return self.reject(attempt, "validation_failed", message, problems, payload=payload)
        if duplicates:
            return self._accept(attempt, text, payload, [*duplicates, *verdict.warnings])
        return self._accept(attempt, text, payload, list(verdict.warnings))

    def _unknown_type(self, attempt: Attempt) -> str:
        """Why the type is unusable, naming where this transport carries it."""
        where = _TYPE_CARRIER.get(attempt.transport, "event type")
        if not attempt.event_type:
            also = _ALSO_CARRIED.get(attempt.transport, "")
            return f"the {where} is missing; set it to the FT event type, e.g. PAYMENT{also}"
        near = difflib.get_close_matches(attempt.event_type.upper(), self.routes, n=1)
        hint = f"; did you mean {near[0]}?" if near else ""
        known = ", ".join(sorted(self.routes))
        return f"unknown event type {attempt.event_type!r} in the {where}{hint}; FT knows {known}"

    async def _accept(
        self, attempt: Attempt, text: str, payload: dict[str, Any], warnings: list[Problem]
    ) -> Outcome:
        route = self.routes[attempt.event_type or ""]
        entry = self._entry(attempt, "accepted", 200, payload, text)
        entry.warnings = warnings
        stamp = payload.get("timestamp")
        moment = parse_ft_timestamp(stamp) if isinstance(stamp, str) else None
        if moment is not None:
            entry.event_timestamp = stamp
            epoch = entry.event_epoch = moment.timestamp()
            entry.latency_ms = round((attempt.received_at - epoch) * 1000, 3)
            if entry.latency_ms > self.freshness_target_ms:
                warnings.append(
                    Problem(
                        "$.timestamp",
                        "late_delivery",
                        f"arrived {entry.latency_ms:.0f} ms after its timestamp; FT expects "
                        f"events within {self.freshness_target_ms:.0f} ms",
                    )
                )
            elif entry.latency_ms < -self.freshness_target_ms:
                warnings.append(
                    Problem(
                        "$.timestamp",
                        "future_timestamp",
                        f"timestamp is {-entry.latency_ms:.0f} ms in the future; check the "
                        "publisher's clock and time zone",
                    )
                )

        base_warnings = list(warnings)
        key = idempotency_key(route, payload)

        def job(tx: Tx) -> int:
            # Re-runnable: a batch that fails is retried job by job.
            if _already(tx, attempt):
                return ALREADY
            entry.warnings, entry.duplicate_of = list(base_warnings), None
            apply_stream_checks(tx, entry, route, payload, key, tx.next_id())
            event_id = tx.insert(entry)
            if self.on_accepting is not None and entry.duplicate_of is None:
                self.on_accepting(tx, event_id, entry.event_type, entry.user_id)
            return event_id

        reads = stream_reads(route, payload, key, entry.user_id)
        event_id = await self.journal.run(job, _delivery_reads(attempt, reads))
        if event_id == ALREADY:
            return Outcome(200, 0, already=True)
        if self.on_accepted is not None and entry.duplicate_of is None:
            self.on_accepted(event_id, entry.event_type, entry.user_id)
        if not entry.warnings and entry.duplicate_of is None:
            return Outcome(200, event_id)  # the usual answer, built without keywords
        return Outcome(
            200, event_id, warnings=tuple(entry.warnings), duplicate_of=entry.duplicate_of
        )

    @staticmethod
    def _entry(
        attempt: Attempt, verdict: str, status: int, payload: Any, text: str | None = None
    ) -> NewEntry:
        """A journal entry; `text` is the body already decoded, when the caller has it."""
        if text is None and attempt.body:
            text = attempt.body.decode("utf-8", errors="replace")
        user_id = payload.get("user_id") if isinstance(payload, dict) else None
        if not _is_id(user_id):
            user_id = None
        return NewEntry(
            attempt.transport,
            attempt.received_at,
            verdict,
            status,
            attempt.method,
            attempt.path,
            attempt.event_type,
            None if user_id is None else str(user_id),
            text,
            attempt.headers,
            attempt.fault,
            attempt.broker_ref,
            attempt.offset,
        )


ALREADY = 0  # a job's answer for a delivery the journal holds (event ids start at 1)


def _delivery_reads(attempt: Attempt, reads: Reads) -> Reads:
    """`reads` plus the broker delivery the job looks for (`_already`), so that it is locked."""
    if attempt.offset is not None:
        reads.sources.append(attempt.offset[0])
    if attempt.broker_ref is not None:
        reads.refs.append(attempt.broker_ref)  # every delivery: its redelivery waits for it
    return reads


def _already(tx: Tx, attempt: Attempt) -> bool:
    """True when the journal holds this broker delivery: a Kafka record below its partition's
    journaled offset, or a redelivered RabbitMQ message journaled before. Checked in the
    transaction, under the locks `_delivery_reads` named, so two instances never both journal
    it (one that took over a partition or a message waits for the other's batch to end)."""
    if attempt.offset is not None:
        return tx.covered(*attempt.offset)
    ref = attempt.broker_ref
    return attempt.redelivered and ref is not None and Journal.delivery(ref)(tx) is not None


def _is_id(value: Any) -> bool:
    """A usable id for filtering: a non-empty string or an integer (never a boolean)."""
    if isinstance(value, bool):
        return False
    return (isinstance(value, str) and value != "") or isinstance(value, int)
