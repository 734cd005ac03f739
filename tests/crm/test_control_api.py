"""The /_mock/ control API: list, filter, page, wait, reset, stats, health, token."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mock_ft.crm import create_app
from mock_ft.samples import ft_timestamp
from mock_ft.settings import Settings
from tests.conftest import JSON_HEADERS, KEY_HEADERS


def _login(client: TestClient, user_id: str) -> int:
    event = {"user_id": user_id, "timestamp": ft_timestamp(), "origin": "o"}
    response = client.post("/v2/integration/login", json=event, headers=KEY_HEADERS)
    event_id: int = response.json()["event_id"]
    return event_id


def _events(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/_mock/events", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_filter_events_by_user_type_and_verdict(client: TestClient) -> None:
    """Filters combine; each returns only matching entries."""
    _login(client, "a")
    _login(client, "b")
    client.post("/v2/integration/login", json={}, headers=KEY_HEADERS)  # rejected
    assert [e["user_id"] for e in _events(client, user_id="a")["data"]] == ["a"]
    assert _events(client, type="LOGIN_V2", verdict="accepted")["count"] == 2
    assert _events(client, verdict="rejected")["data"][0]["error_code"] == "validation_failed"
    assert _events(client, type="PAYMENT")["count"] == 0
    assert _events(client, transport="rest")["count"] == 3


def test_filter_events_by_time_range(client: TestClient) -> None:
    """since is inclusive, until exclusive (Unix seconds)."""
    _login(client, "early")
    middle = time.time()
    _login(client, "late")
    assert [e["user_id"] for e in _events(client, since=middle)["data"]] == ["late"]
    assert [e["user_id"] for e in _events(client, until=middle)["data"]] == ["early"]


def test_page_through_events_with_cursor(client: TestClient) -> None:
    """next_cursor pages forward; a short last page has none."""
    ids = [_login(client, f"u{i}") for i in range(5)]
    first = _events(client, limit=2)
    assert [e["id"] for e in first["data"]] == ids[:2]
    second = _events(client, limit=2, after_id=first["next_cursor"])
    assert [e["id"] for e in second["data"]] == ids[2:4]
    last = _events(client, limit=2, after_id=second["next_cursor"])
    assert ([e["id"] for e in last["data"]], last["next_cursor"]) == (ids[4:], None)


def test_list_newest_first(client: TestClient) -> None:
    """order=desc with before_id pages backwards."""
    ids = [_login(client, f"u{i}") for i in range(3)]
    newest = _events(client, order="desc", limit=2)
    assert [e["id"] for e in newest["data"]] == [ids[2], ids[1]]
    older = _events(client, order="desc", before_id=newest["next_cursor"])
    assert [e["id"] for e in older["data"]] == [ids[0]]


def test_get_event_by_id(client: TestClient) -> None:
    """One event by id, or a 404 body."""
    event_id = _login(client, "x")
    assert client.get(f"/_mock/events/{event_id}").json()["user_id"] == "x"
    missing = client.get("/_mock/events/999")
    assert (missing.status_code, missing.json()["error"]) == (404, "not_found")


@pytest.fixture
def patient_client() -> Iterator[TestClient]:
    """A mock whose long-polls may last an hour: a wait that does not end on its own event
    outlasts the test's hang guard and fails it, without the test timing anything."""
    settings = Settings(journal=":memory:", wait_max_seconds=3600, allowed_hosts=["testserver"])
    with TestClient(create_app(settings)) as client:
        yield client


def test_wait_answers_at_once_when_events_exist(patient_client: TestClient) -> None:
    """Matching events already journaled answer immediately."""
    _login(patient_client, "42")
    response = patient_client.get("/_mock/events/wait", params={"user_id": "42", "timeout": 3600})
    assert response.status_code == 200
    assert response.json()["data"][0]["user_id"] == "42"


def test_wait_answers_when_event_arrives(patient_client: TestClient) -> None:
    """A long-poll returns as soon as the awaited event is journaled."""
    params = {"user_id": "late-arrival", "type": "LOGIN_V2", "timeout": 3600}
    waiter = threading.Thread(
        target=lambda: answers.append(patient_client.get("/_mock/events/wait", params=params))
    )
    answers: list[Any] = []
    waiter.start()
    _login(patient_client, "late-arrival")
    waiter.join()
    [response] = answers
    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_wait_times_out_with_what_was_seen(client: TestClient) -> None:
    """Too few matches in time: 408 with the matches so far and the newest events."""
    _login(client, "7")
    response = client.get("/_mock/events/wait", params={"user_id": "7", "count": 2, "timeout": 0.3})
    assert response.status_code == 408
    body = response.json()
    assert (body["error"], body["wanted"], len(body["seen"])) == ("wait_timeout", 2, 1)
    assert body["recent"][0]["user_id"] == "7"
    assert "saw 1" in body["message"]


