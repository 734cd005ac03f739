"""The round-trip property: whatever ingest accepts or refuses, every view can read it back.

Hypothesis writes hostile bodies (deep nesting, huge numbers, unicode edge cases including lone
surrogates, duplicate keys, NaN) around real FT events and sends them to one real `mock-ft serve`;
each answer must be 200 or a documented 400, and every view must then answer 2xx with it.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_ft.samples import sample_events
from tests.conftest import KEY_HEADERS
from tests.crm.views import stream_first

pytestmark = pytest.mark.slow
ROUTES = sample_events()
HEADERS = {**KEY_HEADERS, "Content-Type": "application/json"}

_UNICODE_EDGES = st.sampled_from(
    ["\ud800", "\udfff", "\ud83d\ude00", "\x00", "\u2028", "\ufeff", "\uffff", "\U0010ffff", "é"]
)
_TEXT = st.lists(st.one_of(st.text(max_size=8), _UNICODE_EDGES), max_size=4).map("".join)
_NUMBERS = st.one_of(
    st.integers(min_value=-(2**300), max_value=2**300),
    st.sampled_from([2**63 - 1, 2**63, 2**64, -(2**63) - 1, 0, -0]),
    st.floats(allow_nan=False, allow_infinity=False),
)
_SCALARS = st.one_of(st.none(), st.booleans(), _NUMBERS, _TEXT)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_TEXT, inner, max_size=4)),
    max_leaves=12,
)


def _nest(value: Any, levels: int) -> Any:
    for _ in range(levels):
        value = {"n": value}
    return value


@st.composite
def hostile_bodies(draw: st.DrawFn) -> tuple[str, str, bytes]:
    """(method, FT path, body): a sample event with hostile fields, then hostile edits."""
    route, sample = draw(st.sampled_from(ROUTES))
    event = dict(sample)
    for key, value in draw(st.dictionaries(_TEXT, _VALUES, max_size=3)).items():
        event[key] = value
    if draw(st.booleans()):
        field = draw(st.sampled_from(sorted(event)))
        event[field] = draw(_VALUES)
    if draw(st.integers(0, 4)) == 0:
        event["deep"] = _nest([], draw(st.integers(1, 300)))
    text = json.dumps(event, ensure_ascii=True)
    edit = draw(st.sampled_from(["none", "duplicate", "constant", "raw_unicode", "deep_text"]))
    if edit == "duplicate":
        key = draw(st.sampled_from(sorted(event)))
        text = "{" + json.dumps(key) + ": " + json.dumps(draw(_VALUES)) + ", " + text[1:]
    elif edit == "constant":
        text = text[:-1] + ', "x": ' + draw(st.sampled_from(["NaN", "-Infinity", "1e999"])) + "}"
    elif edit == "raw_unicode":
        text = json.dumps(event, ensure_ascii=False)
    elif edit == "deep_text":
        levels = draw(st.integers(1000, 3000))
        text = text[:-1] + ', "d": ' + "[" * levels + "]" * levels + "}"
    body = text.encode("utf-8", errors="surrogatepass")  # raw surrogates: invalid UTF-8
    return route.method, route.path, body


def _assert_views(client: httpx.Client, event_id: int, verdict: str, user_id: Any) -> None:
    page = client.get("/_mock/events", params={"after_id": event_id - 1, "limit": 1})
    assert page.status_code == 200, page.text
    assert client.get(f"/_mock/events/{event_id}").status_code == 200
    waited = client.get("/_mock/events/wait", params={"verdict": verdict, "timeout": 5})
    assert waited.status_code == 200, waited.text
    assert stream_first(client, event_id)[0]["id"] == event_id
    dashboard = ("/_mock/charts", "/_mock/runs", "/_mock/lookups", "/_mock/callbacks")
    for path in ("/_mock/stats", "/_mock/delivery", "/_mock/players", *dashboard):
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.text)
    if verdict == "accepted" and isinstance(user_id, str) and user_id:
        player = client.get(f"/_mock/players/{quote(user_id, safe='')}")
        assert player.status_code in (200, 404), player.text


@pytest.fixture(scope="module")
def client(mock_server: str) -> Any:
    with httpx.Client(base_url=mock_server, timeout=30) as http:
        yield http


@settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(request=hostile_bodies())
def test_read_back_every_hostile_body_in_every_view(
    client: httpx.Client, request: tuple[str, str, bytes]
) -> None:
    """Accepted (200) or refused (400), every attempt is shown by every view."""
    method, path, body = request
    response = client.request(method, path, content=body, headers=HEADERS)
    assert response.status_code in (200, 400), (response.status_code, response.text, body[:200])
    answer = response.json()
    verdict = "accepted" if response.status_code == 200 else "rejected"
    try:
        user_id = json.loads(body).get("user_id")
    except (ValueError, RecursionError, AttributeError):
        user_id = None
    _assert_views(client, answer["event_id"], verdict, user_id)
