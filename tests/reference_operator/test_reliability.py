"""Delivery guarantees under injected faults, proven end to end over real sockets.

The reference operator publishes thousands of events while the mock fails about 30% of attempts
with 503, 429 + Retry-After, timeouts, resets and lost answers; the mock's delivery report must
then find every event delivered once (and say so), and find the losses of a broken publisher.
The same run on two instances of a PostgreSQL journal, one killed mid-run, is
test_cluster_reliability.py.
"""

from __future__ import annotations

import os
import signal
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from tests.reference_operator.conftest import OperatorFactory, free_port, outbox_settled
from tests.reference_operator.reliability import (
    OPERATOR,
    assert_delivered_once,
    delivered_payloads,
    delivery,
    faults,
    players,
    publish,
)
from tests.serve_process import serve_process

pytestmark = pytest.mark.slow


# The volume runs are left out of coverage (here and in the server): their code is what the
# other tests cover, and measuring it took a third of their time.
@pytest.mark.no_cover
def test_deliver_ten_thousand_events_exactly_once_through_faults(
    make_operator: OperatorFactory, tmp_path: Path
) -> None:
    """10,000 events through ~30% faults: none lost; an event FT took twice only ever after an
    attempt whose answer never reached the operator (at-least-once, which FT expects); and the
    report files what the mock saw of those as re-deliveries, not as duplicates."""
    journal = str(tmp_path / "journal.sqlite3")
    with (
        serve_process("--journal", journal, *faults(), measured=False) as (mock_url, _),
        make_operator(ft_url=mock_url, **OPERATOR) as client,
    ):
        expected = publish(client, players())
        assert outbox_settled(client)["pending"] == 0
        report = delivery(mock_url, expected)
    with sqlite3.connect(journal) as conn:
        rows = conn.execute("SELECT payload FROM events WHERE verdict = 'accepted'")
        accepted = Counter(row[0] for row in rows)

    def bodies(keys: list[str]) -> set[str]:
        with sqlite3.connect(journal) as conn:
            sql = "SELECT payload FROM events WHERE idempotency_key = ?"
            return {row[0] for key in keys for row in conn.execute(sql, (key,))}

    assert_delivered_once(report, expected, accepted, tmp_path / "platform.sqlite3", bodies)


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
        serve_process("--journal", journal, *faults()) as (mock_url, _),
        make_operator(ft_url=mock_url, defects=[defect], **OPERATOR) as client,
    ):
        expected = publish(client, 30, deposits=3)  # 300 events, in chains of 10
        outbox_settled(client)
        report = delivery(mock_url, expected)
    assert report[what] > 0
    assert not report["ok"]
    assert any(what in problem or "never" in problem for problem in report["problems"])


def test_keep_acknowledged_events_through_mock_crash(
    make_operator: OperatorFactory, tmp_path: Path
) -> None:
    """`kill -9` of the mock mid-run: every event it answered 200 is in its journal, and after a
    restart on the same journal the operator re-delivers the rest."""
    journal = str(tmp_path / "journal.sqlite3")
    port = str(free_port())
    with make_operator(ft_url=f"http://127.0.0.1:{port}", **OPERATOR) as client:
        with serve_process("--journal", journal, "--port", port) as (mock_url, process):
            # One call per deposit: the kill must land while the dispatcher is still publishing.
            expected = publish(client, 10, batch=False)
            os.kill(process.pid, signal.SIGKILL)  # while the dispatcher is still publishing
            process.wait()
        expected += publish(client, 10)  # the load goes on against a dead FT
        delivered = delivered_payloads(tmp_path / "platform.sqlite3")
        with sqlite3.connect(journal) as conn:
            rows = conn.execute("SELECT payload FROM events WHERE verdict = 'accepted'")
            journaled = {row[0] for row in rows}
        assert 0 < len(delivered) < expected
        assert delivered - journaled == set()  # every 200 the operator saw is in the journal
        with serve_process("--journal", journal, "--port", port) as (mock_url, _):
            assert outbox_settled(client)["pending"] == 0
            report = delivery(mock_url, expected)
    assert (report["delivered"], report["missing"]) == (expected, 0)
