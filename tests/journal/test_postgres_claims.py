"""Lookups and callback actions on two `mock-ft serve` processes sharing one PostgreSQL journal:
each runs once per event across the two, and survives the instance that claimed it dying
(issue 25). The operator is a real HTTP server in the test that holds the calls it is told to."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from mock_ft.settings import LOOKUP_CONCURRENCY
from tests import web
from tests.conftest import KEY_HEADERS
from tests.ft_events import ft_event
from tests.postgres import scratch_database
from tests.serve_process import serve_process
from tests.waiting import HANG_GUARD, wait_until


class Operator:
    """Answers every request 200 `{}` and notes it; holds the ones `hold` picks until released."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, str]]] = []
        self.held = 0
        self.hold: Callable[[int], bool] = lambda number: False  # by the call's number (0: first)
        self.released = threading.Event()
        self._lock = threading.Lock()

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        with self._lock:
            number = len(self.calls)
            self.calls.append((handler.path, dict(handler.headers)))
            hold = self.hold(number)
            self.held += hold
        length = int(handler.headers.get("Content-Length") or 0)
        handler.rfile.read(length)
        if hold:
            self.released.wait(HANG_GUARD)
        body = b"{}"
        try:
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except OSError:  # its caller was killed meanwhile
            pass


@contextmanager
def operator_server() -> Iterator[tuple[str, Operator]]:
    operator = Operator()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            operator.answer(self)

        def do_POST(self) -> None:
            operator.answer(self)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", operator
    finally:
        operator.released.set()
        server.shutdown()
        server.server_close()


@dataclass(frozen=True)
class Cluster:
    """Two instances on one journal, A's process, the operator they call."""

    a: str
    b: str
    process_a: subprocess.Popen[str]
    operator: Operator
    operator_url: str
    journal: str

    def kill_a(self) -> None:
        """kill -9 A and wait until it is gone."""
        os.kill(self.process_a.pid, signal.SIGKILL)
        self.process_a.wait(HANG_GUARD)

    def unfinished(self) -> int:
        """Reactions still claimed in the journal: none once every outcome is journaled."""
        import psycopg

        with psycopg.connect(self.journal) as conn:
            row = conn.execute("SELECT count(*) FROM reactions").fetchone()
        assert row is not None
        return int(row[0])


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    """Two instances on one fresh journal, with a short claim lease so takeovers come soon."""
    with scratch_database() as url, operator_server() as (operator_url, operator):
        env = {
            "MOCK_FT_FRESHNESS_TARGET_MS": str(24 * 3600 * 1000),
            "MOCK_FT_OPERATOR_URL": operator_url,
            "MOCK_FT_REACTION_LEASE_SECONDS": "1",
            "MOCK_FT_LOOKUP_TIMEOUT_SECONDS": str(HANG_GUARD),
            "MOCK_FT_LOOKUP_BUDGET_MS": str(HANG_GUARD * 1000),
        }
        with (
            serve_process("--journal", url, env=env) as (a, process_a),
            serve_process("--journal", url, env=env) as (b, _),
        ):
            yield Cluster(a, b, process_a, operator, operator_url, url)


def _post(base: str, event_type: str, **fields: Any) -> int:
    """Send an event as FT's ingest API takes it (consents are PUT); its id."""
    path, body = ft_event(event_type, **fields)
    method = "PUT" if event_type == "USER_CONSENTS_V2" else "POST"
    answer = web.request(
        method, f"{base}{path}", json=body, headers=KEY_HEADERS, timeout=HANG_GUARD
    )
    assert answer.status_code == 200, answer.text
    event_id: int = answer.json()["event_id"]
    return event_id


def _listed(base: str, what: str, **params: Any) -> list[dict[str, Any]]:
    answer = web.get(f"{base}/_mock/{what}", params={**params, "limit": 1000}, timeout=60)
    answer.raise_for_status()
    data: list[dict[str, Any]] = answer.json()["data"]
    return data


def _claims(base: str) -> dict[str, int]:
    """An instance's claims as /_mock/health reports them."""
    claims: dict[str, int] = web.get(f"{base}/_mock/health", timeout=60).json()["claims"]
    return claims


