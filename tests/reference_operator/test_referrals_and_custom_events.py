"""Platform support for the callback use cases: referrals, custom events, the callback key."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reference_operator import OperatorSettings
from reference_operator.db import SCHEMA, Database
from tests import web
from tests.reference_operator.conftest import (
    OperatorFactory,
    conforms,
    free_port,
    queued,
    wait_for_events,
    wait_until_up,
)

NOWHERE = "http://127.0.0.1:9"
KEY = {"X-Api-Key": "operator-local-key"}


@pytest.fixture
def client(make_operator: OperatorFactory) -> Iterator[TestClient]:
    with make_operator(ft_url=NOWHERE, retry_base_seconds=60) as operator:
        yield operator


def _player(client: TestClient, **body: Any) -> str:
    response = client.post("/platform/players", json=body or None)
    assert response.status_code == 201, response.text
    user_id: str = response.json()["user_id"]
    return user_id


def test_show_referrer_in_userdetails_segmentation(client: TestClient) -> None:
    """A referred player's userdetails add `segmentation.referred_by`, still in FT's shape."""
    referrer = _player(client)
    friend = _player(client, referred_by=referrer)
    details = client.get(f"/userdetails/{friend}", headers=KEY).json()
    assert details["segmentation"] == {"referred_by": referrer}
    assert conforms("UserDetails", details) == []


def test_omit_segmentation_for_unreferred_player(client: TestClient) -> None:
    """No referrer, no `segmentation`: exactly FT's 25 keys."""
    details = client.get(f"/userdetails/{_player(client)}", headers=KEY).json()
    assert "segmentation" not in details
    assert len(details) == 25


def test_refuse_unknown_referrer(client: TestClient) -> None:
    """An unknown `referred_by` is a 404 naming the field; no player is created."""
    response = client.post("/platform/players", json={"user_id": "new1", "referred_by": "ghost"})
    assert response.status_code == 404
    assert "referred_by 'ghost'" in response.json()["error"]
    assert client.get("/platform/players/new1").status_code == 404


def test_show_loyalty_and_referrer_on_platform_player(client: TestClient) -> None:
    """The platform view has `loyalty_points` (0 before any sync) and `referred_by`."""
    referrer = _player(client)
    friend = _player(client, referred_by=referrer)
    shown = [client.get(f"/platform/players/{u}").json() for u in (referrer, friend)]
    assert [(p["loyalty_points"], p["referred_by"]) for p in shown] == [(0, None), (0, referrer)]


def test_publish_custom_event(client: TestClient) -> None:
    """The chat bonus bot's request is published as CUSTOM with the fields given."""
    user = _player(client)
    body = {"notification_type": "chat_bonus_request", "data": {"bonus_code": "CHATBONUS5"}}
    response = client.post(f"/platform/players/{user}/custom-events", json=body)
    assert response.status_code == 201
    assert response.json() == {"user_id": user, "notification_type": "chat_bonus_request"}
    [event] = queued(client, "CUSTOM")
    assert (event["user_id"], event["notification_type"], event["data"]) == (
        user,
        "chat_bonus_request",
        {"bonus_code": "CHATBONUS5"},
    )


@pytest.mark.parametrize(
    "body",
    [
        {"notification_type": "", "data": {}},
        {"notification_type": "x" * 101, "data": {}},
        {"notification_type": "chat", "data": {"n": 5}},
    ],
    ids=["empty-type", "long-type", "non-string-value"],
)
def test_refuse_invalid_custom_event(client: TestClient, body: dict[str, Any]) -> None:
    """A type outside 1-100 characters or a non-string data value is a 400; nothing queued."""
    user = _player(client)
    response = client.post(f"/platform/players/{user}/custom-events", json=body)
    assert response.status_code == 400
    assert queued(client, "CUSTOM") == []


def test_deliver_custom_events_valid(make_operator: OperatorFactory, mock_url: str) -> None:
    """Both CUSTOM sources (loyalty sync, platform) reach FT accepted, without warnings."""
    with make_operator(ft_url=mock_url) as client:
        user = _player(client)
        body = {"notification_type": "chat_bonus_request", "data": {"bonus_code": "CHATBONUS5"}}
        client.post(f"/platform/players/{user}/custom-events", json=body)
        client.post(
            "/callbacks/loyalty",
            json={"user_id": user, "turnover": 12},
            headers={"x-api-key": "operator-callback-key"},
        )
        events = wait_for_events(mock_url, 2, type="CUSTOM", user_id=user)
    assert [(e["verdict"], e["errors"], e["warnings"]) for e in events] == [
        ("accepted", [], [])
    ] * 2


def test_add_referrer_column_to_older_database(tmp_path: Path) -> None:
    """A database written before referrals gains `referred_by` when opened."""
    path = tmp_path / "old.sqlite3"
    old_schema = SCHEMA.replace(",\n    referred_by TEXT", "")
    assert old_schema != SCHEMA
    with sqlite3.connect(path) as conn:
        conn.executescript(old_schema)
    db = Database(str(path))
    with db.read() as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(players)")}
    db.close()
    assert "referred_by" in columns


def test_read_callback_key_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """`REFERENCE_OPERATOR_CALLBACK_API_KEY` sets the callback key."""
    monkeypatch.setenv("REFERENCE_OPERATOR_CALLBACK_API_KEY", "from-env")
    assert OperatorSettings().callback_api_key.get_secret_value() == "from-env"


@pytest.mark.slow
def test_serve_with_callback_key_flag(tmp_path: Path) -> None:
    """`--callback-api-key` replaces the default key, and is never printed."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable, "-m", "reference_operator", "serve", "--port", str(port),
            "--database", str(tmp_path / "platform.sqlite3"), "--ft-url", NOWHERE,
            "--callback-api-key", "s3cret-callback",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base)
        url, body = f"{base}/callbacks/loyalty", {"user_id": "nobody", "turnover": 1}
        flag = web.post(url, json=body, headers={"x-api-key": "s3cret-callback"})
        default = web.post(url, json=body, headers={"x-api-key": "operator-callback-key"})
        assert (flag.status_code, default.status_code) == (404, 401)  # 404: past the key
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=10)
    assert "s3cret-callback" not in stderr
