"""Fault rules decided by two writers of one PostgreSQL journal at once never deadlock: every
batch that decides or changes fault rules takes the rules' lock first (journal/rules.py).

The interleaving is forced, not hoped for under load: writer A's batch decides an attempt
meeting rule 1, then waits until writer B blocks on a lock, then decides an attempt meeting
rule 2, while B decides an attempt meeting rule 2. Taking rule 2's row before the draw counter
(as B did) while A held the counter and wanted rule 2 was PostgreSQL's "deadlock detected",
and the attempt was answered 500.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from mock_ft.journal import rules as stored
from mock_ft.journal.store import Journal
from mock_ft.journal.tx import Tx
from tests.postgres import scratch_database
from tests.waiting import HANG_GUARD, wait_until

_WAITING_ON_LOCK = (
    "SELECT count(*) FROM pg_stat_activity "
    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


@pytest.fixture
def writers() -> Iterator[tuple[Journal, Journal, str]]:
    """Two writers (journals) on one new database, and its URL."""
    with scratch_database() as url, Journal(url) as a, Journal(url) as b:
        yield a, b, url


def _probable(journal: Journal) -> int:
    """Store a rule that acts on half the attempts (so each decision draws); its id."""
    spec = json.dumps({"action": "status", "status": 503, "probability": 0.5})
    rule_id, _ = journal.run_sync(stored.add_fault(spec, None))
    return rule_id


def _draws(journal: Journal) -> int:
    """How many probability draws the cluster has made."""
    return int(
        journal.run_sync(lambda tx: tx.conn.execute("SELECT draws FROM rules_state").fetchone()[0])
    )


def _attempt(rule_id: int) -> stored.Candidate:
    return stored.Candidate(rule_id, None, None, 0.5)


def test_decide_crossing_fault_rules_on_two_writers(
    writers: tuple[Journal, Journal, str],
) -> None:
    """A's batch (rule 1, wait for B, rule 2) and B's attempt (rule 2) both commit, and the
    three draws are counted once each."""
    a, b, url = writers
    first, second = _probable(a), _probable(a)
    holding = threading.Event()
    outcome: dict[str, Any] = {}

    def wait_for_b(tx: Tx) -> None:
        if holding.is_set():  # run again alone after a failed batch: nothing to wait for
            return
        holding.set()
        import psycopg

        with psycopg.connect(url, autocommit=True) as watcher:
            wait_until(
                lambda: watcher.execute(_WAITING_ON_LOCK).fetchone()[0] >= 1,  # type: ignore[index]
                "writer B waiting on a lock",
            )

    async def batch_a() -> list[Any]:
        decided: list[asyncio.Future[Any]] = [
            a.run(stored.decide([_attempt(first)]), stored.RULES),
            a.run(wait_for_b),
            a.run(stored.decide([_attempt(second)]), stored.RULES),
        ]
        return list(await asyncio.gather(*decided, return_exceptions=True))

    thread = threading.Thread(target=lambda: outcome.update(a=asyncio.run(batch_a())))
    thread.start()
    try:
        assert holding.wait(HANG_GUARD), "writer A's batch never reached the wait"
        decided_b = asyncio.run(_decide(b, second))
    finally:
        thread.join(HANG_GUARD)
    assert not isinstance(decided_b, BaseException), decided_b
    assert not [o for o in outcome["a"] if isinstance(o, BaseException)], outcome["a"]
    assert _draws(a) == 3


async def _decide(journal: Journal, rule_id: int) -> Any:
    try:
        return await journal.run(stored.decide([_attempt(rule_id)]), stored.RULES)
    except Exception as exc:  # the failure is what the test reports
        return exc


def test_number_draws_of_each_attempt_in_order(writers: tuple[Journal, Journal, str]) -> None:
    """Attempts meeting two probable rules draw in sequence: draw n of seed s is
    `Random("s:n")`, the first rule's draw first, the second's only when the first did not
    fire, numbered on from one attempt to the next."""
    a, _, _ = writers
    first, second = _probable(a), _probable(a)
    candidates = [_attempt(first), _attempt(second)]
    decided = [a.run_sync(stored.decide(candidates), stored.RULES) for _ in range(20)]
    expected, n = [], 0
    for _ in range(20):
        fired = None
        for rule_id in (first, second):
            n += 1
            if random.Random(f"0:{n}").random() < 0.5:  # noqa: S311 - the seeded sequence
                fired = rule_id
                break
        expected.append(fired)
    assert decided == expected
    assert _draws(a) == n
