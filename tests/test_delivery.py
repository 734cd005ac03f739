"""The delivery report over hand-made attempt sequences in a real SQLite journal."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mock_ft.journal import EventFilter, Journal, NewEntry
from mock_ft.journal.delivery import DeliveryReport, delivery_report, note_lost_answer
from tests.conftest import KEY_HEADERS

T0 = 1_800_000_000.0


@pytest.fixture
def journal() -> Iterator[Journal]:
    with Journal(":memory:") as opened:
        yield opened


def _attempt(
    journal: Journal,
    key: str,
    at: float,
    verdict: str = "accepted",
    fault: dict[str, Any] | None = None,
    latency_ms: float | None = 10.0,
) -> None:
    entry = NewEntry(
        transport="rest",
        received_at=T0 + at,
        verdict=verdict,
        status_code=200 if verdict == "accepted" else 503,
        event_type="PAYMENT",
        idempotency_key=key,
        fault=fault,
        latency_ms=latency_ms,
    )
    journal.run_sync(Journal.append(entry))


def _report(journal: Journal, **options: Any) -> DeliveryReport:
    report: DeliveryReport = journal.run_sync(delivery_report(EventFilter(), **options))
    return report


def test_count_clean_delivery_as_ok(journal: Journal) -> None:
    """Two events accepted first time: delivered, one attempt each, no problems."""
    _attempt(journal, "a", 0)
    _attempt(journal, "b", 1)
    report = _report(journal, expected=2)
    assert (report.delivered, report.missing, report.attempts_per_event) == (2, 0, {1: 2})
    assert report.problems == []


def test_report_event_refused_and_never_resent_as_lost(journal: Journal) -> None:
    """A faulted attempt with no accepted one after it is a lost event."""
    _attempt(journal, "a", 0, "faulted", {"rule": 1, "action": "status", "status": 503})
    report = _report(journal)
    assert (report.lost, report.examples["lost"]) == (1, ["a"])
    assert report.problems == ["1 event(s) refused by FT were never delivered again"]


def test_report_missing_against_expected_count(journal: Journal) -> None:
    """Fewer events than the run should have published: the difference is missing."""
    _attempt(journal, "a", 0)
    assert _report(journal, expected=3).missing == 2


def test_count_second_acceptance_as_duplicate(journal: Journal) -> None:
    """An event accepted twice without a lost answer between is a duplicate."""
    _attempt(journal, "a", 0)
    _attempt(journal, "a", 1)
    assert _report(journal).duplicated == 1


def test_excuse_redelivery_after_lost_answer(journal: Journal) -> None:
    """After a drop_answer fault, sending the event again is right, not a duplicate."""
    _attempt(journal, "a", 0, fault={"rule": 1, "action": "drop_answer"})
    _attempt(journal, "a", 0.5)
    report = _report(journal)
    assert (report.duplicated, report.redelivered_after_lost_answer) == (0, 1)
    assert report.retries == 1


def test_judge_retry_after_honoured_and_ignored(journal: Journal) -> None:
    """A retry 1.2 s after `Retry-After: 1` honours it; one after 0.3 s ignores it."""
    fault = {"rule": 1, "action": "status", "status": 429, "retry_after": 1}
    _attempt(journal, "a", 0, "faulted", fault)
    _attempt(journal, "a", 1.2)
    _attempt(journal, "b", 0, "faulted", fault)
    _attempt(journal, "b", 0.3)
    report = _report(journal)
    assert (report.retry_after_asked, report.retry_after_honoured) == (2, 1)
    assert (report.retry_after_ignored, report.examples["retry_after_ignored"]) == (1, ["b"])


def test_flag_retry_without_back_off_as_hammering(journal: Journal) -> None:
    """A retry 5 ms after a 503's answer (held 100 ms) is hammering; 60 ms after is not."""
    fault = {"rule": 1, "action": "status", "status": 503, "delay_ms": 100}
    _attempt(journal, "a", 0, "faulted", fault)
    _attempt(journal, "a", 0.105)
    _attempt(journal, "b", 0, "faulted", fault)
    _attempt(journal, "b", 0.160)
    report = _report(journal, hammer_ms=20)
    assert (report.hammering, report.examples["hammering"]) == (1, ["a"])
    assert report.retry_gap_ms["min"] == pytest.approx(5, abs=0.2)


def test_measure_timeout_retry_gap_from_arrival(journal: Journal) -> None:
    """The client's own timeout ends a held attempt: its retry gap counts from arrival."""
    _attempt(journal, "a", 0, "faulted", {"rule": 1, "action": "timeout", "delay_ms": 30_000})
    _attempt(journal, "a", 0.25)
    report = _report(journal)
    assert (report.hammering, report.retry_gap_ms["p50"]) == (0, 250.0)


def test_measure_time_to_deliver_and_latency(journal: Journal) -> None:
    """From first attempt to first acceptance, and the accepted attempt's latency."""
    _attempt(journal, "a", 0, "faulted", {"rule": 1, "action": "reset"})
    _attempt(journal, "a", 2, latency_ms=2100.0)
    report = _report(journal)
    assert report.time_to_deliver_ms == {"p50": 2000.0, "p99": 2000.0, "max": 2000.0}
    assert report.latency_ms["max"] == 2100.0
    assert report.attempts_per_event == {2: 1}


