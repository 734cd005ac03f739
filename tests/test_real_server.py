"""The real `mock-ft serve` process over real sockets, and durability under kill -9, on each
journal backend (`journal_target`: SQLite, PostgreSQL)."""

from __future__ import annotations

import json
import os
import signal
import threading

import httpx
import pytest

from mock_ft.journal import EventFilter, Journal
from mock_ft.samples import ft_timestamp, sample_events
from mock_ft.settings import DEFAULT_API_KEY
from tests import web
from tests.serve_process import run_cli, serve_process, server_log

pytestmark = pytest.mark.slow
KEY = {"X-API-Key": DEFAULT_API_KEY}


def test_serve_every_event_type_over_a_real_socket(journal_target: str) -> None:
    """A real server accepts every sample on its FT path and reports it via the control API."""
    with (
        serve_process("--journal", journal_target) as (url, _),
        httpx.Client(base_url=url) as client,
    ):
        for route, payload in sample_events():
            response = client.request(route.method, route.path, json=payload, headers=KEY)
            assert response.status_code == 200, (route.event_type, response.text)
        waited = client.get(
            "/_mock/events/wait", params={"type": "USER_DEVICE_UNLINK", "timeout": 5}
        )
        assert waited.status_code == 200
        types = [
            e["event_type"]
            for e in client.get("/_mock/events", params={"limit": 100}).json()["data"]
        ]
        assert sorted(types) == sorted(r.event_type for r, _ in sample_events())


def test_keep_every_acknowledged_event_after_kill_9(journal_target: str) -> None:
    """Every event answered 200 is in the journal even when the server is SIGKILLed mid-stream."""
    journal = journal_target
    acked: dict[int, str] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def publish(url: str, worker: int) -> None:
        with httpx.Client(base_url=url, timeout=5) as client:
            n = 0
            while not stop.is_set():
                n += 1
                payment_id = f"w{worker}-{n}"
                event = {
                    "user_id": "7001",
                    "payment_id": payment_id,
                    "amount": 1,
                    "currency": "EUR",
                    "status": "Approved",
                    "type": "Credit",
                    "vendor_id": 1,
                    "origin": "o",
                    "timestamp": ft_timestamp(),
                }
                try:
                    response = client.post("/v1/integration/payment", json=event, headers=KEY)
                except httpx.TransportError:
                    return  # the server is gone; unanswered events were never promised
                if response.status_code == 200:
                    with lock:
                        acked[response.json()["event_id"]] = payment_id

    with serve_process("--journal", journal) as (url, process):
        workers = [threading.Thread(target=publish, args=(url, w)) for w in range(4)]
        for worker in workers:
            worker.start()
        while True:
            with lock:
                if len(acked) >= 300:
                    break
            threading.Event().wait(0.01)
        os.kill(process.pid, signal.SIGKILL)  # no shutdown, no flush, no atexit
        process.wait()
        stop.set()
        for worker in workers:
            worker.join()

    with Journal(journal) as reopened:
        entries = reopened.run_sync(Journal.query(EventFilter(), limit=1_000_000))
    rows = {e.id: json.loads(e.payload)["payment_id"] for e in entries if e.payload}
    with lock:
        missing = {eid: pid for eid, pid in acked.items() if rows.get(eid) != pid}
    assert len(acked) >= 300
    assert missing == {}


def test_bind_port_in_use_exits_2(journal_file: str) -> None:
    """A second server on a busy port exits 2 with a headline and no traceback."""
    with serve_process("--journal", journal_file) as (url, _):
        port = url.rsplit(":", 1)[1]
        result = run_cli("serve", "--port", port, "--journal", ":memory:", timeout=30)
    assert result.returncode == 2
    assert "already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_read_server_log_as_it_comes() -> None:
    """The harness reads a served mock's stderr while it runs (a server whose log outgrows the
    64 KiB pipe would block on its next line) and hands the log over once it has stopped."""
    with serve_process("--journal", ":memory:", "--log-level", "info") as (url, process):
        assert web.get(f"{url}/_mock/health").status_code == 200
        process.send_signal(signal.SIGINT)
        assert "Finished server process" in server_log(process)
