"""`/_mock/players`: the player model, as FT's segmentation would see each player."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from mock_ft.crm.guard import control_guard, unambiguous_query
from mock_ft.crm.schemas import ErrorBody
from mock_ft.players import PlayerModel
from mock_ft.settings import Settings

__all__ = ["PlayerPublic", "build_player_router"]


class PlayerPublic(BaseModel):
    """One player: folded from accepted events (money in base currency) and the lookups."""

    model_config = ConfigDict(extra="allow")

    user_id: str
    event_count: int
    last_event_id: int = Field(description="The newest event folded in.")
    registered_at: str | None
    last_login_at: str | None
    deposit_count: int = Field(description="Approved deposits minus rolled-back ones.")
    deposit_total_base: float = Field(description="amount x exchange_rate, rollbacks subtracted.")
    first_deposit_at: str | None
    withdrawal_count: int
    withdrawal_total_base: float
    active_bonus_count: int
    active_bonuses: dict[str, dict[str, Any]] = Field(description="By user_bonus_id.")
    casino_turnover_base: float
    sportsbook_turnover_base: float
    custom_events: dict[str, int] = Field(description="CUSTOM events by notification_type.")
    profile: dict[str, Any] | None = Field(description="The latest valid /userdetails answer.")
    consents: dict[str, Any] | None = Field(description="From the latest /userconsents.")
    blocked: bool | None
    excluded: bool | None


class PlayersPublic(BaseModel):
    """A page of players by user id; pass `next_cursor` as `after` for the next."""

    data: list[PlayerPublic]
    count: int
    next_cursor: str | None


def _players(request: Request) -> PlayerModel:
    players: PlayerModel = request.app.state.players
    return players


def build_player_router(settings: Settings) -> APIRouter:
    """The /_mock/players routes."""
    protected, errors = control_guard(settings)
    router = APIRouter(
        prefix="/_mock/players",
        tags=["mock control"],
        responses=errors,
        dependencies=[*protected, Depends(unambiguous_query)],
    )

    @router.get("")
    async def list_players(
        request: Request,
        after: Annotated[str | None, Query(description="The previous page's next_cursor.")] = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> PlayersPublic:
        """Players with accepted events, by user id."""
        page = await _players(request).page(after, limit)
        data = [PlayerPublic.model_validate(p) for p in page.players]
        return PlayersPublic(data=data, count=len(data), next_cursor=page.next_cursor)

    @router.get(
        "/{user_id}",
        response_model=PlayerPublic,
        responses={404: {"model": ErrorBody, "description": "No accepted event of this user."}},
    )
    async def get_player(
        request: Request,
        user_id: Annotated[str, Path()],
        as_of: Annotated[
            int | None, Query(ge=0, le=2**63 - 1, description="Only events up to this id.")
        ] = None,
    ) -> PlayerPublic | JSONResponse:
        """One player, now or as of an event."""
        view = await _players(request).view(user_id, upto=as_of)
        if view is None:
            message = f"no accepted event of user {user_id!r} in the journal"
            return JSONResponse(ErrorBody(error="not_found", message=message).model_dump(), 404)
        return PlayerPublic.model_validate(view)

    return router
