"""`/_mock/events`: the journaled attempts, one by one or as they arrive; and `/_mock/idle`."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from mock_ft.crm.deps import MAX_ID, FilterDep, JournalDep, SettingsDep, StateDep
from mock_ft.crm.schemas import (
    CallbackPublic,
    ErrorBody,
    EventDetail,
    EventPublic,
    EventsPublic,
    Idle,
    LookupPublic,
    WaitTimeout,
)
from mock_ft.journal import EventFilter, Journal
from mock_ft.journal.callbacks import CallbackFilter, query_callbacks
from mock_ft.journal.lookups import LookupFilter, query_lookups

__all__ = ["router"]

router = APIRouter(prefix="/_mock", tags=["mock control"])

WaitSeconds = Annotated[
    float, Query(gt=0, allow_inf_nan=False, description="Seconds; capped by the server.")
]


@router.get("/events")
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
    response_model=EventsPublic,
    responses={408: {"model": WaitTimeout, "description": "Too few matched in time."}},
)
async def wait_for_events(
    journal: JournalDep,
    settings: SettingsDep,
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
        seen = journal.changes
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
    response_model=Idle,
    responses={408: {"model": ErrorBody, "description": "Still busy when the time ran out."}},
)
async def wait_idle(state: StateDep, timeout: WaitSeconds = 5.0) -> Idle | JSONResponse:
    """Answer once the lookups and callback actions caused by every event journaled so far
    have run and been journaled: then a test can tell "nothing fired" from "not yet"."""
    timeout = min(timeout, state.settings.wait_max_seconds)
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
    public = EventPublic.of(entry)
    lookups = await journal.run(query_lookups(LookupFilter(event_id=event_id), limit=100))
    callbacks = await journal.run(query_callbacks(CallbackFilter(event_id=event_id), limit=100))
    return EventDetail(
        **public.model_dump(),
        lookups=[LookupPublic.of(e) for e in lookups],
        callbacks=[CallbackPublic.of(e) for e in callbacks],
    )
