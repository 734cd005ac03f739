"""Callback Actions over real sockets: a mock fires rules at a receiver the tests steer."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from mock_ft.crm import create_app
from mock_ft.crm.runner import ServerThread
from mock_ft.settings import Settings
from tests import web
from tests.conftest import KEY_HEADERS
from tests.ft_events import ft_event


def _receiver() -> FastAPI:
    """Records every request; each path answers its own way."""
    app = FastAPI()
    app.state.seen = []
    app.state.release = threading.Event()  # what `/block/...` waits for
    tries: Counter[str] = Counter()

    @app.api_route("/{name}/{rest:path}", methods=["GET", "POST"], response_model=None)
    async def receive(name: str, rest: str, request: Request) -> Any:
        body = await request.body()
        app.state.seen.append((name, rest, dict(request.headers), body))
        key = f"{name}:{request.headers.get('x-fasttrack-id')}"
        tries[key] += 1
        if name == "flaky" and tries[key] <= 2:
            return JSONResponse({"error": "down"}, status_code=500)
        if name == "busy" and tries[key] == 1:
            return JSONResponse(
                {"error": "slow down"}, status_code=429, headers={"Retry-After": "0"}
            )
        if name == "hang":
            await asyncio.sleep(10)
        if name == "block":
            await asyncio.to_thread(app.state.release.wait, 120)
        if name == "reject":
            return JSONResponse({"error": "bad"}, status_code=400)
        if name == "redirect":  # to the same server under another origin (localhost)
            elsewhere = f"http://localhost:{request.url.port}/ok/stolen"
            return JSONResponse({}, status_code=307, headers={"Location": elsewhere})
        return {"data": "Success"}

    return app


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[str, FastAPI]]:
    app = _receiver()
    with ServerThread(app) as server:
        yield server.url, app


@pytest.fixture
def mock(tmp_path: Path, receiver: tuple[str, FastAPI]) -> Iterator[str]:
    settings = Settings(
        journal=str(tmp_path / "journal.sqlite3"),
        callback_api_key="k3y-default",
        callback_allowed_origins=[receiver[0]],
    )
    with ServerThread(create_app(settings)) as server:
        yield server.url


def _add_rule(mock: str, url: str, **extra: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "id": "r1",
        "trigger": {"event": "PAYMENT", "where": {"type": "Credit"}},
        "request": {"url": url, "body": {"user_id": ["#UserId#"], "amount": "{event.amount}"}},
        "backoff_seconds": 0.01,
        **extra,
    }
    response = web.post(f"{mock}/_mock/callbacks/rules", json=rule)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _send(mock: str, event_type: str = "PAYMENT", **fields: Any) -> int:
    path, payload = ft_event(event_type, **fields)
    response = web.post(mock + path, json=payload, headers=KEY_HEADERS)
    assert response.status_code == 200, response.text
    return int(response.json()["event_id"])


def _callbacks(mock: str, count: int = 1, timeout: float = 60.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        data: list[dict[str, Any]] = web.get(f"{mock}/_mock/callbacks").json()["data"]
        if len(data) >= count or time.monotonic() > deadline:
            return data
        time.sleep(0.02)


def test_retry_receiver_that_fails_twice(mock: str, receiver: tuple[str, FastAPI]) -> None:
    """500, 500, then 200: three attempts, the same X-Fasttrack-Id each time, ok in the end."""
    _add_rule(mock, f"{receiver[0]}/flaky/a")
    _send(mock, payment_id="flaky-1")
    [record] = _callbacks(mock)
    assert [a["status_code"] for a in record["attempts"]] == [500, 500, 200]
    assert record["ok"] is True
    ids = {h["x-fasttrack-id"] for name, _, h, _ in receiver[1].state.seen if name == "flaky"}
    assert ids == {record["request_headers"]["X-Fasttrack-Id"]}


def test_report_receiver_that_never_answers(mock: str, receiver: tuple[str, FastAPI]) -> None:
    """A receiver that hangs is given up after the timeout of each attempt, and reported."""
    _add_rule(mock, f"{receiver[0]}/hang/a", timeout_seconds=0.3, retries=1)
    _send(mock, payment_id="hang-1")
    [record] = _callbacks(mock)
    assert record["ok"] is False
    assert record["error"] == "no answer within 0.3 s (the rule's timeout_seconds)"
    assert [a["status_code"] for a in record["attempts"]] == [None, None]


def test_keep_ingesting_while_receiver_hangs(mock: str, receiver: tuple[str, FastAPI]) -> None:
    """Callbacks run off the ingest path: events are answered while a call hangs (until the
    test lets the receiver answer)."""
    receiver[1].state.release.clear()
    _add_rule(mock, f"{receiver[0]}/block/b", timeout_seconds=60, retries=0)
    _send(mock, payment_id="h-1")
    for number in range(20):
        _send(mock, type="Debit", payment_id=f"h-next-{number}")
    assert web.get(f"{mock}/_mock/callbacks").json()["count"] == 0  # still hanging
    receiver[1].state.release.set()
    [record] = _callbacks(mock)
    assert record["ok"] is True


def test_give_up_on_client_error(mock: str, receiver: tuple[str, FastAPI]) -> None:
    """A 4xx other than 429 is the receiver's verdict: no retry."""
    _add_rule(mock, f"{receiver[0]}/reject/a")
    _send(mock, payment_id="reject-1")
    [record] = _callbacks(mock)
    assert (len(record["attempts"]), record["error"]) == (1, "answered 400")


