"""The transport-neutral pipeline, driven directly as a broker transport will drive it."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Coroutine
from typing import Any

import pytest

from mock_ft.contracts import integration_contract
from mock_ft.ingest.attempts import Attempt, Outcome, mask_headers
from mock_ft.ingest.pipeline import Pipeline
from mock_ft.journal import EventFilter, Journal
from mock_ft.journal.jsontext import MAX_DEPTH
from mock_ft.samples import ft_timestamp, sample_events


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


def _batch(
    events: list[tuple[str, dict[str, object]]], *, reset_after: int | None = None
) -> list[Outcome]:
    """Ingest events concurrently so they share one group commit (one batch, one Tx)."""

    async def run() -> list[Outcome]:
        journal = Journal(":memory:", commit_interval=0.05).start()
        pipeline = Pipeline(journal, integration_contract(), freshness_target_ms=60_000)
        try:

            async def reset() -> int:
                return await journal.run(Journal.reset)  # submitted in turn, like the events

            jobs: list[Coroutine[Any, Any, Outcome | int]] = []
            for index, (event_type, payload) in enumerate(events):
                body = json.dumps({**payload, "timestamp": ft_timestamp()}).encode()
                jobs.append(pipeline.ingest(Attempt("rest", time.time(), body, event_type)))
                if reset_after == index:
                    jobs.append(reset())
            commits_before = journal.commits
            results = await asyncio.gather(*jobs)
            assert journal.commits == commits_before + 1, "the events did not share one batch"
            return [r for r in results if isinstance(r, Outcome)]
        finally:
            journal.close()

    return asyncio.run(run())


SAMPLES = {route.event_type: payload for route, payload in sample_events()}


def _codes(outcome: Outcome) -> list[str]:
    return [w.code for w in outcome.warnings]


def test_see_duplicate_within_one_batch() -> None:
    """The second of two identical payments in one batch is a duplicate of the first."""
    register = ("USER_CREATE_V2", SAMPLES["USER_CREATE_V2"])
    payment = ("PAYMENT", SAMPLES["PAYMENT"])
    _, first, second = _batch([register, payment, payment])
    assert (first.duplicate_of, second.duplicate_of) == (None, first.event_id)


def test_see_payment_progression_within_one_batch() -> None:
    """Approved then Rollback in one batch is a valid progression."""
    register = ("USER_CREATE_V2", SAMPLES["USER_CREATE_V2"])
    approved = ("PAYMENT", {**SAMPLES["PAYMENT"], "status": "Approved"})
    rollback = ("PAYMENT", {**SAMPLES["PAYMENT"], "status": "Rollback"})
    _, first, second = _batch([register, approved, rollback])
    assert (_codes(first), _codes(second)) == ([], [])


def test_see_registration_within_one_batch() -> None:
    """A login right after its registration, in the same batch, is not unregistered."""
    register = ("USER_CREATE_V2", SAMPLES["USER_CREATE_V2"])
    login = ("LOGIN_V2", SAMPLES["LOGIN_V2"])
    _, login_outcome = _batch([register, login])
    assert _codes(login_outcome) == []


def test_forget_state_reset_within_one_batch() -> None:
    """A reset between a registration and a login in one batch forgets the registration."""
    register = ("USER_CREATE_V2", SAMPLES["USER_CREATE_V2"])
    login = ("LOGIN_V2", SAMPLES["LOGIN_V2"])
    _, login_outcome = _batch([register, login], reset_after=0)
    assert _codes(login_outcome) == ["unregistered_user"]


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_reject_non_json_constants(constant: bytes) -> None:
    """NaN and Infinity are not JSON: malformed, not silently accepted."""
    body = (
        b'{"user_id": "1", "timestamp": "2026-11-21T10:00:00Z", "origin": "o", "meta": {"x": '
        + constant
        + b"}}"
    )
    outcome, journal = _ingest("LOGIN_V2", body)
    journal.close()
    assert outcome.error_code == "malformed_json"


def test_reject_deeply_nested_body() -> None:
    """A body nested past any decoder's depth is refused as too deep, not a server error."""
    outcome, journal = _ingest("LOGIN_V2", b"[" * 100_000 + b"]" * 100_000)
    try:
        assert (outcome.status_code, outcome.error_code) == (400, "too_deep")
        assert [p.path for p in outcome.problems] == ["$" + "[0]" * MAX_DEPTH]
    finally:
        journal.close()


def test_accept_integer_beyond_64_bits() -> None:
    """orjson refuses integers past 64 bits; the fallback decoder accepts them as FT does."""
    body = json.dumps({**SAMPLES["LOGIN_V2"], "timestamp": ft_timestamp()})
    body = body[:-1] + ', "extra": 123456789012345678901234567890}'
    outcome, journal = _ingest("LOGIN_V2", body.encode())
    try:
        assert outcome.accepted, outcome.body()
        [entry] = journal.run_sync(Journal.query(EventFilter(), limit=5))
        assert entry.payload_json()["extra"] == 123456789012345678901234567890
    finally:
        journal.close()


def test_report_position_of_malformed_json() -> None:
    """Malformed JSON is reported with the standard decoder's line and column."""
    outcome, journal = _ingest("LOGIN_V2", b'{\n  "user_id": "1",\n  oops\n}')
    try:
        assert outcome.error_code == "malformed_json"
        assert "line 3 column 3" in outcome.message
    finally:
        journal.close()
