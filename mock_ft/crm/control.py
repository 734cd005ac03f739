"""The mock's own control API under /_mock/: events, wait, reset, stats, health."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse

from mock_ft._version import __version__
from mock_ft.crm.callback_control import EventDetail, event_detail
from mock_ft.crm.guard import ControlAuthError, control_guard, unambiguous_query
from mock_ft.crm.schemas import (
    BrokerHealth,
    DeliveryPublic,
    ErrorBody,
    EventPublic,
    EventsPublic,
    Health,
    Idle,
    ResetResult,
    Stats,
    WaitTimeout,
)
from mock_ft.figures import percentile as _percentile
from mock_ft.journal import EventFilter, Journal
from mock_ft.journal.delivery import delivery_report
from mock_ft.settings import Settings

__all__ = ["ControlAuthError", "build_control_router", "control_guard"]

Verdict = Literal["accepted", "rejected", "faulted"]
MAX_ID = 2**63 - 1  # SQLite INTEGER range
STATS_DELIVERY_ROWS = 10_000  # bounds the stats call (it blocks the loop) and its memory


def _journal(request: Request) -> Journal:
    journal: Journal = request.app.state.journal
    return journal


JournalDep = Annotated[Journal, Depends(_journal)]


def _filters(
    type: Annotated[str | None, Query(description="Event type, e.g. PAYMENT.")] = None,
    user_id: Annotated[str | None, Query()] = None,
    verdict: Annotated[Verdict | None, Query()] = None,
    transport: Annotated[str | None, Query(description="rest, rabbitmq or kafka.")] = None,
    since: Annotated[
        float | None, Query(allow_inf_nan=False, description="Unix time, inclusive.")
    ] = None,
    until: Annotated[
        float | None, Query(allow_inf_nan=False, description="Unix time, exclusive.")
    ] = None,
) -> EventFilter:
    return EventFilter(type, user_id, verdict, transport, since, until)


FilterDep = Annotated[EventFilter, Depends(_filters)]
WaitSeconds = Annotated[
    float, Query(gt=0, allow_inf_nan=False, description="Seconds; capped by the server.")
]


def build_control_router(settings: Settings) -> APIRouter:
    """The /_mock/ router; protected by the control token when one is configured."""
    protected, errors = control_guard(settings)
    router = APIRouter(
        prefix="/_mock",
        tags=["mock control"],
        responses=errors,
        dependencies=[Depends(unambiguous_query)],
    )

    @router.get("/health")
    async def health(request: Request, journal: JournalDep) -> Health:
        """Report that the mock is up, where its journal is, and how its brokers are doing."""
        brokers = getattr(request.app.state, "brokers", None)
        found = (
            [BrokerHealth.model_validate(b.public()) for b in brokers.status()] if brokers else []
        )
        return Health(status="ok", version=__version__, journal=journal.path, brokers=found)

    @router.get("/events", dependencies=protected)
    async def list_events(
        journal: JournalDep,
        flt: FilterDep,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        after_id: Annotated[
            int | None, Query(ge=0, le=MAX_ID, description="Cursor: ids above it.")
        ] = None,
        before_id: Annotated[
            int | None, Query(ge=0, le=MAX_ID, description="Cursor: ids below it.")
        ] = None,
        order: Annotated[Literal["asc", "desc"], Query()] = "asc",
    ) -> EventsPublic:
        """List journaled attempts matching the filters, oldest first unless order=desc."""
        flt = replace(flt, after_id=after_id, before_id=before_id)
        entries = await journal.run(Journal.query(flt, limit=limit, newest_first=order == "desc"))
        cursor = entries[-1].id if len(entries) == limit else None
        return EventsPublic(
            data=[EventPublic.of(e) for e in entries], count=len(entries), next_cursor=cursor
        )

    @router.get(
        "/events/wait",
        dependencies=protected,
        response_model=EventsPublic,
        responses={408: {"model": WaitTimeout, "description": "Too few matched in time."}},
    )
    async def wait_for_events(
        journal: JournalDep,
        flt: FilterDep,
        count: Annotated[int, Query(ge=1, le=1000)] = 1,
        timeout: WaitSeconds = 5.0,
        after_id: Annotated[
            int | None, Query(ge=0, le=MAX_ID, description="Only ids above it.")
        ] = None,
    ) -> EventsPublic | JSONResponse:
        """Answer as soon as `count` attempts match (long-poll), or 408 with what was seen."""
        flt = replace(flt, after_id=after_id)
        timeout = min(timeout, settings.wait_max_seconds)
        deadline = time.monotonic() + timeout
        while True:
            seen = journal.commits
            matched = await journal.run(Journal.query(flt, limit=count))
            if len(matched) >= count:
                return EventsPublic(
                    data=[EventPublic.of(e) for e in matched], count=len(matched), next_cursor=None
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            await journal.next_commit(remaining, after=seen)
        recent = await journal.run(Journal.query(EventFilter(), limit=5, newest_first=True))
        body = WaitTimeout(
            message=f"wanted {count} matching event(s), saw {len(matched)} within {timeout:g} s",
            wanted=count,
            seen=[EventPublic.of(e) for e in matched],
            recent=[EventPublic.of(e) for e in recent],
        )
        return JSONResponse(body.model_dump(mode="json"), status_code=408)

    @router.get(
        "/idle",
        dependencies=protected,
        response_model=Idle,
        responses={408: {"model": ErrorBody, "description": "Still busy when the time ran out."}},
    )
    async def wait_idle(
        request: Request,
        timeout: WaitSeconds = 5.0,
    ) -> Idle | JSONResponse:
        """Answer once the lookups and callback actions caused by every event journaled so far
        have run and been journaled: then a test can tell "nothing fired" from "not yet"."""
        state = request.app.state
        timeout = min(timeout, settings.wait_max_seconds)
        try:
            async with asyncio.timeout(timeout):
                await state.lookups.idle()
                await state.callbacks.idle()
                await state.lookups.idle()  # lookups a callback rule asked for
        except TimeoutError:
            message = f"lookups or callback actions still running after {timeout:g} s"
            body = ErrorBody(error="wait_timeout", message=message)
            return JSONResponse(body.model_dump(), status_code=408)
        return Idle()

    @router.get(
        "/events/{event_id}",
        dependencies=protected,
        response_model=EventDetail,
        responses={404: {"model": ErrorBody, "description": "No such event."}},
    )
    async def get_event(
        journal: JournalDep, event_id: Annotated[int, Path(ge=0, le=MAX_ID)]
    ) -> EventDetail | JSONResponse:
        """One journaled attempt by id, with the lookups and Callback Actions it caused."""
        entry = await journal.run(Journal.get(event_id))
        if entry is None:
            body = ErrorBody(error="not_found", message=f"no event #{event_id} in the journal")
            return JSONResponse(body.model_dump(), status_code=404)
        return await event_detail(journal, EventPublic.of(entry))

    @router.get("/delivery", dependencies=protected)
    async def delivery(
        journal: JournalDep,
        flt: FilterDep,
        after_id: Annotated[
            int | None, Query(ge=0, le=MAX_ID, description="Only attempts with ids above it.")
        ] = None,
        expected: Annotated[
            int | None,
            Query(ge=0, le=MAX_ID, description="Events the run should have published."),
        ] = None,
        hammer_ms: Annotated[
            float,
            Query(
                ge=0,
                le=60_000,
                allow_inf_nan=False,
                description="A retry sooner than this after a failure without Retry-After "
                "counts as hammering.",
            ),
        ] = 20.0,
    ) -> DeliveryPublic:
        """Delivery report of a run: lost, duplicated, attempts per event, back-off, latency.

        Filters choose the run's attempts (e.g. `since` its start, or `after_id`); `verdict`
        is ignored, since the report needs every attempt.
        """
        flt = replace(flt, verdict=None, after_id=after_id)
        report = await journal.run(delivery_report(flt, expected=expected, hammer_ms=hammer_ms))
        return DeliveryPublic.model_validate(report.public())

    @router.post("/reset", dependencies=protected)
    async def reset(request: Request, journal: JournalDep) -> ResetResult:
        """Delete every journaled attempt, lookup, callback and all stream-check state (the
        loaded callback and fault rules stay)."""
        removed = await journal.run(Journal.reset)
        request.app.state.players.clear()
        return ResetResult(removed=removed)

    @router.get("/stats", dependencies=protected)
    async def stats(journal: JournalDep) -> Stats:
        """Counts by verdict, type, transport, error and warning, and delivery latency."""
        counters = await journal.run(Journal.counters)
        latencies = await journal.run(Journal.recent_latencies)
        delivery = await journal.run(
            delivery_report(EventFilter(), max_rows=STATS_DELIVERY_ROWS, newest=True)
        )
        by_verdict = counters.get("verdict", {})
        return Stats(
            total=sum(by_verdict.values()),
            by_verdict=by_verdict,
            by_type=counters.get("type", {}),
            by_transport=counters.get("transport", {}),
            errors=counters.get("error", {}),
            warnings=counters.get("warning", {}),
            latency_ms={
                "p50": _percentile(latencies, 0.50),
                "p99": _percentile(latencies, 0.99),
                "max": latencies[-1] if latencies else None,
            },
            delivery=DeliveryPublic.model_validate(delivery.public()),
        )

    return router
