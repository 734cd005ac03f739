"""What the dashboard reads live: the event stream, chart figures, and posted run reports.

`GET /_mock/stream` is server-sent events: each commit that added attempts sends them (oldest
first) as one `events` message; a comment every 15 s keeps proxies from closing an idle stream.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from mock_ft.crm.guard import control_guard, unambiguous_query
from mock_ft.crm.schemas import ErrorBody, EventPublic
from mock_ft.journal import EventFilter, Journal
from mock_ft.journal.jsontext import dumps
from mock_ft.journal.runs import RunEntry, append_run, event_rate, latency_histogram, query_runs
from mock_ft.settings import Settings

__all__ = ["build_live_router"]

# Characters that many line readers (Python's splitlines, so httpx) take as line breaks; JSON may
# carry them raw inside strings, which would cut a `data:` line. Escaped, the JSON is the same.
_LINE_BREAKS = (
    (b"\xe2\x80\xa8", b"\\u2028"),
    (b"\xe2\x80\xa9", b"\\u2029"),
    (b"\xc2\x85", b"\\u0085"),
)
_BATCH = 200  # attempts per stream message at most
_HEARTBEAT = 15.0


class RunIn(BaseModel):
    """A run report, as `mock-ft verify` or `mock-ft replay` wrote it (report.json, replay.json)."""

    kind: Literal["verify", "replay"]
    document: dict[str, Any] = Field(description="The report's JSON; `passed` says the verdict.")


class RunPublic(BaseModel):
    id: int
    kind: str
    received_at: float
    passed: bool
    document: dict[str, Any]

    @classmethod
    def of(cls, entry: RunEntry) -> RunPublic:
        return cls(
            id=entry.id,
            kind=entry.kind,
            received_at=entry.received_at,
            passed=entry.passed,
            document=entry.document,
        )


class RunsPublic(BaseModel):
    data: list[RunPublic]


class Charts(BaseModel):
    """Figures for the dashboard's charts."""

    latency: list[dict[str, Any]] = Field(description="Delivery latency per bucket (newest 10k).")
    rate: list[dict[str, Any]] = Field(description="Attempts per second over the last `window` s.")
    window: int


def build_live_router(settings: Settings) -> APIRouter:
    """The /_mock/stream, /_mock/charts and /_mock/runs routes."""
    protected, errors = control_guard(settings)
    router = APIRouter(
        prefix="/_mock",
        tags=["mock control"],
        responses=errors,
        dependencies=[*protected, Depends(unambiguous_query)],
    )

    @router.get(
        "/stream",
        response_class=StreamingResponse,
        responses={
            200: {"content": {"text/event-stream": {}}, "description": "Server-sent events."}
        },
    )
    async def stream(
        request: Request,
        after_id: Annotated[
            int, Query(ge=0, le=2**63 - 1, description="Send attempts above it.")
        ] = 0,
    ) -> StreamingResponse:
        """New journal attempts as they are committed (`event: events`, data: a JSON list)."""
        journal: Journal = request.app.state.journal
        return StreamingResponse(
            _events(request, journal, after_id),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    @router.get("/charts")
    async def charts(
        request: Request, window: Annotated[int, Query(ge=10, le=3600)] = 120
    ) -> Charts:
        """Delivery latency distribution and attempts per second."""
        journal: Journal = request.app.state.journal
        latency = await journal.run(latency_histogram)
        rate = await journal.run(event_rate(time.time() - window))
        return Charts(latency=latency, rate=rate, window=window)

    @router.post(
        "/runs",
        status_code=201,
        responses={400: {"model": ErrorBody, "description": "The body is not JSON."}},
    )
    async def add_run(request: Request, run: Annotated[RunIn, Body()]) -> RunPublic:
        """Keep a run report for the dashboard (sent by verify and replay given --ft-url)."""
        journal: Journal = request.app.state.journal
        passed = bool(run.document.get("passed"))
        now = time.time()
        run_id = await journal.run(append_run(run.kind, now, passed, run.document))
        return RunPublic(
            id=run_id, kind=run.kind, received_at=now, passed=passed, document=run.document
        )

    @router.get("/runs")
    async def list_runs(
        request: Request,
        kind: Annotated[Literal["verify", "replay"] | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 10,
    ) -> RunsPublic:
        """The newest run reports first."""
        journal: Journal = request.app.state.journal
        return RunsPublic(
            data=[RunPublic.of(r) for r in await journal.run(query_runs(kind, limit))]
        )

    return router


async def _events(request: Request, journal: Journal, after_id: int) -> AsyncIterator[bytes]:
    last = after_id
    yield b": mock-ft event stream\n\n"
    beat = time.monotonic()
    while not await request.is_disconnected():
        seen = journal.commits
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
