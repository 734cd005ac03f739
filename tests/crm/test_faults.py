"""Fault rules through /_mock/faults: the mock answers like a failing FT, on purpose."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi.testclient import TestClient

from mock_ft.faults import FaultInjector
from mock_ft.samples import sample_events
from tests.conftest import JSON_HEADERS, KEY_HEADERS

SAMPLES = {route.event_type: payload for route, payload in sample_events()}
PAYMENT_PATH = "/v1/integration/payment"
LOGIN_PATH = "/v2/integration/login"


def _post(client: TestClient, path: str, payload: dict[str, Any]) -> Any:
    return client.post(path, json=payload, headers=KEY_HEADERS)


def _payment(payment_id: str, user_id: str = "7001") -> dict[str, Any]:
    return {**SAMPLES["PAYMENT"], "payment_id": payment_id, "user_id": user_id}


def test_answer_injected_status_with_retry_after(client: TestClient) -> None:
    """A 503 rule with Retry-After answers once, journaled as faulted; then FT accepts."""
    rule = client.post("/_mock/faults", json={"status": 503, "retry_after": 2, "times": 1})
    assert rule.status_code == 201
    first = _post(client, PAYMENT_PATH, _payment("p1"))
    second = _post(client, PAYMENT_PATH, _payment("p1"))
    assert (first.status_code, first.headers["retry-after"]) == (503, "2")
    assert first.json()["error"] == "injected_fault"
    assert second.status_code == 200
    verdicts = [e["verdict"] for e in client.get("/_mock/events").json()["data"]]
    assert verdicts == ["faulted", "accepted"]


def test_fail_first_attempts_of_each_event(client: TestClient) -> None:
    """`first_attempts: 2` fails every distinct event twice, then lets it through."""
    client.post("/_mock/faults", json={"status": 502, "first_attempts": 2})
    statuses = [_post(client, PAYMENT_PATH, _payment("a")).status_code for _ in range(3)]
    statuses += [_post(client, PAYMENT_PATH, _payment("b")).status_code for _ in range(3)]
    assert statuses == [502, 502, 200, 502, 502, 200]


def test_match_only_named_event_type_and_user(client: TestClient) -> None:
    """A rule for one event type and user leaves other events and users alone."""
    client.post("/_mock/faults", json={"status": 429, "event_type": "PAYMENT", "user_id": "u1"})
    assert _post(client, PAYMENT_PATH, _payment("x", user_id="u1")).status_code == 429
    assert _post(client, PAYMENT_PATH, _payment("y", user_id="u2")).status_code == 200
    assert _post(client, LOGIN_PATH, {**SAMPLES["LOGIN_V2"], "user_id": "u1"}).status_code == 200


def test_fault_before_authentication(client: TestClient) -> None:
    """Like a load balancer in front of FT, a fault answers even a request without a key."""
    client.post("/_mock/faults", json={"status": 500})
    response = client.post(PAYMENT_PATH, json=_payment("p"))
    assert response.status_code == 500
    assert "retry-after" not in response.headers


def test_repeat_fault_sequence_under_one_seed() -> None:
    """The same seed gives the same sequence of failed and passed attempts."""

    async def decisions(faults: FaultInjector) -> list[bool]:
        return [await faults.decide("rest", "/p", "PAYMENT", b"{}") is not None for _ in range(200)]

    def sequence(seed: int) -> list[bool]:
        faults = FaultInjector(seed=seed)
        faults.add(status=503, probability=0.3)
        return asyncio.run(decisions(faults))

    assert sequence(42) == sequence(42)
    assert sequence(42) != sequence(43)
    assert 30 < sum(sequence(42)) < 90


def test_list_remove_and_clear_rules(client: TestClient) -> None:
    """Rules are listed oldest first with their hits; removed one by one or all at once."""
    first = client.post("/_mock/faults", json={"status": 503, "event_type": "LOGIN_V2"}).json()
    client.post("/_mock/faults", json={"status": 500, "event_type": "CASINO"})
    _post(client, LOGIN_PATH, SAMPLES["LOGIN_V2"])
    listed = client.get("/_mock/faults").json()["data"]
    assert [(r["status"], r["hits"]) for r in listed] == [(503, 1), (500, 0)]
    assert client.delete(f"/_mock/faults/{first['id']}", headers=JSON_HEADERS).json() == {
        "removed": 1
    }
    assert client.delete(f"/_mock/faults/{first['id']}", headers=JSON_HEADERS).status_code == 404
    assert client.delete("/_mock/faults", headers=JSON_HEADERS).json() == {"removed": 1}
    assert client.get("/_mock/faults").json()["data"] == []


def test_reject_boolean_where_a_number_belongs(client: TestClient) -> None:
    """JSON true is not a count: a precise 422 names the field."""
    response = client.post("/_mock/faults", json={"status": 503, "times": True})
    assert response.status_code == 422
    assert response.json()["problems"][0]["path"] == "$.body.times"


def test_list_every_method_in_allow(client: TestClient) -> None:
    """A wrong method on /_mock/faults lists all the methods the path supports."""
    response = client.put("/_mock/faults", headers=JSON_HEADERS)
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, GET, POST"
    assert response.json()["error"] == "method_not_allowed"