def test_retry_after_429(mock: str, receiver: tuple[str, FastAPI]) -> None:
    """429 is retried (after Retry-After)."""
    _add_rule(mock, f"{receiver[0]}/busy/a")
    _send(mock, payment_id="busy-1")
    [record] = _callbacks(mock)
    assert [a["status_code"] for a in record["attempts"]] == [429, 200]


def test_send_fasttrack_headers_and_key(mock: str, receiver: tuple[str, FastAPI]) -> None:
    """The receiver gets x-api-key and FT's X-Fasttrack-* headers from the rule."""
    _add_rule(mock, f"{receiver[0]}/ok/headers", activity_id=77, action_id=5)
    _send(mock, payment_id="hdr-1")
    _callbacks(mock)
    [headers] = [h for name, rest, h, _ in receiver[1].state.seen if rest == "headers"]
    assert headers["x-api-key"] == "k3y-default"
    assert (headers["x-fasttrack-activityid"], headers["x-fasttrack-actionid"]) == ("77", "5")
    assert len(headers["x-fasttrack-triggerhash"]) == 32
    assert headers["content-type"] == "application/json"


def test_never_journal_callback_key(tmp_path: Path, receiver: tuple[str, FastAPI]) -> None:
    """The key is masked in the record, the rule listing and the journal file."""
    journal = tmp_path / "journal.sqlite3"
    settings = Settings(journal=str(journal), callback_allowed_origins=[receiver[0]])
    with ServerThread(create_app(settings)) as server:
        _add_rule(
            server.url,
            f"{receiver[0]}/ok/secret",
            request={
                "url": f"{receiver[0]}/ok/secret",
                "api_key": "s3cret-key",
                "body": {"a": 1},
            },
        )
        _send(server.url, payment_id="secret-1")
        [record] = _callbacks(server.url)
        rules = web.get(f"{server.url}/_mock/callbacks/rules").json()
    assert record["request_headers"]["x-api-key"] == "***"
    assert rules["data"][0]["request"]["api_key"] == "***"
    with sqlite3.connect(journal) as conn:
        dump = "\n".join(conn.iterdump())
    assert "s3cret-key" not in dump
    assert "s3cret-key" not in repr(rules)


