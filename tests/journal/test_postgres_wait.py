"""`/_mock/events/wait` on a PostgreSQL journal that another writer fills, in-process: the route
and the test share one event loop, so the test can commit on the other writer at a chosen point
of the wait while nothing else runs. The waiting instance is deaf to the other (listeners cut
off): what it answers then comes from its queries alone, not from a wake-up."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx

from mock_ft.crm.app import create_app
from mock_ft.journal import Journal, NewEntry
from mock_ft.settings import Settings
from tests.postgres import listeners_cut_off, scratch_database
from tests.waiting import HANG_GUARD

LOCAL = "http://127.0.0.1:8765"
Scene = Callable[[Journal, Journal, httpx.AsyncClient], Awaitable[tuple[httpx.Response, int]]]


def _on_deaf_instance(scene: Scene) -> tuple[httpx.Response, int]:
    """Run `scene(a, b, client)`: two writers of a scratch journal, a mock on A (no lifespan: no
    heartbeat or sweep commits, only its routes') and A's listener cut off throughout."""

    async def run(url: str) -> tuple[httpx.Response, int]:
        with Journal(url) as a, Journal(url) as b:
            settings = Settings(
                journal=":memory:", allowed_hosts=["127.0.0.1"], wait_max_seconds=10 * HANG_GUARD
            )
            transport = httpx.ASGITransport(app=create_app(settings, a))
            async with httpx.AsyncClient(transport=transport, base_url=LOCAL) as client:
                with listeners_cut_off(url):
                    return await scene(a, b, client)

    with scratch_database() as url:
        return asyncio.run(asyncio.wait_for(run(url), HANG_GUARD))


def _append(journal: Journal) -> int:
    return journal.run_sync(Journal.append(NewEntry("rest", 1.0, "accepted", 200)))


def test_answer_wait_at_once_with_event_another_writer_committed_before_it() -> None:
    """B's event, committed before the wait on A began, answers it at once (the wait asks for
    longer than the hang guard): the wait queries before it waits, so it needs no wake-up."""

    async def scene(
        a: Journal, b: Journal, client: httpx.AsyncClient
    ) -> tuple[httpx.Response, int]:
        written = _append(b)
        params = {"count": 1, "after_id": written - 1, "timeout": 10 * HANG_GUARD}
        return await client.get("/_mock/events/wait", params=params), written

    answer, written = _on_deaf_instance(scene)
    assert answer.status_code == 200, answer.text
    assert [e["id"] for e in answer.json()["data"]] == [written]


def test_answer_wait_from_the_query_at_its_deadline_when_no_commit_is_heard() -> None:
    """B commits after the wait's first query found nothing: the wait still answers 200 with
    B's event, from the query it makes at its deadline. A lost wake-up delays an answer; a 408
    only ever says what that last query saw."""

    async def scene(
        a: Journal, b: Journal, client: httpx.AsyncClient
    ) -> tuple[httpx.Response, int]:
        before = a.commits
        params = {"count": 1, "after_id": 0, "timeout": 1}
        waiting = asyncio.create_task(client.get("/_mock/events/wait", params=params))
        while a.commits == before:  # the wait's first query has not committed yet
            await asyncio.sleep(0)
        written = _append(b)  # synchronous on the loop: the wait cannot reach its deadline
        return await waiting, written

    answer, written = _on_deaf_instance(scene)
    assert answer.status_code == 200, answer.text
    assert [e["id"] for e in answer.json()["data"]] == [written]
