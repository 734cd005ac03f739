"""Two `mock-ft serve` processes on one PostgreSQL journal (issue 25, item 2): whichever instance
receives which attempt, the verdicts are the ones a single instance gives."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from mock_ft.journal import Journal, NewEntry
from mock_ft.samples import ft_timestamp
from tests import web
from tests.conftest import KEY_HEADERS
from tests.ft_events import ft_event
from tests.postgres import scratch_database
from tests.serve_process import serve_process
from tests.waiting import HANG_GUARD, wait_until

Pair = tuple[str, str]


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    """Two instances on one database of this module's own. No attempt is late, however long
    the machine takes: lateness is not what these tests compare."""
    env = {
        "MOCK_FT_FRESHNESS_TARGET_MS": str(24 * 3600 * 1000),
        # No heartbeat commit during the module: only the other instance's commits wake waiters.
        "MOCK_FT_INSTANCE_LEASE_SECONDS": str(24 * 3600),
    }
    with (
        scratch_database() as url,
        serve_process("--journal", url, env=env) as (a, _),
        serve_process("--journal", url, env=env) as (b, _),
    ):
        yield a, b


def _events(base: str, user_id: str) -> list[dict[str, Any]]:
    """The player's journaled attempts, oldest first."""
    answer = web.get(f"{base}/_mock/events", params={"user_id": user_id, "limit": 1000}, timeout=30)
    answer.raise_for_status()
    data: list[dict[str, Any]] = answer.json()["data"]
    return data


async def _post_all(sends: list[tuple[str, str, dict[str, Any]]]) -> list[int]:
    """POST every (base, path, payload) at once; their status codes."""
    async with httpx.AsyncClient(headers=KEY_HEADERS, timeout=60) as client:
        answers = await asyncio.gather(
            *(client.post(f"{base}{path}", json=body) for base, path, body in sends)
        )
    return [a.status_code for a in answers]


def test_accept_one_of_concurrent_duplicates_on_two_instances(pair: Pair) -> None:
    """Six attempts of each of twenty keys, sent at once, half to each instance: per key one is
    accepted as the first and the five others are flagged duplicates of it."""
    user = f"dup-{uuid.uuid4().hex[:8]}"
    sends = []
    for n in range(20):
        path, body = ft_event("PAYMENT", payment_id=f"{user}-{n}", user_id=user)
        sends += [(pair[i % 2], path, body) for i in range(6)]
    assert set(asyncio.run(_post_all(sends))) == {200}
    by_key: dict[str, list[dict[str, Any]]] = {}
    for event in _events(pair[0], user):
        by_key.setdefault(event["idempotency_key"], []).append(event)
    assert len(by_key) == 20
    for attempts in by_key.values():
        first, *rest = attempts
        assert first["duplicate_of"] is None
        assert [e["duplicate_of"] for e in rest] == [first["id"]] * 5


def _script(user: str) -> list[tuple[str, dict[str, Any]]]:
    """A player's attempts that touch every stream check: (event type, fields)."""
    earlier = ft_timestamp(datetime.now(UTC) - timedelta(seconds=30))
    return [
        ("LOGIN_V2", {}),  # unregistered
        ("USER_CREATE_V2", {}),
        ("USER_CREATE_V2", {}),  # reregistered
        ("PAYMENT", {"payment_id": f"{user}-1", "status": "Requested"}),
        ("PAYMENT", {"payment_id": f"{user}-1", "status": "Approved"}),
        ("PAYMENT", {"payment_id": f"{user}-1", "status": "Approved"}),  # duplicate
        ("PAYMENT", {"payment_id": f"{user}-1", "status": "Requested"}),  # transition
        ("PAYMENT", {"payment_id": f"{user}-2", "status": "Rollback"}),  # transition
        ("LOGIN_V2", {"timestamp": earlier}),  # out of order
        ("CASINO", {"type": "Win", "round_id": f"{user}-r", "activity_id": f"{user}-a1"}),
        ("CASINO", {"type": "Bet", "round_id": f"{user}-r", "activity_id": f"{user}-a2"}),
        ("CASINO", {"type": "Win", "round_id": f"{user}-r", "activity_id": f"{user}-a3"}),
    ]


def _verdicts(bases: list[str], user: str) -> list[tuple[str, list[str], int | None]]:
    """Send the script one attempt at a time, the n-th to bases[n % len(bases)]; each attempt's
    verdict, warning codes, and the position of the attempt it duplicates."""
    with httpx.Client(headers=KEY_HEADERS, timeout=60) as client:
        for n, (event_type, fields) in enumerate(_script(user)):
            path, body = ft_event(event_type, user_id=user, **fields)
            assert client.post(f"{bases[n % len(bases)]}{path}", json=body).status_code == 200
    events = _events(bases[0], user)
    position = {e["id"]: n for n, e in enumerate(events)}
    return [
        (
            e["verdict"],
            sorted(w["code"] for w in e["warnings"]),
            None if e["duplicate_of"] is None else position[e["duplicate_of"]],
        )
        for e in events
    ]