def test_render_body_from_event_and_player(mock: str, receiver: tuple[str, FastAPI]) -> None:
    """The body is rendered with typed event and player values; the record keeps it."""
    body = {"ids": ["#UserId#"], "amount": "{event.amount}", "n": "{player.deposit_count}"}
    _add_rule(
        mock, f"{receiver[0]}/ok/render", request={"url": f"{receiver[0]}/ok/render", "body": body}
    )
    _send(mock, payment_id="r-1", amount=12.5, user_id="88")
    [record] = _callbacks(mock)
    assert record["request_body"] == {"ids": ["88"], "amount": 12.5, "n": 1}
    [sent] = [b for _, rest, _, b in receiver[1].state.seen if rest == "render"]
    assert httpx.Response(200, content=sent).json() == record["request_body"]


def test_fire_only_when_player_qualifies(mock: str, receiver: tuple[str, FastAPI]) -> None:
    """A withdrawal without an active bonus fires nothing; after a BONUS it fires, once."""
    trigger = {
        "event": "PAYMENT",
        "where": {"type": "Debit"},
        "player": {"active_bonus_count": {"gt": 0}},
    }
    _add_rule(mock, f"{receiver[0]}/ok/qualify", trigger=trigger)
    _send(mock, type="Debit", status="Requested", payment_id="w-1")
    _send(mock, "BONUS", user_bonus_id="ub-9", status="Ongoing")
    qualifying = _send(mock, type="Debit", status="Requested", payment_id="w-2")
    _callbacks(mock)
    assert web.get(f"{mock}/_mock/idle", params={"timeout": 60}, timeout=90).status_code == 200
    records = web.get(f"{mock}/_mock/callbacks").json()["data"]
    assert [r["event_id"] for r in records] == [qualifying]


def test_show_callbacks_of_event(mock: str, receiver: tuple[str, FastAPI]) -> None:
    """GET /_mock/events/{id} lists the callbacks the event triggered."""
    _add_rule(mock, f"{receiver[0]}/ok/detail")
    event_id = _send(mock, payment_id="d-1")
    [record] = _callbacks(mock)
    detail = web.get(f"{mock}/_mock/events/{event_id}").json()
    assert [c["id"] for c in detail["callbacks"]] == [record["id"]]


def test_send_get_callback_without_body(mock: str, receiver: tuple[str, FastAPI]) -> None:
    """A GET rule sends no body; placeholders in its URL are filled and encoded."""
    request = {"url": f"{receiver[0]}/ok/get/#UserId#", "method": "GET"}
    _add_rule(mock, "", request=request)
    _send(mock, payment_id="g-1", user_id="u 1")
    [record] = _callbacks(mock)
    assert (record["method"], record["url"], record["request_body"]) == (
        "GET",
        f"{receiver[0]}/ok/get/u%201",
        None,
    )


def test_filter_callbacks(mock: str, receiver: tuple[str, FastAPI]) -> None:
    """/_mock/callbacks filters by rule, user and outcome."""
    _add_rule(mock, f"{receiver[0]}/ok/f")
    _add_rule(mock, f"{receiver[0]}/reject/f", id="r2")
    _send(mock, payment_id="f-1")
    _callbacks(mock, count=2)
    failed = web.get(f"{mock}/_mock/callbacks", params={"ok": "false"}).json()["data"]
    by_rule = web.get(f"{mock}/_mock/callbacks", params={"rule_id": "r1"}).json()["data"]
    assert [r["rule_id"] for r in failed] == ["r2"]
    assert [r["rule_id"] for r in by_rule] == ["r1"]


def test_never_follow_redirect_to_other_origin(mock: str, receiver: tuple[str, FastAPI]) -> None:
    """A 307 to another origin is the answer, not a new target: the key stays where allowed."""
    _add_rule(mock, f"{receiver[0]}/redirect/away")
    _send(mock, payment_id="redirect-1")
    [record] = _callbacks(mock)
    assert (record["ok"], record["status_code"]) == (False, 307)
    assert [rest for _, rest, _, _ in receiver[1].state.seen if rest == "stolen"] == []
