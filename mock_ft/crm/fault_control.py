"""`/_mock/faults`: set, list and clear fault rules (see mock_ft/faults.py)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from mock_ft.crm.guard import control_guard
from mock_ft.crm.schemas import ErrorBody
from mock_ft.faults import FaultInjector
from mock_ft.settings import Settings

__all__ = ["FaultSpec", "build_fault_router"]


class FaultSpec(BaseModel):
    """A fault rule. Match fields left out match anything; the first matching rule answers."""

    model_config = ConfigDict(extra="forbid")

    status: Literal[429, 500, 502, 503] = Field(503, description="Status to answer.")
    retry_after: int | None = Field(None, ge=0, description="`Retry-After` seconds to send.")
    transport: Literal["rest", "rabbitmq", "kafka"] | None = None
    path: str | None = Field(None, description="FT path, e.g. /v1/integration/payment.")
    event_type: str | None = Field(None, description="FT event type, e.g. PAYMENT.")
    user_id: str | None = None
    times: int | None = Field(None, ge=1, description="Fail only the next N matching attempts.")
    first_attempts: int | None = Field(
        None, ge=1, description="Fail the first N attempts of each distinct event, then accept."
    )
    probability: float = Field(
        1.0, gt=0, le=1, allow_inf_nan=False, description="Chance to fail a matching attempt."
    )

    @field_validator(
        "status", "retry_after", "times", "first_attempts", "probability", mode="before"
    )
    @classmethod
    def _no_booleans(cls, value: Any) -> Any:
        if isinstance(value, bool):  # JSON true is not a number, though Python's bool is an int
            msg = "must be a number, not a boolean"
            raise ValueError(msg)
        return value


class FaultPublic(FaultSpec):
    """A live rule, with its id and how many attempts it failed."""

    model_config = ConfigDict(extra="ignore")

    id: int
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
    async def add_fault(request: Request, spec: FaultSpec) -> FaultPublic:
        """Add a rule: e.g. `{"status": 503, "first_attempts": 2}` fails each event twice."""
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