def test_say_truncated_when_window_exceeds_rows(journal: Journal) -> None:
    """Reading at most N attempts: the newest N with `newest`, and the report says so."""
    for n in range(5):
        _attempt(journal, f"k{n}", n)
    report = _report(journal, max_rows=3, newest=True)
    assert (report.truncated, report.attempts, report.events) == (True, 3, 3)


def test_leave_rejected_attempts_out_of_events(journal: Journal) -> None:
    """Attempts refused for validation count as rejected, not as events to deliver."""
    journal.run_sync(
        Journal.append(
            NewEntry(transport="rest", received_at=T0, verdict="rejected", status_code=400)
        )
    )
    report = _report(journal)
    assert (report.rejected_attempts, report.events, report.problems) == (1, 0, [])


def test_excuse_retry_of_client_that_left_before_retry_after(journal: Journal) -> None:
    """A client that hung up before its 429 (its own timeout fired) never saw Retry-After: its
    retry on its own back-off ignored nothing, and its gap counts from the attempt's arrival."""
    fault = {"rule": 1, "action": "status", "status": 429, "retry_after": 1, "delay_ms": 600_000}
    _attempt(journal, "a", 0, "faulted", fault)
    journal.run_sync(note_lost_answer(1, "client_left"))
    _attempt(journal, "a", 0.5)
    report = _report(journal)
    assert (report.retry_after_asked, report.retry_after_ignored, report.hammering) == (0, 0, 0)
    assert report.problems == []


def test_list_as_many_examples_as_asked(journal: Journal) -> None:
    """Five example keys per kind of problem unless more are asked for."""
    for n in range(7):
        _attempt(journal, f"k{n}", 0)
        _attempt(journal, f"k{n}", 1)
    assert len(_report(journal).examples["duplicated"]) == 5
    assert len(_report(journal, examples=7).examples["duplicated"]) == 7


def test_serve_delivery_report_with_expected(client: TestClient) -> None:
    """GET /_mock/delivery reports a faulted-then-accepted event and the missing ones."""
    client.post("/_mock/faults", json={"status": 503, "retry_after": 0, "times": 1})
    payment = {
        "user_id": "7", "payment_id": "p9", "type": "Credit", "status": "Approved",
        "cashtype": "cash", "amount": 1, "currency": "EUR", "origin": "o",
        "timestamp": "2026-11-30T10:00:00Z", "exchange_rate": 1, "fee_amount": 0,
        "vendor_id": "v", "vendor_name": "v",
    }  # fmt: skip
    for _ in range(2):
        client.post("/v1/integration/payment", json=payment, headers=KEY_HEADERS)
    report = client.get("/_mock/delivery", params={"expected": 3}).json()
    assert (report["delivered"], report["missing"], report["faulted_attempts"]) == (1, 2, 1)
    assert report["retry_after"] == {"asked": 1, "honoured": 1, "ignored": 0}
    assert report["problems"] == ["2 of 3 expected event(s) never arrived"]
    assert client.get("/_mock/stats").json()["delivery"]["delivered"] == 1


def test_bound_stats_delivery_to_newest_attempts(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/_mock/stats reports delivery over the newest STATS_DELIVERY_ROWS attempts only: the
    call runs on the event loop, so its work must not grow with the journal."""
    from mock_ft.crm.routes import reports

    monkeypatch.setattr(reports, "STATS_DELIVERY_ROWS", 2)
    for number in range(3):
        login = {"user_id": str(number), "timestamp": "2026-11-30T10:00:00Z", "origin": "o"}
        assert client.post("/v2/integration/login", json=login, headers=KEY_HEADERS).is_success
    delivery = client.get("/_mock/stats").json()["delivery"]
    assert (delivery["attempts"], delivery["truncated"]) == (2, True)


def test_excuse_redelivery_after_client_left(journal: Journal) -> None:
    """A client that hung up before its 200 (its timeout fired) sends again: not a duplicate."""
    _attempt(journal, "a", 0)
    journal.run_sync(note_lost_answer(1, "client_left"))
    _attempt(journal, "a", 0.5)
    report = _report(journal)
    assert (report.duplicated, report.redelivered_after_lost_answer) == (0, 1)
    assert report.client_left_before_answer == 1
    assert report.problems == []


def test_read_attempts_of_event_in_arrival_order(journal: Journal) -> None:
    """On a shared journal an instance can commit a retry before another instance commits the
    attempt it retried (that one waited on a lock): the report follows arrival, not ids. Here
    the first attempt's client left before its 200 and its retry, journaled first, came 0.5 s
    later: at-least-once, neither a duplicate nor a retry sooner than anything allowed."""
    _attempt(journal, "a", 0.5)  # the retry, committed first (id 1)
    _attempt(journal, "a", 0)  # the first attempt, committed late (id 2)
    journal.run_sync(note_lost_answer(2, "client_left"))
    report = _report(journal)
    assert (report.duplicated, report.redelivered_after_lost_answer) == (0, 1)
    assert (report.retry_gap_ms["min"], report.time_to_deliver_ms["max"]) == (500.0, 0.0)
    assert report.problems == []
