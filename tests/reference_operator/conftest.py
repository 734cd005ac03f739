"""Fixtures: a real `mock-ft serve` process, and reference operators wired to it."""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest
import yaml
from fastapi.testclient import TestClient

from reference_operator import OperatorSettings, create_app
from tests import web
from tests.waiting import HANG_GUARD, pauses

OperatorFactory = Callable[..., Any]
CONTRACT = yaml.safe_load(
    (Path(__file__).parents[2] / "contracts" / "operator-api.yaml").read_text()
)


def conforms(component: str, body: Any) -> list[str]:
    """Violations of `body` against components.schemas[component] of the Operator API contract."""
    schema = {"$ref": f"#/components/schemas/{component}", "components": CONTRACT["components"]}
    validator = jsonschema_rs.Draft202012Validator(schema, validate_formats=True)
    return [f"{list(e.instance_path)}: {e.message}" for e in validator.iter_errors(body)]


@pytest.fixture(autouse=True)
def clean_operator_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No REFERENCE_OPERATOR_* variable from the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith("REFERENCE_OPERATOR_"):
            monkeypatch.delenv(name)


@pytest.fixture
def make_operator(tmp_path: Path) -> Callable[..., Any]:
    """`with make_operator(**settings) as client:` an operator (lifespan, dispatcher running)."""

    @contextmanager
    def factory(**overrides: Any) -> Iterator[TestClient]:
        values: dict[str, Any] = {"database": str(tmp_path / "platform.sqlite3"), **overrides}
        with TestClient(create_app(OperatorSettings(**values))) as client:
            yield client

    return factory


def journal(mock_url: str, **params: Any) -> list[dict[str, Any]]:
    """Every journaled attempt (oldest first)."""
    response = web.get(f"{mock_url}/_mock/events", params={"limit": 1000, **params})
    response.raise_for_status()
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def wait_for_events(
    mock_url: str, count: int, timeout: float = HANG_GUARD, **params: Any
) -> list[Any]:
    """Long-poll the mock until `count` matching events are journaled."""
    response = web.get(
        f"{mock_url}/_mock/events/wait",
        params={"count": count, "timeout": timeout, **params},
        timeout=timeout + 5,
    )
    assert response.status_code == 200, response.text
    data: list[Any] = response.json()["data"]
    return data


def outbox_settled(client: TestClient, stall: float = HANG_GUARD) -> dict[str, Any]:
    """Wait until the operator's outbox has nothing pending; return its counts. The guard is on
    progress, not on the whole drain: it gives up (returning what is pending) only when the
    count has not moved for `stall` seconds, however long a loaded machine takes to drain."""
    seen, since = None, time.monotonic()
    looks = pauses(longest=0.25)  # a look counts the rows of an outbox of up to 10,000
    while True:
        # Counts only: the recent rows would cost this polling loop more than the counts do.
        state: dict[str, Any] = client.get("/platform/outbox", params={"limit": 0}).json()
        if state["pending"] == 0:
            return state
        if state["pending"] != seen:
            seen, since = state["pending"], time.monotonic()
        elif time.monotonic() - since > stall:
            return state
        time.sleep(next(looks))


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_up(base: str, timeout: float = HANG_GUARD) -> None:
    """Wait until a served operator answers at `base`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if web.get(f"{base}/openapi.json", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{base} did not come up")


def queued(client: TestClient, event_type: str) -> list[dict[str, Any]]:
    """Payloads of `event_type` in the operator's outbox, oldest first."""
    platform = client.app.state.platform  # type: ignore[attr-defined]
    with platform.db.read() as conn:
        rows = conn.execute(
            "SELECT payload FROM outbox WHERE event_type = ? ORDER BY id", (event_type,)
        ).fetchall()
    return [json.loads(row[0]) for row in rows]