def test_run_lookup_on_other_instance_after_claimer_killed(cluster: Cluster) -> None:
    """A claims the lookup of an event posted to it and calls the operator, which holds the
    call until A is killed: B takes the lookup over after the lease, and it is journaled once."""
    operator = cluster.operator
    operator.hold = lambda number: number == 0
    user = f"kill-{uuid.uuid4().hex[:8]}"
    event_id = _post(cluster.a, "USER_CONSENTS_V2", user_id=user)
    wait_until(lambda: operator.held == 1, "A called the operator")
    cluster.kill_a()
    operator.released.set()
    wait_until(lambda: len(operator.calls) == 2, "B called the operator too")
    wait_until(lambda: cluster.unfinished() == 0, "the lookup's outcome journaled")
    lookups = _listed(cluster.b, "lookups", user_id=user)
    assert [(e["event_id"], e["endpoint"]) for e in lookups] == [(event_id, "userconsents")]
    assert _claims(cluster.b)["taken"] == 1


def test_fire_action_on_other_instance_after_claimer_killed(cluster: Cluster) -> None:
    """The same for a callback action: A fires it, the receiver holds it until A is killed, B
    fires it again (the same X-Fasttrack-Id, so a receiver can drop the repeat) and journals it
    once."""
    operator = cluster.operator
    operator.hold = lambda number: number == 0
    rule = {
        "id": "claimed",
        "trigger": {"event": "PAYMENT"},
        "request": {"url": f"{cluster.operator_url}/cb"},
        "retries": 0,
        "timeout_seconds": 60,
    }
    for base in (cluster.a, cluster.b):  # each has loaded it when its POST answers
        answer = web.post(f"{base}/_mock/callbacks/rules", json=rule, timeout=60)
        assert answer.status_code == 201, answer.text
    user = f"kill-{uuid.uuid4().hex[:8]}"
    event_id = _post(cluster.a, "PAYMENT", user_id=user, payment_id=user)
    wait_until(lambda: operator.held == 1, "A called the receiver")
    cluster.kill_a()
    operator.released.set()
    wait_until(lambda: len(operator.calls) == 2, "B called the receiver too")
    wait_until(lambda: cluster.unfinished() == 0, "the action's outcome journaled")
    actions = _listed(cluster.b, "callbacks", user_id=user)
    assert [(e["event_id"], e["rule_id"], e["ok"]) for e in actions] == [
        (event_id, "claimed", True)
    ]
    [first, second] = [headers["X-Fasttrack-Id"] for _, headers in operator.calls]
    assert first == second


def test_journal_each_lookup_once_with_both_instances_alive(cluster: Cluster) -> None:
    """Events posted alternately to A and B, their lookups held by the operator for longer than
    the lease (every worker busy, the rest queued): renewed leases keep the sweeps off them, and
    each event has exactly one lookup journaled."""
    operator = cluster.operator
    holding = threading.Event()
    holding.set()
    operator.hold = lambda number: holding.is_set()
    tag = uuid.uuid4().hex[:8]
    count = 3 * LOOKUP_CONCURRENCY * 2  # three per worker on each instance
    events = [
        _post((cluster.a, cluster.b)[n % 2], "USER_CONSENTS_V2", user_id=f"many-{tag}-{n}")
        for n in range(count)
    ]
    wait_until(lambda: operator.held >= 2 * LOOKUP_CONCURRENCY, "every worker called")
    # Four sweeps on each instance take more than the lease (one every third of it): every
    # claim's first lease ran out meanwhile, and was renewed.
    swept = {base: _claims(base)["sweeps"] for base in (cluster.a, cluster.b)}
    for base, sweeps in swept.items():
        wait_until(lambda: _claims(base)["sweeps"] >= sweeps + 4, f"four sweeps on {base}")
    holding.clear()
    operator.released.set()
    wait_until(lambda: cluster.unfinished() == 0, "every lookup's outcome journaled")
    lookups = [e for e in _listed(cluster.a, "lookups") if e["user_id"].startswith(f"many-{tag}-")]
    assert sorted(e["event_id"] for e in lookups) == sorted(events)
