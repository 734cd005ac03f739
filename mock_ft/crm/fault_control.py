"""`/_mock/faults`: set, list and clear fault rules (see mock_ft/faults.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from mock_ft.crm.guard import control_guard
from mock_ft.crm.schemas import ErrorBody
from mock_ft.faults import FaultInjector
from mock_ft.faultspec import FaultSpec
from mock_ft.settings import Settings

__all__ = ["FaultSpec", "build_fault_router"]


class FaultPublic(BaseModel):
    """A live rule, with its id and how many attempts it acted on (see POST for each field)."""

    id: int
    action: Literal[
        "status", "delay", "timeout", "reset", "drop_answer", "nack", "close_channel", "pause"
    ]
    status: int | None = Field(description="The status answered (action `status` only).")
    retry_after: int | None
    delay_ms: int | None
    transport: str | None
    path: str | None
    event_type: str | None
    user_id: str | None
    times: int | None = Field(description="How many more attempts it acts on, if limited.")
    first_attempts: int | None
    probability: float
    hits: int


class FaultsPublic(BaseModel):
    data: list[FaultPublic]


class FaultsCleared(BaseModel):
    removed: int


def _faults(request: Request) -> FaultInjector:
    faults: FaultInjector = request.app.state.faults
    return faults


def build_fault_router(settings: Settings) -> APIRouter:
    """The /_mock/faults routes."""
    protected, errors = control_guard(settings)
    router = APIRouter(
        prefix="/_mock/faults", tags=["mock control"], responses=errors, dependencies=protected
    )

    @router.get("")
    async def list_faults(request: Request) -> FaultsPublic:
        """The live fault rules, oldest (first to match) first."""
        rules = _faults(request).rules()
        return FaultsPublic(data=[FaultPublic.model_validate(r.public()) for r in rules])

    @router.post(
        "",
        status_code=201,
        responses={400: {"model": ErrorBody, "description": "The body is not JSON."}},
    )
    async def add_fault(request: Request, spec: Annotated[FaultSpec, Body()]) -> FaultPublic:
        """Add a rule: e.g. `{"status": 503, "first_attempts": 2}` fails each event twice,
        `{"action": "timeout", "delay_ms": 2000, "probability": 0.1}` holds 10% of attempts
        for 2 s and then drops the connection unanswered, `{"action": "pause", "transport":
        "rabbitmq", "delay_ms": 3000, "times": 1}` stops consuming RabbitMQ for 3 s once."""
        rule = _faults(request).add(**spec.model_dump())
        return FaultPublic.model_validate(rule.public())

    @router.delete("")
    async def clear_faults(request: Request) -> FaultsCleared:
        """Remove every rule."""
        return FaultsCleared(removed=_faults(request).clear())

    @router.delete(
        "/{rule_id}",
        response_model=FaultsCleared,
        responses={404: {"model": ErrorBody, "description": "No such rule."}},
    )
    async def remove_fault(
        request: Request, rule_id: Annotated[int, Path(ge=1, le=2**63 - 1)]
    ) -> FaultsCleared | JSONResponse:
        """Remove one rule."""
        if _faults(request).remove(rule_id):
            return FaultsCleared(removed=1)
        body = ErrorBody(error="not_found", message=f"no fault rule #{rule_id}; GET lists them")
        return JSONResponse(body.model_dump(), status_code=404)

    return router
