"""Delivery guarantees under injected faults, proven end to end over real sockets.

The reference operator publishes thousands of events while the mock fails about 30% of attempts
with 503, 429 + Retry-After, timeouts, resets and lost answers; the mock's delivery report must
then find every event delivered once (and say so), and find the losses of a broken publisher.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests import web
from tests.reference_operator.conftest import OperatorFactory, outbox_settled
from tests.serve_process import serve_process
from tests.waiting import HANG_GUARD

pytestmark = pytest.mark.slow

# About 30% of attempts fail: the first matching rule whose dice say so acts.
FAULT_MIX = (
    "503 probability=13%",  # 13.0%
    "429 retry_after=1 probability=5%",  # 4.4%
    "timeout hold=600ms probability=4%",  # 3.3%: the operator's 400 ms timeout fires first
    "reset probability=8%",  # 6.6%
    "drop_answer probability=4%",  # 2.9%: FT has it, the operator must send it again
)
EVENTS_PER_PLAYER = 100  # registration (1) + 33 deposits (PAYMENT Requested, Approved, balance)
OPERATOR = {
    "ft_timeout_seconds": 0.4,  # room for a loaded 2-core CI box: a late 200 is a duplicate
    "retry_base_seconds": 0.05,
    "retry_max_seconds": 1.0,
    "dispatch_concurrency": 32,
}


def _faults() -> list[str]:
    return [arg for rule in FAULT_MIX for arg in ("--fault", rule)]


def _publish(client: TestClient, players: int, *, batch: bool = True) -> int:
    """Create players who each deposit 33 times; return how many events that must publish.

    A batch is one round trip for a player's deposits, still one commit and one outbox
    wake-up per deposit: the same publish path, for a fraction of this process's CPU.
    """
    count = (EVENTS_PER_PLAYER - 1) // 3
    for _ in range(players):
        user = client.post("/platform/players").json()["user_id"]
        if not batch:
            for _ in range(count):
                response = client.post(f"/platform/players/{user}/deposits", json={"amount": 5})
                assert response.status_code == 201, response.text
            continue
        deposits = {"amounts": [5] * count}
        response = client.post(f"/platform/players/{user}/deposits/batch", json=deposits)
        assert response.status_code == 201, response.text
    return players * EVENTS_PER_PLAYER


def _delivery(mock_url: str, expected: int) -> dict[str, Any]:
    response = web.get(f"{mock_url}/_mock/delivery", params={"expected": expected}, timeout=60)
    response.raise_for_status()
    report: dict[str, Any] = response.json()
    return report


def test_deliver_ten_thousand_events_exactly_once_through_faults(
    make_operator: OperatorFactory, tmp_path: Path
) -> None:
    """10,000 events through ~30% faults: none lost; an event FT took twice only ever after an
    attempt whose answer never reached the operator (at-least-once, which FT expects); and the
    report files what the mock saw of those as re-deliveries, not as duplicates."""
    players = int(os.environ.get("MOCK_FT_RELIABILITY_PLAYERS", "100"))
    journal = str(tmp_path / "journal.sqlite3")
    with (
        serve_process("--journal", journal, *_faults()) as (mock_url, _),
        make_operator(ft_url=mock_url, **OPERATOR) as client,
    ):
        expected = _publish(client, players)
        assert outbox_settled(client)["pending"] == 0
        report = _delivery(mock_url, expected)
    assert (report["delivered"], report["missing"], report["lost"]) == (expected, 0, 0)
    twice = _accepted_more_than_once(journal)
    unanswered = _unanswered_payloads(tmp_path / "platform.sqlite3")
    assert twice - unanswered == set()  # no copy without an attempt left unanswered
    # What the mock cannot see (an answer sent as the client's timeout fired) stays a
    # "duplicate" in its report; each is among the unanswered ones above.
    assert report["duplicated"] <= len(twice)
    assert report["redelivered_after_lost_answer"] > 0  # lost answers happened, and were resent
    assert 0.2 < report["faulted_attempts"] / report["attempts"] < 0.4
    assert report["retry_after"]["asked"] > 0
    assert report["retry_after"]["ignored"] == 0
    assert [p for p in report["problems"] if "more than once" not in p] == []


@pytest.mark.parametrize(
    ("defect", "what"),
    [("no_retry", "lost"), ("drops_events", "missing")],
)
def test_report_lost_events_of_broken_publisher(
    make_operator: OperatorFactory, tmp_path: Path, defect: str, what: str
) -> None:
    """The same faults against a publisher that gives up, or drops events: the report says lost."""
    journal = str(tmp_path / "journal.sqlite3")
    with (
        serve_process("--journal", journal, *_faults()) as (mock_url, _),
        make_operator(ft_url=mock_url, defects=[defect], **OPERATOR) as client,
    ):
        expected = _publish(client, 10)
        outbox_settled(client)
        report = _delivery(mock_url, expected)
    assert report[what] > 0
    assert not report["ok"]
    assert any(what in problem or "never" in problem for problem in report["problems"])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_keep_acknowledged_events_through_mock_crash(
    make_operator: OperatorFactory, tmp_path: Path
) -> None:
    """`kill -9` of the mock mid-run: every event it answered 200 is in its journal, and after a
    restart on the same journal the operator re-delivers the rest."""
    journal = str(tmp_path / "journal.sqlite3")
    port = str(_free_port())
    with make_operator(ft_url=f"http://127.0.0.1:{port}", **OPERATOR) as client:
        with serve_process("--journal", journal, "--port", port) as (mock_url, process):
            # One call per deposit: the kill must land while the dispatcher is still publishing.
            expected = _publish(client, 10, batch=False)
            os.kill(process.pid, signal.SIGKILL)  # while the dispatcher is still publishing
            process.wait()
        expected += _publish(client, 10)  # the load goes on against a dead FT
        delivered = _delivered_payloads(tmp_path / "platform.sqlite3")
        with sqlite3.connect(journal) as conn:
            rows = conn.execute("SELECT payload FROM events WHERE verdict = 'accepted'")
            journaled = {row[0] for row in rows}
        assert 0 < len(delivered) < expected
        assert delivered - journaled == set()  # every 200 the operator saw is in the journal
        with serve_process("--journal", journal, "--port", port) as (mock_url, _):
            assert outbox_settled(client)["pending"] == 0
            report = _delivery(mock_url, expected)
    assert (report["delivered"], report["missing"]) == (expected, 0)


def _accepted_more_than_once(journal: str) -> set[str]:
    """Bodies the mock accepted more than once (a retry sends the same body)."""
    with sqlite3.connect(journal) as conn:
        rows = conn.execute(
            "SELECT payload FROM events WHERE verdict = 'accepted' "
            "GROUP BY payload HAVING COUNT(*) > 1"
        )
        return {row[0] for row in rows}


def _unanswered_payloads(database: Path) -> set[str]:
    """Bodies the operator sent at least once without getting an answer."""
    return _outbox_payloads(database, "unanswered > 0")


def _delivered_payloads(database: Path) -> set[str]:
    """The events the operator recorded as answered 200 by FT."""
    return _outbox_payloads(database, "delivered_at IS NOT NULL")


def _outbox_payloads(database: Path, where: str) -> set[str]:
    deadline = time.monotonic() + HANG_GUARD
    while True:
        try:
            with sqlite3.connect(database) as conn:
                rows = conn.execute(f"SELECT payload FROM outbox WHERE {where}")  # noqa: S608
                return {row[0] for row in rows}
        except sqlite3.OperationalError:  # the dispatcher is writing; read again
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
