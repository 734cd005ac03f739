"""`/_mock/callbacks`: load callback rules, and see every Callback Action the mock fired."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from mock_ft.callbacks import CallbackRunner, Rule, RuleCompiler, RuleSpec, rule_set_names
from mock_ft.callbacks.specs import TriggerSpec
from mock_ft.crm.guard import control_guard, unambiguous_query
from mock_ft.crm.lookup_control import LookupPublic, lookups_of_event
from mock_ft.crm.schemas import ErrorBody, EventPublic, ProblemPublic
from mock_ft.errors import RuleError
from mock_ft.journal import Journal
from mock_ft.journal.callbacks import CallbackEntry, CallbackFilter, query_callbacks
from mock_ft.settings import Settings

__all__ = ["CallbackPublic", "EventDetail", "build_callback_router", "event_detail"]

MAX_ID = 2**63 - 1


class RequestPublic(BaseModel):
    url: str = Field(description="As loaded ({operator_url} already resolved in `resolved_url`).")
    method: Literal["GET", "POST"]
    api_key: str | None = Field(description='"***" when a key is set; never the key.')
    body: Any
    action_fields: dict[str, Any]


class RulePublic(BaseModel):
    """A loaded rule (see POST for each field)."""

    id: str
    description: str
    enabled: bool
    trigger: TriggerSpec
    request: RequestPublic
    resolved_url: str
    timeout_seconds: float
    retries: int
    backoff_seconds: float
    activity_id: int
    action_id: int
    action_group_id: int
    action_communication_profile_id: int


class RulesPublic(BaseModel):
    data: list[RulePublic]
    sets: list[str] = Field(description="Ready-made rule sets: POST /_mock/callbacks/sets/{name}.")


class RulesRemoved(BaseModel):
    removed: int


class AttemptPublic(BaseModel):
    started_at: float
    status_code: int | None
    latency_ms: float | None
    error: str | None


class CallbackPublic(BaseModel):
    """One Callback Action the mock fired, with every attempt."""

    id: int
    rule_id: str
    event_id: int | None = Field(description="The journaled event that triggered it.")
    user_id: str | None
    method: str
    url: str
    request_headers: dict[str, str] = Field(description="As sent; x-api-key masked.")
    request_body: Any = Field(description="The rendered JSON body (null for a GET).")
    started_at: float
    latency_ms: float | None = Field(
        description="First request to final answer, back-off included."
    )
    status_code: int | None = Field(description="Of the last attempt.")
    ok: bool = Field(description="The receiver answered 2xx in the end.")
    attempts: list[AttemptPublic]
    error: str | None = Field(description="Why the last attempt failed.")
    response: str | None = Field(description="The last answer's first 4 KiB.")
    notes: list[str] = Field(description="Placeholders that had no value when rendered.")

    @classmethod
    def of(cls, entry: CallbackEntry) -> CallbackPublic:
        """Public view of a journaled callback."""
        data = {name: getattr(entry, name) for name in cls.model_fields}
        data["request_body"] = entry.request_json()
        return cls.model_validate(data)


class CallbacksPublic(BaseModel):
    """A page of callbacks; pass `next_cursor` as `after_id` for the next."""

    data: list[CallbackPublic]
    count: int
    next_cursor: int | None


class EventDetail(EventPublic):
    """One journaled attempt, with the lookups and Callback Actions it caused."""

    lookups: list[LookupPublic]
    callbacks: list[CallbackPublic]


async def event_detail(journal: Journal, public: EventPublic) -> EventDetail:
    """An event with what it caused."""
    lookups = await lookups_of_event(journal, public.id)
    entries = await journal.run(query_callbacks(CallbackFilter(event_id=public.id), limit=100))
    callbacks = [CallbackPublic.of(e) for e in entries]
    return EventDetail(**public.model_dump(), lookups=lookups, callbacks=callbacks)


def _runner(request: Request) -> CallbackRunner:
    runner: CallbackRunner = request.app.state.callbacks
    return runner


def _public(rule: Rule) -> RulePublic:
    return RulePublic.model_validate({**rule.public(), "resolved_url": rule.url})


def _invalid(exc: RuleError) -> JSONResponse:
    problems = [ProblemPublic(**p.to_dict()) for p in exc.problems]
    body = ErrorBody(error="invalid_rule", message=exc.message, problems=problems)
    return JSONResponse(body.model_dump(), status_code=422)


def build_callback_router(settings: Settings) -> APIRouter:
    """The /_mock/callbacks routes."""
    protected, errors = control_guard(settings)
    router = APIRouter(
        prefix="/_mock/callbacks",
        tags=["mock control"],
        responses=errors,
        dependencies=[*protected, Depends(unambiguous_query)],
    )
    invalid: dict[int | str, dict[str, Any]] = {
        400: {"model": ErrorBody, "description": "The body is not JSON."},
        422: {"model": ErrorBody, "description": "Invalid rule: each problem's path."},
    }

    @router.get("")
    async def list_callbacks(
        request: Request,
        rule_id: Annotated[str | None, Query()] = None,
        event_id: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
        user_id: Annotated[str | None, Query()] = None,
        ok: Annotated[bool | None, Query(description="Only succeeded (true) or failed.")] = None,
        after_id: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> CallbacksPublic:
        """Fired callbacks oldest first, filtered; each links to the event that triggered it."""
        journal: Journal = request.app.state.journal
        flt = CallbackFilter(rule_id, event_id, user_id, ok, after_id)
        data = [CallbackPublic.of(e) for e in await journal.run(query_callbacks(flt, limit=limit))]
        cursor = data[-1].id if len(data) == limit else None
        return CallbacksPublic(data=data, count=len(data), next_cursor=cursor)

    @router.get("/rules")
    async def list_rules(request: Request) -> RulesPublic:
        """The loaded rules (keys masked) and the ready-made sets."""
        rules = [_public(r) for r in _runner(request).rules.values()]
        return RulesPublic(data=rules, sets=rule_set_names())

    @router.post("/rules", status_code=201, response_model=RulePublic, responses=invalid)
    async def add_rule(
        request: Request, spec: Annotated[RuleSpec, Body()]
    ) -> RulePublic | JSONResponse:
        """Load a rule (one with the same id is replaced). Its templates are checked now: an
        unknown placeholder, event field or player field is refused with its JSON path."""
        compiler: RuleCompiler = request.app.state.rule_compiler
        try:
            rule = compiler(spec)
        except RuleError as exc:
            return _invalid(exc)
        _runner(request).add(rule)
        return _public(rule)

    @router.post(
        "/sets/{name}",
        status_code=201,
        response_model=RulesPublic,
        responses={
            422: invalid[422],
            404: {"model": ErrorBody, "description": "No such rule set."},
        },
    )
    async def load_set(
        request: Request, name: Annotated[str, Path()]
    ) -> RulesPublic | JSONResponse:
        """Load a ready-made rule set (`all` for every one)."""
        sets = rule_set_names()
        if name not in (*sets, "all"):
            message = f"no rule set {name!r}; known: {', '.join([*sets, 'all'])}"
            return JSONResponse(ErrorBody(error="not_found", message=message).model_dump(), 404)
        compiler: RuleCompiler = request.app.state.rule_compiler
        try:
            rules = compiler.load([name])
        except RuleError as exc:
            return _invalid(exc)
        for rule in rules:
            _runner(request).add(rule)
        return RulesPublic(data=[_public(r) for r in rules], sets=sets)

    @router.delete("/rules")
    async def clear_rules(request: Request) -> RulesRemoved:
        """Unload every rule."""
        return RulesRemoved(removed=_runner(request).clear())

    @router.delete(
        "/rules/{rule_id}",
        response_model=RulesRemoved,
        responses={404: {"model": ErrorBody, "description": "No such rule."}},
    )
    async def remove_rule(
        request: Request, rule_id: Annotated[str, Path()]
    ) -> RulesRemoved | JSONResponse:
        """Unload one rule."""
        if _runner(request).remove(rule_id):
            return RulesRemoved(removed=1)
        body = ErrorBody(
            error="not_found", message=f"no rule {rule_id!r}; GET /_mock/callbacks/rules lists them"
        )
        return JSONResponse(body.model_dump(), status_code=404)

    return router
