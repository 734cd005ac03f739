"""The transport-neutral pipeline, driven directly as a broker transport will drive it."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from mock_ft.contracts import integration_contract
from mock_ft.ingest.pipeline import Attempt, Outcome, Pipeline, mask_headers
from mock_ft.journal import EventFilter, Journal
from mock_ft.samples import sample_events


def _ingest(event_type: str | None, body: bytes) -> tuple[Outcome, Journal]:
    journal = Journal(":memory:").start()
    pipeline = Pipeline(journal, integration_contract(), freshness_target_ms=1000)
    attempt = Attempt(
        transport="rabbitmq", received_at=time.time(), body=body, event_type=event_type
    )
    return asyncio.run(pipeline.ingest(attempt)), journal


@pytest.mark.parametrize("event_type", [None, "", "payment", "LOGOUT"])
def test_reject_missing_or_unknown_event_type(event_type: str | None) -> None:
    """A message without a known type is rejected and journaled with the list of known types."""
    outcome, journal = _ingest(event_type, b"{}")
    try:
        assert (outcome.status_code, outcome.error_code) == (400, "unknown_event_type")
        assert "PAYMENT" in outcome.message
        [entry] = journal.run_sync(Journal.query(EventFilter(), limit=5))
        assert (entry.transport, entry.error_code) == ("rabbitmq", "unknown_event_type")
    finally:
        journal.close()


def test_accept_known_type_from_any_transport() -> None:
    """The same validation and journal serve a broker transport."""
    route, payload = next((r, p) for r, p in sample_events() if r.event_type == "PAYMENT")
    outcome, journal = _ingest(route.event_type, json.dumps(payload).encode())
    try:
        assert outcome.accepted
        assert outcome.body()["status"] == "accepted"
    finally:
        journal.close()


def test_mask_secret_looking_headers() -> None:
    """Configured key header and anything named like a secret are masked."""
    headers = {"x-ft": "k", "x-session-token": "t", "x-request-id": "r"}
    assert mask_headers(headers, "X-FT") == {
        "x-ft": "***",
        "x-session-token": "***",
        "x-request-id": "r",
    }


@pytest.mark.parametrize("event_id", [1, 2**40])
def test_render_plain_accepted_answer_as_json(event_id: int) -> None:
    """The pre-formatted accepted answer is exactly the JSON of body()."""
    outcome = Outcome(200, event_id)
    assert outcome.body_bytes() == json.dumps(outcome.body()).encode()
