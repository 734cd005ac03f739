"""`/_mock/lookups`: the mock's FT-style calls to the operator, and what was wrong with them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from mock_ft.crm.guard import control_guard, unambiguous_query
from mock_ft.crm.schemas import ProblemPublic
from mock_ft.journal import Journal
from mock_ft.journal.lookups import LookupEntry, LookupFilter, query_lookups
from mock_ft.settings import Settings

__all__ = [
    "LookupPublic",
    "LookupsPublic",
    "build_lookup_router",
    "lookups_of_event",
]


class LookupPublic(BaseModel):
    """One call the mock made to the operator's Operator API, as FT would."""

    id: int
    event_id: int | None = Field(description="The journaled event that caused it.")
    user_id: str | None
    endpoint: str = Field(description="userdetails, userconsents or userblocks.")
    method: str
    url: str
    started_at: float
    status_code: int | None
    latency_ms: float | None
    ok: bool = Field(description="200 in FT's exact shape (a slow answer alone is still ok).")
    problems: list[ProblemPublic] = Field(description="Status, content type, shape, `slow`.")
    error: str | None = Field(description="Why no answer came (unreachable, timeout, token).")
    response: str | None = Field(description="The answer's first 4 KiB, as evidence.")

    @classmethod
    def of(cls, entry: LookupEntry) -> LookupPublic:
        """Public view of a journaled lookup."""
        data: dict[str, Any] = {
            name: getattr(entry, name) for name in cls.model_fields if name != "problems"
        }
        return cls(**data, problems=[ProblemPublic(**p.to_dict()) for p in entry.problems])


class LookupsPublic(BaseModel):
    """A page of lookups; pass `next_cursor` as `after_id` for the next."""

    data: list[LookupPublic]
    count: int
    next_cursor: int | None


async def lookups_of_event(journal: Journal, event_id: int) -> list[LookupPublic]:
    """The lookups one event caused."""
    entries = await journal.run(query_lookups(LookupFilter(event_id=event_id), limit=100))
    return [LookupPublic.of(e) for e in entries]


def build_lookup_router(settings: Settings) -> APIRouter:
    """The /_mock/lookups route."""
    protected, errors = control_guard(settings)
    router = APIRouter(
        prefix="/_mock/lookups",
        tags=["mock control"],
        responses=errors,
        dependencies=[*protected, Depends(unambiguous_query)],
    )

    @router.get("")
    async def list_lookups(
        request: Request,
        event_id: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
        user_id: Annotated[str | None, Query()] = None,
        endpoint: Annotated[str | None, Query(description="userdetails, ...")] = None,
        ok: Annotated[bool | None, Query(description="Only passed (true) or failed.")] = None,
        after_id: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> LookupsPublic:
        """Lookups oldest first, filtered; each links to the event that caused it."""
        journal: Journal = request.app.state.journal
        flt = LookupFilter(event_id, user_id, endpoint, ok, after_id)
        entries = await journal.run(query_lookups(flt, limit=limit))
        data = [LookupPublic.of(e) for e in entries]
        cursor = data[-1].id if len(data) == limit else None
        return LookupsPublic(data=data, count=len(data), next_cursor=cursor)

    return router
