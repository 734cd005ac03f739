"""The 10,000-event reliability run of test_reliability.py on a cluster (issue 25): two mock
instances on one PostgreSQL journal behind a round-robin balancer, one of them `kill -9`'d mid-run
and restarted, must reach the verdict one instance reaches (reliability.assert_delivered_once).
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from functools import partial
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.postgres import scratch_database
from tests.reference_operator.conftest import OperatorFactory, free_port, outbox_settled
from tests.reference_operator.reliability import (
    OPERATOR,
    assert_delivered_once,
    delivery,
    faults,
    players,
    publish,
)
from tests.round_robin import round_robin
from tests.serve_process import serve_process
from tests.waiting import wait_until

pytestmark = pytest.mark.slow


def _accepted(url: str) -> Counter[str]:
    """The shared journal's accepted attempts, counted by body."""
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT payload FROM events WHERE verdict = 'accepted'").fetchall()
    return Counter(row[0] for row in rows)


def _bodies(url: str, keys: list[str]) -> set[str]:
    """The shared journal's bodies of attempts of `keys`."""
    import psycopg

    with psycopg.connect(url) as conn:
        sql = "SELECT payload FROM events WHERE idempotency_key = ANY(%s)"
        return {row[0] for row in conn.execute(sql, (keys,))}


def _delivered(client: TestClient) -> int:
    """How many events the operator has had answered 200 (counts only: this is polled)."""
    delivered: int = client.get("/platform/outbox", params={"limit": 0}).json()["delivered"]
    return delivered


@pytest.mark.no_cover  # a volume run, as in test_reliability.py
def test_deliver_ten_thousand_events_exactly_once_through_two_instances_and_a_crash(
    make_operator: OperatorFactory, tmp_path: Path
) -> None:
    """Half the players publish; once a third of their events are delivered one instance is
    killed, the other half publish against a cluster of one, and the killed instance comes back
    on its port. Every event is journaled once (plus at most one copy per lost answer), none is
    lost, and the report, read on the instance that lived, says so for the whole cluster."""
    ports = [free_port(), free_port()]
    first, second = players() // 2, players() - players() // 2
    outbox = tmp_path / "platform.sqlite3"
    with scratch_database() as url:
        instance = partial(serve_process, "--journal", url, *faults(), measured=False)
        with (
            round_robin(ports) as balancer,
            instance("--port", str(ports[0])) as (survivor, _),
            make_operator(ft_url=balancer.url, **OPERATOR) as client,
        ):
            with instance("--port", str(ports[1])) as (_, victim):
                expected = publish(client, first)
                wait_until(lambda: _delivered(client) >= expected // 3, "a third delivered")
                os.kill(victim.pid, signal.SIGKILL)
                victim.wait()
            expected += publish(client, second)  # the load goes on against a cluster of one
            with instance("--port", str(ports[1])):
                assert outbox_settled(client)["pending"] == 0
            report = delivery(survivor, expected)
        assert min(balancer.connections) > 0  # both instances took attempts
        bodies = partial(_bodies, url)
        assert_delivered_once(report, expected, _accepted(url), outbox, bodies)
