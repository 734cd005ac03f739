"""`/_mock/lookups`: the mock's FT-style calls to the operator, and what was wrong with them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from mock_ft.crm.deps import MAX_ID, JournalDep
from mock_ft.crm.schemas import LookupPublic, LookupsPublic
from mock_ft.journal.lookups import LookupFilter, query_lookups

__all__ = ["router"]

router = APIRouter(prefix="/_mock/lookups", tags=["mock control"])


@router.get("")
async def list_lookups(
    journal: JournalDep,
    event_id: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
    user_id: Annotated[str | None, Query()] = None,
    endpoint: Annotated[str | None, Query(description="userdetails, ...")] = None,
    ok: Annotated[bool | None, Query(description="Only passed (true) or failed.")] = None,
    after_id: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> LookupsPublic:
    """Lookups oldest first, filtered; each links to the event that caused it."""
    flt = LookupFilter(event_id, user_id, endpoint, ok, after_id)
    entries = await journal.run(query_lookups(flt, limit=limit))
    data = [LookupPublic.of(e) for e in entries]
    cursor = data[-1].id if len(data) == limit else None
    return LookupsPublic(data=data, count=len(data), next_cursor=cursor)
