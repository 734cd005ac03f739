"""What the reliability tests share: the fault mix, the load, the operator's settings, and the
verdict a run must reach whether one mock or a cluster of them took the events.

The verdict is the part of the delivery report that does not depend on timing. Which attempt
meets which fault draw, and so the counts of attempts, retries and faults, changes with the
machine's load from run to run (and more so when attempts alternate between two processes);
what an operator with at-least-once delivery must get every time is `assert_delivered_once`.
"""

from __future__ import annotations

import os
import sqlite3
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests import web
from tests.waiting import wait_until

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


def players() -> int:
    """How many players the 10,000-event runs create: 100 (10,000 events), or fewer for a quick
    look with `TEST_RELIABILITY_PLAYERS=10` (1,000 events). Not a `MOCK_FT_*` name: the autouse
    clean_environ fixture removes those before any test reads them."""
    return int(os.environ.get("TEST_RELIABILITY_PLAYERS", "100"))


def faults() -> list[str]:
    """FAULT_MIX as `mock-ft serve` arguments."""
    return [arg for rule in FAULT_MIX for arg in ("--fault", rule)]


def publish(
    client: TestClient,
    players: int,
    *,
    batch: bool = True,
    deposits: int = (EVENTS_PER_PLAYER - 1) // 3,
) -> int:
    """Create players who each deposit 33 times (or `deposits`); return how many events that
    must publish (three per deposit, and a registration).

    A batch is one round trip for a player's deposits, still one commit and one outbox
    wake-up per deposit: the same publish path, for a fraction of this process's CPU. A
    player's events go out one after another, so a run lasts as long as one player's chain.
    """
    for _ in range(players):
        user = client.post("/platform/players").json()["user_id"]
        if not batch:
            for _ in range(deposits):
                response = client.post(f"/platform/players/{user}/deposits", json={"amount": 5})
                assert response.status_code == 201, response.text
            continue
        amounts = {"amounts": [5] * deposits}
        response = client.post(f"/platform/players/{user}/deposits/batch", json=amounts)
        assert response.status_code == 201, response.text
    return players * (1 + 3 * deposits)


def delivery(mock_url: str, expected: int) -> dict[str, Any]:
    """The mock's delivery report of the whole journal, listing every problem's keys."""
    params = {"expected": expected, "examples": expected}
    response = web.get(f"{mock_url}/_mock/delivery", params=params, timeout=60)
    response.raise_for_status()
    report: dict[str, Any] = response.json()
    return report


# The report's problems that are about a retry's timing, as the mock measured it.
_TIMING = {"retry_after_ignored": "sooner than Retry-After", "hammering": "no back-off"}


def assert_delivered_once(
    report: dict[str, Any],
    expected: int,
    accepted: Counter[str],
    outbox: Path,
    bodies: Callable[[list[str]], set[str]],
) -> None:
    """The verdict of a run through FAULT_MIX, the same for one mock or a cluster.

    `accepted` counts the journal's accepted attempts by body (a retry sends the same body);
    `bodies` reads the journal's bodies of given idempotency keys. Every event the operator
    published was answered 200 and is in the journal; the journal accepted nothing the operator
    did not publish; and it accepted an event once, plus at most once per attempt of it whose
    answer the operator never got (at-least-once, which FT expects). The report finds every
    event delivered, none lost, files as re-deliveries what it saw of those second copies, and
    finds a retry too soon only after an answer the operator never got.
    """
    rows = outbox_rows(outbox, "1 = 1")
    assert len(rows) == expected
    assert [p for p, (delivered, _) in rows.items() if not delivered] == []
    lost, made_up = set(rows) - set(accepted), set(accepted) - set(rows)
    assert (lost, made_up) == (set(), set()), f"{len(lost)} lost, {len(made_up)} never published"
    beyond = {p: n for p, n in accepted.items() if n > 1 + rows[p][1]}
    assert beyond == {}, f"{len(beyond)} event(s) accepted more often than answers went missing"
    assert (report["delivered"], report["missing"], report["lost"]) == (expected, 0, 0)
    # What the mock cannot see (an answer sent as the client's timeout fired, or never sent by
    # an instance killed after its commit) stays a "duplicate" in its report; each is among
    # the second copies allowed above.
    assert report["duplicated"] <= sum(n > 1 for n in accepted.values())
    assert report["redelivered_after_lost_answer"] > 0  # lost answers happened, and were resent
    assert 0.2 < report["faulted_attempts"] / report["attempts"] < 0.4
    assert report["retry_after"]["asked"] > 0
    assert report["retry_after"]["honoured"] > 0
    # The mock times a retry from when it read the attempt before. A client whose timeout fired
    # first (an attempt that waited in a busy instance's socket, or an answer it had no time to
    # read) never heard that answer's Retry-After and retried on its own back-off, so the mock
    # may find such a retry too soon. The operator counts the attempts it heard no answer to: a
    # retry the report finds too soon must follow one of those, never an answer it heard.
    timed = [key for kind in _TIMING for key in report["examples"].get(kind, [])]
    assert len(timed) == report["retry_after"]["ignored"] + report["hammering"]
    heard = [p for p in bodies(timed) if rows[p][1] == 0]
    assert heard == [], f"{len(heard)} event(s) retried too soon after an answer the operator heard"
    allowed = ("more than once", *_TIMING.values())
    assert [p for p in report["problems"] if not any(a in p for a in allowed)] == []


def delivered_payloads(database: Path) -> set[str]:
    """The events the operator recorded as answered 200 by FT."""
    return set(outbox_rows(database, "delivered_at IS NOT NULL"))


def outbox_rows(database: Path, where: str) -> dict[str, tuple[bool, int]]:
    """The operator's outbox rows matching `where`, read in one query: body -> (delivered,
    attempts left unanswered)."""
    sql = f"SELECT payload, delivered_at IS NOT NULL, unanswered FROM outbox WHERE {where}"  # noqa: S608
    rows: dict[str, tuple[bool, int]] = {}

    def read() -> bool:
        try:
            with sqlite3.connect(database) as conn:
                rows.update({row[0]: (bool(row[1]), row[2]) for row in conn.execute(sql)})
        except sqlite3.OperationalError:  # the dispatcher is writing; read again
            return False
        return True

    wait_until(read, f"a read of the operator's outbox at {database}")
    return rows
