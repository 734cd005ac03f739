"""The delivery report: what the operator's publisher did with FT's answers, read off the journal.

Attempts are grouped into events by FT's idempotency key (faulted attempts carry it too), so the
report can say, per event: how many attempts it took, how long the publisher waited between them
(and whether it waited as long as `Retry-After` asked, or hammered), whether it ever got through
(`lost`: refused and never delivered again), and whether it was accepted more than once
(`duplicated`, not counting re-deliveries after an answer the publisher never got: one a
`drop_answer` fault dropped, or one the client hung up before, as a publisher whose timeout
fires does; those are at-least-once delivery, which FT expects).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from mock_ft.figures import quantiles
from mock_ft.journal.models import EventFilter
from mock_ft.journal.tx import Tx

__all__ = ["LOST_ANSWER", "DeliveryReport", "delivery_report", "note_lost_answer"]

LOST_ANSWER = "lost_answer"  # the mark kind: value says why (client_left)

_RETRY_AFTER_SLACK = 0.05  # seconds: clock and scheduling noise a publisher is forgiven
_EXAMPLES = 5


@dataclass(slots=True)
class _Attempt:
    at: float
    verdict: str
    held: float  # seconds the mock held the attempt before it answered or dropped it
    retry_after: int | None
    lost_answer: str | None  # why the publisher never got the answer: drop_answer, client_left
    latency_ms: float | None


@dataclass(slots=True)
class DeliveryReport:
    """Counts and timings for one window of the journal; `problems` says what went wrong."""

    attempts: int = 0
    rejected_attempts: int = 0  # failed validation or auth; not part of the delivery picture
    events: int = 0  # distinct FT idempotency keys seen
    delivered: int = 0  # ... of which at least one attempt was accepted
    expected: int | None = None
    missing: int | None = None  # expected minus delivered, when expected is given
    lost: int = 0  # refused by a fault and never delivered again
    duplicated: int = 0  # accepted again although FT's 200 reached the publisher
    # Accepted again after an answer the publisher never got: at-least-once, correct. The
    # answer was dropped by a fault, or the client left (timed out) before it was sent.
    redelivered_after_lost_answer: int = 0
    client_left_before_answer: int = 0  # accepted attempts whose client hung up first
    faulted_attempts: int = 0
    attempts_per_event: dict[int, int] = field(default_factory=dict)
    max_attempts: int = 0
    retries: int = 0
    retry_gap_ms: dict[str, float | None] = field(default_factory=dict)
    retry_after_asked: int = 0
    retry_after_honoured: int = 0
    retry_after_ignored: int = 0
    hammering: int = 0  # retries sooner than hammer_ms after a failure without Retry-After
    hammer_ms: float = 20.0
    latency_ms: dict[str, float | None] = field(default_factory=dict)
    time_to_deliver_ms: dict[str, float | None] = field(default_factory=dict)
    truncated: bool = False
    examples: dict[str, list[str]] = field(default_factory=dict)

    @property
    def problems(self) -> list[str]:
        """What a publisher must fix, one sentence each; empty when the delivery was clean."""
        found = []
        if self.lost:
            found.append(f"{self.lost} event(s) refused by FT were never delivered again")
        if self.missing:
            found.append(f"{self.missing} of {self.expected} expected event(s) never arrived")
        if self.duplicated:
            found.append(f"{self.duplicated} event(s) were accepted more than once")
        if self.retry_after_ignored:
            found.append(
                f"{self.retry_after_ignored} of {self.retry_after_asked} retries came sooner "
                "than Retry-After asked"
            )
        if self.hammering:
            found.append(
                f"{self.hammering} retries came within {self.hammer_ms:g} ms of a failure "
                "(no back-off)"
            )
        return found

    def public(self) -> dict[str, Any]:
        """The report as the control API shows it."""
        return {
            "ok": not self.problems,
            "problems": self.problems,
            "attempts": self.attempts,
            "rejected_attempts": self.rejected_attempts,
            "faulted_attempts": self.faulted_attempts,
            "events": self.events,
            "delivered": self.delivered,
            "expected": self.expected,
            "missing": self.missing,
            "lost": self.lost,
            "duplicated": self.duplicated,
            "redelivered_after_lost_answer": self.redelivered_after_lost_answer,
            "client_left_before_answer": self.client_left_before_answer,
            "attempts_per_event": {str(k): v for k, v in sorted(self.attempts_per_event.items())},
            "max_attempts": self.max_attempts,
            "retries": self.retries,
            "retry_gap_ms": self.retry_gap_ms,
            "retry_after": {
                "asked": self.retry_after_asked,
                "honoured": self.retry_after_honoured,
                "ignored": self.retry_after_ignored,
            },
            "hammering": self.hammering,
            "hammer_ms": self.hammer_ms,
            "latency_ms": self.latency_ms,
            "time_to_deliver_ms": self.time_to_deliver_ms,
            "truncated": self.truncated,
            "examples": self.examples,
        }


def note_lost_answer(event_id: int, why: str) -> Any:
    """A journal job: the answer to accepted event `event_id` never reached the publisher."""

    def job(tx: Tx) -> None:
        tx.set_mark(LOST_ANSWER, str(event_id), why, event_id)

    return job


def delivery_report(
    flt: EventFilter,
    *,
    expected: int | None = None,
    hammer_ms: float = 20.0,
    max_rows: int = 500_000,
    newest: bool = False,
    examples: int = _EXAMPLES,
) -> Any:
    """A journal job computing the report over the attempts `flt` selects (oldest first).

    At most `max_rows` attempts are read (the oldest, or the newest with `newest`); the report
    says `truncated` when there were more. Each kind of problem lists the idempotency keys of
    up to `examples` of its cases.
    """
    where, params = flt.where()
    order = "DESC" if newest else "ASC"
    sql = (
        "SELECT received_at, verdict, idempotency_key, fault, latency_ms, m.value"  # noqa: S608
        " FROM events LEFT JOIN marks AS m"
        f" ON m.kind = '{LOST_ANSWER}' AND m.key = CAST(events.id AS TEXT)"
        f"{where} ORDER BY id {order} LIMIT ?"
    )

    def job(tx: Tx) -> DeliveryReport:
        report = DeliveryReport(expected=expected, hammer_ms=hammer_ms)
        by_key: dict[str, list[_Attempt]] = {}
        rows = tx.conn.execute(sql, [*params, max_rows + 1]).fetchall()
        report.truncated = len(rows) > max_rows
        rows = rows[:max_rows]
        if newest:
            rows.reverse()
        for at, verdict, key, fault_text, latency, lost in rows:
            report.attempts += 1
            if verdict == "faulted":
                report.faulted_attempts += 1
            if key is None or verdict == "rejected":
                report.rejected_attempts += verdict == "rejected"
                continue
            fault = json.loads(fault_text) if fault_text else {}
            # The mock answered (or dropped) after holding the attempt this long; a timeout's
            # client gives up on its own clock, unseen, so its retry gap counts from arrival.
            timed = fault.get("action") not in ("timeout", "reset")
            held = fault.get("delay_ms", 0) / 1000 if timed else 0.0
            by_key.setdefault(key, []).append(
                _Attempt(
                    at,
                    verdict,
                    held,
                    fault.get("retry_after"),
                    "drop_answer" if fault.get("action") == "drop_answer" else lost,
                    latency,
                )
            )
        _summarise(report, by_key, examples)
        return report

    return job


def _arrival(attempt: _Attempt) -> float:
    return attempt.at


def _summarise(report: DeliveryReport, by_key: dict[str, list[_Attempt]], listed: int) -> None:
    gaps: list[float] = []
    latencies: list[float] = []
    to_deliver: list[float] = []
    per_event: Counter[int] = Counter()
    examples: dict[str, list[str]] = {}
    report.events = len(by_key)
    for key, attempts in by_key.items():
        # Arrival order, not id order: on a shared journal a retry taken by one instance can
        # commit before the attempt it retried, which another instance took first but whose
        # commit waited. One instance commits in arrival order, so this changes nothing there.
        attempts.sort(key=_arrival)
        per_event[len(attempts)] += 1
        accepted = [a for a in attempts if a.verdict == "accepted"]
        if accepted:
            report.delivered += 1
            first = accepted[0]
            if first.latency_ms is not None:
                latencies.append(first.latency_ms)
            to_deliver.append((first.at - attempts[0].at) * 1000)
            report.client_left_before_answer += sum(
                a.lost_answer == "client_left" for a in accepted
            )
            lost_answers = sum(a.lost_answer is not None for a in accepted[:-1])
            report.redelivered_after_lost_answer += lost_answers
            if len(accepted) - 1 > lost_answers:
                report.duplicated += 1
                examples.setdefault("duplicated", []).append(key)
        elif any(a.verdict == "faulted" for a in attempts):
            report.lost += 1
            examples.setdefault("lost", []).append(key)
        for before, after in pairwise(attempts):
            if before.verdict == "accepted" and before.lost_answer is None:
                continue  # a duplicate, not a retry
            report.retries += 1
            # A client that left first (its timeout fired) waited from arrival, on its clock,
            # and never heard the answer's Retry-After.
            heard = before.lost_answer != "client_left"
            gap = after.at - (before.at + (before.held if heard else 0.0))
            gaps.append(gap * 1000)
            if before.retry_after is not None and heard:
                report.retry_after_asked += 1
                if gap + _RETRY_AFTER_SLACK >= before.retry_after:
                    report.retry_after_honoured += 1
                else:
                    report.retry_after_ignored += 1
                    examples.setdefault("retry_after_ignored", []).append(key)
            elif gap * 1000 < report.hammer_ms:
                report.hammering += 1
                examples.setdefault("hammering", []).append(key)
    if report.expected is not None:
        report.missing = max(0, report.expected - report.delivered)
    report.attempts_per_event = dict(per_event)
    report.max_attempts = max(per_event, default=0)
    report.retry_gap_ms = quantiles(gaps, ("min", "p50", "p99"))
    report.latency_ms = quantiles(latencies, ("p50", "p99", "max"))
    report.time_to_deliver_ms = quantiles(to_deliver, ("p50", "p99", "max"))
    report.examples = {kind: keys[:listed] for kind, keys in examples.items()}