def test_wait_only_for_ids_after_cursor(client: TestClient) -> None:
    """after_id ignores what was there before."""
    old = _login(client, "9")
    response = client.get(
        "/_mock/events/wait", params={"user_id": "9", "after_id": old, "timeout": 0.2}
    )
    assert response.status_code == 408


def test_reset_empties_journal_and_state(client: TestClient) -> None:
    """Reset removes events, counters and stream-check state."""
    _login(client, "r")
    assert client.post("/_mock/reset", headers=JSON_HEADERS).json() == {"removed": 1}
    assert _events(client)["count"] == 0
    assert client.get("/_mock/stats").json()["total"] == 0


def test_report_stats(client: TestClient) -> None:
    """Stats count by verdict, type and error, with latency percentiles."""
    _login(client, "s")
    client.post(
        "/v2/integration/login",
        content=b"{",
        headers={**KEY_HEADERS, "Content-Type": "application/json"},
    )
    stats = client.get("/_mock/stats").json()
    assert stats["total"] == 2
    assert stats["by_verdict"] == {"accepted": 1, "rejected": 1}
    assert stats["by_type"] == {"LOGIN_V2": 2}
    assert stats["errors"] == {"malformed_json": 1}
    assert stats["latency_ms"]["p50"] == stats["latency_ms"]["max"] is not None


def test_report_empty_stats(client: TestClient) -> None:
    """An empty journal has no latency figures."""
    stats = client.get("/_mock/stats").json()
    assert stats["latency_ms"] == {"p50": None, "p99": None, "max": None}


def test_report_health(client: TestClient) -> None:
    """Health says ok and where the journal is."""
    assert client.get("/_mock/health").json()["status"] == "ok"


def test_reject_invalid_query_with_problem_paths(client: TestClient) -> None:
    """A bad query parameter answers 422 in the documented error shape."""
    response = client.get("/_mock/events", params={"limit": "many", "verdict": "maybe"})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_request"
    assert sorted(p["path"] for p in body["problems"]) == ["$.query.limit", "$.query.verdict"]


@pytest.fixture
def guarded() -> Any:
    settings = Settings(
        journal=":memory:",
        allowed_hosts=["testserver"],
        host="0.0.0.0",  # noqa: S104
        control_token="ctl-token-0123456789",
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}])
def test_require_control_token_when_set(guarded: TestClient, headers: dict[str, str]) -> None:
    """With a control token, /_mock/ answers 401 without it."""
    response = guarded.get("/_mock/events", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


def test_accept_control_token(guarded: TestClient) -> None:
    """The right bearer token opens /_mock/; health stays open for probes."""
    ok = guarded.get("/_mock/events", headers={"Authorization": "Bearer ctl-token-0123456789"})
    assert ok.status_code == 200
    assert guarded.get("/_mock/health").status_code == 200


@pytest.mark.parametrize("value", ["inf", "nan", "-Infinity", "1e999"])
def test_reject_non_finite_numbers(client: TestClient, value: str) -> None:
    """Infinity and NaN are not JSON numbers: 422, not a silently accepted filter or wait."""
    assert client.get("/_mock/events", params={"since": value}).status_code == 422
    assert client.get("/_mock/events/wait", params={"timeout": value}).status_code == 422


def test_refuse_repeated_query_parameter(client: TestClient) -> None:
    """A parameter sent twice is refused rather than silently taking the last value."""
    response = client.get("/_mock/events?user_id=a&user_id=b")
    assert response.status_code == 422
    assert response.json()["problems"][0]["path"] == "$.query.user_id"


def test_refuse_integer_written_as_decimal(client: TestClient) -> None:
    """`before_id=0.0` is not a whole number, though pydantic would coerce it."""
    response = client.get("/_mock/events?before_id=0.0")
    assert response.status_code == 422
    assert response.json()["problems"][0]["code"] == "int_parsing"
