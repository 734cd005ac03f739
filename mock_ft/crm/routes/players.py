"""`/_mock/players`: the player model, as FT's segmentation would see each player."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from mock_ft.crm.deps import MAX_ID, PlayersDep
from mock_ft.crm.schemas import ErrorBody, PlayerPublic, PlayersPublic

__all__ = ["router"]

router = APIRouter(prefix="/_mock/players", tags=["mock control"])


@router.get("")
async def list_players(
    players: PlayersDep,
    after: Annotated[str | None, Query(description="The previous page's next_cursor.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> PlayersPublic:
    """Players with accepted events, by user id."""
    page = await players.page(after, limit)
    data = [PlayerPublic.model_validate(p) for p in page.players]
    return PlayersPublic(data=data, count=len(data), next_cursor=page.next_cursor)


@router.get(
    "/{user_id}",
    response_model=PlayerPublic,
    responses={404: {"model": ErrorBody, "description": "No accepted event of this user."}},
)
async def get_player(
    players: PlayersDep,
    user_id: Annotated[str, Path()],
    as_of: Annotated[
        int | None, Query(ge=0, le=MAX_ID, description="Only events up to this id.")
    ] = None,
) -> PlayerPublic | JSONResponse:
    """One player, now or as of an event."""
    view = await players.view(user_id, upto=as_of)
    if view is None:
        message = f"no accepted event of user {user_id!r} in the journal"
        return JSONResponse(ErrorBody(error="not_found", message=message).model_dump(), 404)
    return PlayerPublic.model_validate(view)
