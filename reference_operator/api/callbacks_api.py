"""`/callbacks/`: the operator's receivers of FT's Callback Actions.

A Callback Action is an HTTP request FT fires from an activity; it authenticates only with
`x-api-key` (here `callback_api_key`) and carries FT's `X-Fasttrack-*` headers. FT may fire one
again, so each receiver is idempotent on `X-Fasttrack-Id`: the first answer is stored and a
repeat gets it back with `"duplicate": true`, changing nothing. Errors are in FT's shape
`{"error": ..., "code": ...}`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ..api.auth import OperatorAuth
from ..api.fasttrack_headers import fasttrack_id
from ..platform import Platform, callbacks

__all__ = ["build_callbacks_router"]

UserId = Annotated[str, StringConstraints(min_length=1)]


class CancelBonus(BaseModel):
    """FT's documented template wraps the user in a list: `"user_id": ["#UserId#"]`."""

    model_config = ConfigDict(extra="allow")  # an activity may send more than we need
    user_id: UserId | Annotated[list[UserId], Field(min_length=1)]
    reason: str = ""


class LoyaltySync(BaseModel):
    model_config = ConfigDict(extra="allow")
    user_id: UserId
    turnover: float = Field(
        ge=0, allow_inf_nan=False, description="Casino turnover in base currency, from FT."
    )
    programme: str = Field("default", min_length=1)


def build_callbacks_router(platform: Platform, auth: OperatorAuth) -> APIRouter:
    """The callback receivers, each behind the Callback Actions key."""
    settings = platform.settings
    router = APIRouter(
        prefix="/callbacks",
        tags=["callback receivers"],
        dependencies=[Depends(auth.require_callback_key)],
    )
    # Serialises check-then-serve, so two deliveries of one X-Fasttrack-Id cannot both act.
    serving = threading.Lock()

    def once(request: Request, endpoint: str, serve: Callable[[], dict[str, Any]]) -> Any:
        ft_id = fasttrack_id(request)
        if ft_id is None:  # nothing to recognise a repeat by: just serve it
            return {**serve(), "duplicate": False}
        with serving:
            stored = callbacks.served_answer(platform, ft_id, endpoint)
            if stored is not None:
                return {**stored, "duplicate": True}
            answer = {**serve(), "duplicate": False}
            # Stored after the change's own commit: a crash in between makes a repeat serve
            # again, which is harmless (nothing left to cancel; the same points are no change).
            callbacks.remember_answer(platform, ft_id, endpoint, answer)
            return answer

    @router.post("/bonus/cancel", summary="Cancel active bonuses (e.g. on a withdrawal)")
    def cancel_bonus(body: CancelBonus, request: Request) -> Any:
        user_ids = [body.user_id] if isinstance(body.user_id, str) else body.user_id
        user_ids = list(dict.fromkeys(user_ids))  # a user named twice is cancelled once

        def serve() -> dict[str, Any]:
            active = callbacks.active_bonuses(platform, user_ids)
            if settings.has("cancel_bonus_noop"):
                active = []  # the defect: says Success, leaves every bonus running
            return {"data": "Success", "cancelled": callbacks.cancel_bonuses(platform, active)}

        return once(request, "bonus/cancel", serve)

    def broken() -> None:  # the `loyalty_receiver_500` defect, whatever the body says
        raise HTTPException(status_code=500, detail={"error": "internal server error", "code": 500})

    @router.post(
        "/loyalty",
        summary="Sync loyalty points from FT's turnover figure",
        dependencies=[Depends(broken)] if settings.has("loyalty_receiver_500") else [],
    )
    def loyalty(body: LoyaltySync, request: Request) -> Any:
        def serve() -> dict[str, Any]:
            points, changed = callbacks.sync_loyalty(
                platform, body.user_id, body.turnover, body.programme
            )
            return {"data": "Success", "points": points, "changed": changed}

        return once(request, "loyalty", serve)

    return router
