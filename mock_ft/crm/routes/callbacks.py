"""`/_mock/callbacks`: load callback rules, and see every Callback Action the mock fired."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query
from fastapi.responses import JSONResponse

from mock_ft.callbacks import Rule, RuleSpec, rule_set_names
from mock_ft.crm.deps import MAX_ID, JournalDep, RuleCompilerDep, RulesDep
from mock_ft.crm.schemas import (
    CallbackPublic,
    CallbacksPublic,
    ErrorBody,
    ProblemPublic,
    RulePublic,
    RulesPublic,
    RulesRemoved,
)
from mock_ft.errors import RuleError
from mock_ft.journal.callbacks import CallbackFilter, query_callbacks

__all__ = ["router"]

router = APIRouter(prefix="/_mock/callbacks", tags=["mock control"])
_INVALID: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "The body is not JSON."},
    422: {"model": ErrorBody, "description": "Invalid rule: each problem's path."},
}


@router.get("")
async def list_callbacks(
    journal: JournalDep,
    rule_id: Annotated[str | None, Query()] = None,
    event_id: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
    user_id: Annotated[str | None, Query()] = None,
    ok: Annotated[bool | None, Query(description="Only succeeded (true) or failed.")] = None,
    after_id: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> CallbacksPublic:
    """Fired callbacks oldest first, filtered; each links to the event that triggered it."""
    flt = CallbackFilter(rule_id, event_id, user_id, ok, after_id)
    data = [CallbackPublic.of(e) for e in await journal.run(query_callbacks(flt, limit=limit))]
    cursor = data[-1].id if len(data) == limit else None
    return CallbacksPublic(data=data, count=len(data), next_cursor=cursor)


@router.get("/rules")
async def list_rules(rules: RulesDep) -> RulesPublic:
    """The loaded rules (keys masked) and the ready-made sets."""
    loaded = [_public(r) for r in rules.callback_rules()]
    return RulesPublic(data=loaded, sets=rule_set_names())


@router.post("/rules", status_code=201, response_model=RulePublic, responses=_INVALID)
async def add_rule(
    rules: RulesDep, compiler: RuleCompilerDep, spec: Annotated[RuleSpec, Body()]
) -> RulePublic | JSONResponse:
    """Load a rule (one with the same id is replaced). Its templates are checked now: an
    unknown placeholder, event field or player field is refused with its JSON path."""
    try:
        rule = compiler(spec)
        await rules.add_callbacks([rule])
    except RuleError as exc:
        return _invalid(exc)
    return _public(rule)


@router.post(
    "/sets/{name}",
    status_code=201,
    response_model=RulesPublic,
    responses={
        422: _INVALID[422],
        404: {"model": ErrorBody, "description": "No such rule set."},
    },
)
async def load_set(
    rules: RulesDep, compiler: RuleCompilerDep, name: Annotated[str, Path()]
) -> RulesPublic | JSONResponse:
    """Load a ready-made rule set (`all` for every one)."""
    sets = rule_set_names()
    if name not in (*sets, "all"):
        message = f"no rule set {name!r}; known: {', '.join([*sets, 'all'])}"
        return JSONResponse(ErrorBody(error="not_found", message=message).model_dump(), 404)
    try:
        loaded = compiler.load([name])
        await rules.add_callbacks(loaded)
    except RuleError as exc:
        return _invalid(exc)
    return RulesPublic(data=[_public(r) for r in loaded], sets=sets)


@router.delete("/rules")
async def clear_rules(rules: RulesDep) -> RulesRemoved:
    """Unload every rule."""
    return RulesRemoved(removed=await rules.clear_callbacks())


@router.delete(
    "/rules/{rule_id}",
    response_model=RulesRemoved,
    responses={404: {"model": ErrorBody, "description": "No such rule."}},
)
async def remove_rule(
    rules: RulesDep, rule_id: Annotated[str, Path()]
) -> RulesRemoved | JSONResponse:
    """Unload one rule."""
    if await rules.remove_callback(rule_id):
        return RulesRemoved(removed=1)
    body = ErrorBody(
        error="not_found", message=f"no rule {rule_id!r}; GET /_mock/callbacks/rules lists them"
    )
    return JSONResponse(body.model_dump(), status_code=404)


def _public(rule: Rule) -> RulePublic:
    return RulePublic.model_validate({**rule.public(), "resolved_url": rule.url})


def _invalid(exc: RuleError) -> JSONResponse:
    problems = [ProblemPublic(**p.to_dict()) for p in exc.problems]
    body = ErrorBody(error="invalid_rule", message=exc.message, problems=problems)
    return JSONResponse(body.model_dump(), status_code=422)