def test_give_one_instance_verdicts_when_attempts_alternate_instances(pair: Pair) -> None:
    """The same script, sent to one instance and then alternately to both, gets the same
    verdicts, warnings and duplicate links."""
    tag = uuid.uuid4().hex[:8]
    alone = _verdicts([pair[0]], f"solo-{tag}")
    alternating = _verdicts([pair[0], pair[1]], f"pair-{tag}")
    assert alternating == alone
    codes = {code for _, warnings, _ in alone for code in warnings}
    assert codes == {
        "unregistered_user",
        "reregistered",
        "duplicate",
        "payment_transition",
        "out_of_order",
        "orphan_outcome",
    }


def test_report_own_id_and_every_instance_in_health(pair: Pair) -> None:
    """Each instance's /_mock/health names itself, and both instances on the journal."""
    a, b = (web.get(f"{base}/_mock/health", timeout=30).json() for base in pair)
    assert a["instance"] != b["instance"]
    assert {i["id"] for i in a["instances"]} == {a["instance"], b["instance"]}
    assert {i["id"] for i in b["instances"]} == {a["instance"], b["instance"]}


def test_answer_wait_on_one_instance_with_event_posted_to_the_other(pair: Pair) -> None:
    """A /_mock/events/wait on A is answered by an event posted to B (LISTEN/NOTIFY). The
    wake-up itself is proven step by step in test_postgres_instances.py; this is the wiring."""
    user = f"wait-{uuid.uuid4().hex[:8]}"
    answers: list[httpx.Response] = []
    params: dict[str, str | int] = {"user_id": user, "count": 1, "timeout": 60}
    waiter = threading.Thread(
        target=lambda: answers.append(
            web.get(f"{pair[0]}/_mock/events/wait", params=params, timeout=120)
        )
    )
    waiter.start()
    path, body = ft_event("LOGIN_V2", user_id=user)
    assert web.post(f"{pair[1]}{path}", json=body, headers=KEY_HEADERS, timeout=60).is_success
    waiter.join(timeout=120)
    [answer] = answers
    assert answer.status_code == 200, answer.text
    assert [e["user_id"] for e in answer.json()["data"]] == [user]


def _newest_id(base: str) -> int:
    """The id of the newest journaled attempt (0: none)."""
    answer = web.get(f"{base}/_mock/events", params={"order": "desc", "limit": 1}, timeout=30)
    answer.raise_for_status()
    return int(next((e["id"] for e in answer.json()["data"]), 0))


def _listeners(url: str) -> set[int]:
    """The backend pids of the commit listeners on the database now."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'mock-ft listener' "
            "AND datname = current_database()"
        )
        return {int(r[0]) for r in rows}


def test_answer_wait_on_survivor_of_a_killed_instance() -> None:
    """B is kill -9'd after journaling: A keeps the listening connection it had, and a wait on
    A (longer than the hang guard: only a commit it sees can answer it) is answered by the
    commit of another writer of the journal."""
    forever = str(10 * HANG_GUARD)
    env = {"MOCK_FT_WAIT_MAX_SECONDS": forever}
    with scratch_database() as url, serve_process("--journal", url, env=env) as (a, _):
        with serve_process("--journal", url) as (b, victim):
            path, body = ft_event("LOGIN_V2", user_id="victim")
            assert web.post(f"{b}{path}", json=body, headers=KEY_HEADERS, timeout=60).is_success
            both = _listeners(url)
            victim.kill()
            victim.wait()
        wait_until(lambda: len(_listeners(url)) == 1, "the killed instance's listener gone")
        assert _listeners(url) < both  # the survivor's own, never dropped
        answers: list[httpx.Response] = []
        params = {"count": 1, "after_id": _newest_id(a), "timeout": forever}
        waiter = threading.Thread(
            target=lambda: answers.append(
                web.get(f"{a}/_mock/events/wait", params=params, timeout=None)
            ),
            daemon=True,  # a survivor that never answers fails the test below, not the session
        )
        waiter.start()
        with Journal(url) as writer:
            written = writer.run_sync(Journal.append(NewEntry("rest", 1.0, "accepted", 200)))
        waiter.join(timeout=HANG_GUARD)
        [answer] = answers
    assert answer.status_code == 200, answer.text
    assert [e["id"] for e in answer.json()["data"]] == [written]
