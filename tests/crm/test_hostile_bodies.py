"""Hostile event bodies through a real `mock-ft serve`: refused or accepted, every view renders.

Deep nesting, lone surrogates, integers beyond 64 bits, NaN, duplicate keys (issue 20, items 4,
5 and 8). Each attempt is then read back through every view the dashboard and the pytest plugin
use, including the live stream.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from mock_ft.journal.jsontext import MAX_DEPTH
from mock_ft.samples import ft_timestamp
from tests.conftest import KEY_HEADERS
from tests.crm.views import stream_first
from tests.waiting import HANG_GUARD

pytestmark = pytest.mark.slow
JSON_HEADERS = {**KEY_HEADERS, "Content-Type": "application/json"}
PAYMENT_PATH = "/v1/integration/payment"


def _payment(**extra: Any) -> dict[str, Any]:
    return {
        "user_id": f"u-{uuid.uuid4().hex[:8]}",
        "payment_id": f"p-{uuid.uuid4().hex[:8]}",
        "amount": 25.5,
        "currency": "EUR",
        "status": "Approved",
        "type": "Credit",
        "vendor_id": "12",
        "origin": "sub.example.com",
        "timestamp": ft_timestamp(),
        **extra,
    }


def _nested(levels: int) -> Any:
    """A value that is `levels` containers deep: {"a": {"a": ... {}}}."""
    value: Any = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


def _post(client: httpx.Client, body: str | bytes) -> httpx.Response:
    return client.post(PAYMENT_PATH, content=body, headers=JSON_HEADERS)


def _assert_every_view_renders(client: httpx.Client, event_id: int) -> dict[str, Any]:
    """Every read view answers 2xx with this attempt in it; returns its /_mock/events entry."""
    page = client.get("/_mock/events", params={"after_id": event_id - 1, "limit": 1})
    assert page.status_code == 200, page.text
    [entry] = page.json()["data"]
    assert entry["id"] == event_id
    detail = client.get(f"/_mock/events/{event_id}")
    assert detail.status_code == 200, detail.text
    verdict = entry["verdict"]
    waited = client.get("/_mock/events/wait", params={"verdict": verdict, "timeout": 5})
    assert waited.status_code == 200, waited.text
    assert stream_first(client, event_id)[0]["id"] == event_id
    for path in ("/_mock/stats", "/_mock/delivery", "/_mock/players", "/_mock/charts"):
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.text)
    if verdict == "accepted" and entry["user_id"]:
        player = client.get(f"/_mock/players/{entry['user_id']}")
        assert player.status_code == 200, player.text
    return dict(entry)


@pytest.fixture
def client(mock_url: str) -> Any:
    with httpx.Client(base_url=mock_url, timeout=HANG_GUARD) as http:
        yield http


def test_accept_body_nested_to_the_depth_limit(client: httpx.Client) -> None:
    """A field as deep as the documented limit is accepted and every view shows it."""
    body = _payment(extra=_nested(MAX_DEPTH - 1))  # the body itself is the first level
    response = _post(client, json.dumps(body))
    assert response.status_code == 200, response.text
    entry = _assert_every_view_renders(client, response.json()["event_id"])
    assert entry["payload"] == body


def test_refuse_body_nested_beyond_depth_limit(client: httpx.Client) -> None:
    """One level more is 400 `too_deep` naming the JSON path of the level beyond the limit."""
    response = _post(client, json.dumps(_payment(extra=_nested(MAX_DEPTH))))
    assert response.status_code == 400
    answer = response.json()
    assert answer["error"] == "too_deep"
    [problem] = answer["problems"]
    assert problem["path"] == "$.extra" + ".a" * (MAX_DEPTH - 1)
    _assert_every_view_renders(client, answer["event_id"])


@pytest.mark.parametrize("levels", [300, 5_000])
def test_show_refused_deep_attempt_in_every_view(client: httpx.Client, levels: int) -> None:
    """A body deeper than any decoder takes is refused, journaled and readable back."""
    body = '{"user_id": "7001", "extra": ' + "[" * levels + "]" * levels + "}"
    response = _post(client, body)
    assert response.status_code == 400
    answer = response.json()
    assert answer["error"] == "too_deep"
    assert answer["problems"][0]["path"] == "$.extra" + "[0]" * (MAX_DEPTH - 1)
    entry = _assert_every_view_renders(client, answer["event_id"])
    assert entry["payload"] == body  # too deep to show as JSON: shown as the text received


def test_show_integers_beyond_64_bits_exactly(client: httpx.Client) -> None:
    """Integers of any size are accepted in free fields and shown exactly, stream included."""
    huge = 2**200 + 1
    body = _payment(note_id=huge, negative=-(2**70), items=[2**64, 2**63])
    response = _post(client, json.dumps(body))
    assert response.status_code == 200, response.text
    event_id = response.json()["event_id"]
    entry = _assert_every_view_renders(client, event_id)
    assert entry["payload"] == body
    assert stream_first(client, event_id)[0]["payload"]["note_id"] == huge


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ('{"user_id": "\\ud800x", "payment_id": "p"}', "$.user_id"),
        ('{"user_id": "7001", "payment_id": "\\udfff"}', "$.payment_id"),
        ('{"user_id": "7001", "currency": "E\\udc00R"}', "$.currency"),
        ('{"user_id": "7001", "note": {"list": ["ok", "\\ud83d"]}}', "$.note.list[1]"),
        ('{"user_id": "7001", "\\ud800": 1}', "$['\\\\ud800']"),
    ],
)
def test_refuse_lone_surrogate_with_invalid_unicode(
    client: httpx.Client, body: str, path: str
) -> None:
    """A lone surrogate anywhere is 400 `invalid_unicode` with its path, journaled, viewable."""
    response = _post(client, body)
    assert response.status_code == 400, response.text
    answer = response.json()
    assert answer["error"] == "invalid_unicode"
    assert [p["path"] for p in answer["problems"]] == [path]
    entry = _assert_every_view_renders(client, answer["event_id"])
    assert (entry["verdict"], entry["payload"]) == ("rejected", body)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_report_position_of_non_json_number(client: httpx.Client, literal: str) -> None:
    """NaN, Infinity and numbers beyond float64 are refused with their real line and column."""
    response = _post(client, '{\n  "amount": ' + literal + "}")
    assert response.status_code == 400
    answer = response.json()
    assert answer["error"] == "malformed_json"
    assert "line 2 column 13" in answer["message"], answer["message"]
    _assert_every_view_renders(client, answer["event_id"])


def test_warn_duplicate_key_when_last_value_is_valid(client: httpx.Client) -> None:
    """FT keeps a duplicate key's last value (Go's encoding/json); the mock says so."""
    text = json.dumps(_payment())[:-1] + ', "amount": -5, "amount": 10.5}'
    response = _post(client, text)
    assert response.status_code == 200, response.text
    warnings = [w for w in response.json()["warnings"] if w["code"] == "duplicate_key"]
    assert [w["path"] for w in warnings] == ["$.amount"]
    assert "10.5" in warnings[0]["message"]
    entry = _assert_every_view_renders(client, response.json()["event_id"])
    assert entry["payload"]["amount"] == 10.5


def test_name_duplicate_key_when_last_value_is_refused(client: httpx.Client) -> None:
    """The reverse order is refused for the last value, and the duplicate is named with it."""
    text = json.dumps(_payment())[:-1] + ', "amount": 10.5, "amount": -5}'
    response = _post(client, text)
    assert response.status_code == 400
    problems = [(p["path"], p["code"]) for p in response.json()["problems"]]
    assert problems == [("$.amount", "duplicate_key"), ("$.amount", "minimum")]


def test_stream_keeps_line_separators_inside_one_data_line(client: httpx.Client) -> None:
    """U+2028, U+2029 and U+0085 in a value do not cut the live stream's `data:` line."""
    body = _payment(note="a\u2028b\u2029c\x85d")
    response = _post(client, json.dumps(body, ensure_ascii=False).encode())
    assert response.status_code == 200, response.text
    [shown] = stream_first(client, response.json()["event_id"])
    assert shown["payload"]["note"] == "a\u2028b\u2029c\x85d"
