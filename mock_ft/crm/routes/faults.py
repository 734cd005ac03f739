"""`/_mock/faults`: set, list and clear fault rules (see mock_ft/faults.py; on a PostgreSQL
journal they are the cluster's, crm/rulesync.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path
from fastapi.responses import JSONResponse

from mock_ft.crm.deps import MAX_ID, RulesDep
from mock_ft.crm.schemas import ErrorBody, FaultPublic, FaultsCleared, FaultsPublic
from mock_ft.faultspec import FaultSpec

__all__ = ["router"]

router = APIRouter(prefix="/_mock/faults", tags=["mock control"])


@router.get("")
async def list_faults(rules: RulesDep) -> FaultsPublic:
    """The live fault rules, oldest (first to match) first."""
    found = await rules.fault_rules()
    return FaultsPublic(data=[FaultPublic.model_validate(r.public()) for r in found])


@router.post(
    "",
    status_code=201,
    responses={400: {"model": ErrorBody, "description": "The body is not JSON."}},
)
async def add_fault(rules: RulesDep, spec: Annotated[FaultSpec, Body()]) -> FaultPublic:
    """Add a rule: e.g. `{"status": 503, "first_attempts": 2}` fails each event twice,
    `{"action": "timeout", "delay_ms": 2000, "probability": 0.1}` holds 10% of attempts
    for 2 s and then drops the connection unanswered, `{"action": "pause", "transport":
    "rabbitmq", "delay_ms": 3000, "times": 1}` stops consuming RabbitMQ for 3 s once."""
    rule = await rules.add_fault(spec)
    return FaultPublic.model_validate(rule.public())


@router.delete("")
async def clear_faults(rules: RulesDep) -> FaultsCleared:
    """Remove every rule."""
    return FaultsCleared(removed=await rules.clear_faults())


@router.delete(
    "/{rule_id}",
    response_model=FaultsCleared,
    responses={404: {"model": ErrorBody, "description": "No such rule."}},
)
async def remove_fault(
    rules: RulesDep, rule_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> FaultsCleared | JSONResponse:
    """Remove one rule."""
    if await rules.remove_fault(rule_id):
        return FaultsCleared(removed=1)
    body = ErrorBody(error="not_found", message=f"no fault rule #{rule_id}; GET lists them")
    return JSONResponse(body.model_dump(), status_code=404)
