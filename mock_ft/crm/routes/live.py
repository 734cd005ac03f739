"""What the dashboard reads live: the event stream, chart figures, and posted run reports.

`GET /_mock/stream` is server-sent events: each commit that added attempts sends them (oldest
first) as one `events` message; a comment every 15 s keeps proxies from closing an idle stream.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import StreamingResponse

from mock_ft.crm.deps import MAX_ID, JournalDep
from mock_ft.crm.schemas import Charts, ErrorBody, EventPublic, RunIn, RunPublic, RunsPublic
from mock_ft.journal import EventFilter, Journal
from mock_ft.journal.jsontext import dumps
from mock_ft.journal.runs import append_run, event_rate, latency_histogram, query_runs

__all__ = ["router"]

# Characters that many line readers (Python's splitlines, so httpx) take as line breaks; JSON may
# carry them raw inside strings, which would cut a `data:` line. Escaped, the JSON is the same.
_LINE_BREAKS = (
    (b"\xe2\x80\xa8", b"\\u2028"),
    (b"\xe2\x80\xa9", b"\\u2029"),
    (b"\xc2\x85", b"\\u0085"),
)
_BATCH = 200  # attempts per stream message at most
_HEARTBEAT = 15.0

router = APIRouter(prefix="/_mock", tags=["mock control"])


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-sent events."}},
)
async def stream(
    request: Request,
    journal: JournalDep,
    after_id: Annotated[int, Query(ge=0, le=MAX_ID, description="Send attempts above it.")] = 0,
) -> StreamingResponse:
    """New journal attempts as they are committed (`event: events`, data: a JSON list)."""
    return StreamingResponse(
        _events(request, journal, after_id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/charts")
async def charts(
    journal: JournalDep, window: Annotated[int, Query(ge=10, le=3600)] = 120
) -> Charts:
    """Delivery latency distribution and attempts per second."""
    latency = await journal.run(latency_histogram)
    rate = await journal.run(event_rate(time.time() - window))
    return Charts(latency=latency, rate=rate, window=window)


@router.post(
    "/runs",
    status_code=201,
    responses={400: {"model": ErrorBody, "description": "The body is not JSON."}},
)
async def add_run(journal: JournalDep, run: Annotated[RunIn, Body()]) -> RunPublic:
    """Keep a run report for the dashboard (sent by verify and replay given --ft-url)."""
    passed = bool(run.document.get("passed"))
    now = time.time()
    run_id = await journal.run(append_run(run.kind, now, passed, run.document))
    return RunPublic(
        id=run_id, kind=run.kind, received_at=now, passed=passed, document=run.document
    )


@router.get("/runs")
async def list_runs(
    journal: JournalDep,
    kind: Annotated[Literal["verify", "replay"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> RunsPublic:
    """The newest run reports first."""
    return RunsPublic(data=[RunPublic.of(r) for r in await journal.run(query_runs(kind, limit))])


async def _events(request: Request, journal: Journal, after_id: int) -> AsyncIterator[bytes]:
    last = after_id
    yield b": mock-ft event stream\n\n"
    beat = time.monotonic()
    while not await request.is_disconnected():
        seen = journal.changes
        rows = await journal.run(Journal.query(EventFilter(after_id=last), limit=_BATCH))
        if rows:
            last = rows[-1].id
            data = [EventPublic.of(r).model_dump(mode="json") for r in rows]
            yield b"event: events\ndata: " + _one_line(dumps(data)) + b"\n\n"
            beat = time.monotonic()
            continue
        if time.monotonic() - beat > _HEARTBEAT:
            yield b": keep-alive\n\n"
            beat = time.monotonic()
        await journal.next_commit(1.0, after=seen)
        await asyncio.sleep(0)


def _one_line(data: bytes) -> bytes:
    """`data` with every raw line-break character a JSON string may hold escaped."""
    for raw, escaped in _LINE_BREAKS:
        if raw in data:
            data = data.replace(raw, escaped)
    return data
