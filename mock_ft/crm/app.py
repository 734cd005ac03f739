"""The app factory: `create_app(settings)` builds the mock; nothing happens at import time.

`create_app` builds every part complete (`build_state`: no I/O in any constructor) into one
`MockState` (crm/deps.py), includes the routers side by side (crm/routes/, each reaching the parts
through crm/deps.py), and leaves the lifespan only the starting and stopping (`running`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path
from starlette.types import Receive, Scope, Send

from mock_ft._version import __version__
from mock_ft.brokers import Brokers
from mock_ft.callbacks import CallbackRunner, RuleCompiler
from mock_ft.contracts import integration_contract
from mock_ft.crm.deps import MockState
from mock_ft.crm.guard import ControlAuthError, control_guard, unambiguous_query
from mock_ft.crm.limits import bounded_receive
from mock_ft.crm.openapi import merged_openapi
from mock_ft.crm.rest import INGEST_PREFIXES, RestIngest
from mock_ft.crm.routes import callbacks as callback_routes
from mock_ft.crm.routes import charts, events, live, pages, reports
from mock_ft.crm.routes import faults as fault_routes
from mock_ft.crm.routes import lookups as lookup_routes
from mock_ft.crm.routes import players as player_routes
from mock_ft.crm.rulesync import RuleSync
from mock_ft.crm.web_guard import WebGuard
from mock_ft.extras import require
from mock_ft.faults import FaultInjector
from mock_ft.faultspec import ACTIONS
from mock_ft.ingest.pipeline import Pipeline
from mock_ft.journal import Journal
from mock_ft.journal.claims import CALLBACKS, Claimed, Claims
from mock_ft.journal.instances import Heartbeat, new_instance_id
from mock_ft.journal.tx import Tx
from mock_ft.lookups import ENDPOINTS, LookupRunner
from mock_ft.players import PlayerModel
from mock_ft.problems import json_path
from mock_ft.settings import Settings

__all__ = ["MockApp", "build_state", "create_app", "running"]

# Starlette's own HTTP errors, in mock-ft's ErrorBody shape.
_HTTP_ERROR_CODES = {400: "malformed_body", 404: "not_found", 405: "method_not_allowed"}


class MockApp(FastAPI):
    """FastAPI, except that FT's ingest paths go straight to the REST transport.

    FastAPI wraps each request in layers (telemetry probe, body limit, error middleware, router)
    that cost more than the whole ingest pipeline; the event feed is the hot path, so it skips them.
    """

    def __init__(self, mock: MockState, **fastapi: Any) -> None:
        super().__init__(**fastapi)
        self.mock = mock  # what the routes reach through crm/deps.py
        settings = mock.settings
        self.ingest = RestIngest(
            pipeline=mock.pipeline, faults=mock.faults, settings=settings, contract=mock.contract
        )
        # ingest paths outside FT's prefixes (settings.game_round_path)
        self.ingest_paths = frozenset(r.path for r in mock.contract.routes)
        self.control_body_limit = settings.max_control_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if scope["path"].startswith(INGEST_PREFIXES) or scope["path"] in self.ingest_paths:
                await self.ingest(scope, receive, send)
                return
            bounded = await bounded_receive(scope, receive, send, self.control_body_limit)
            if bounded is None:
                return  # answered 413
            receive = bounded
        await super().__call__(scope, receive, send)

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            self.openapi_schema = merged_openapi(self, self.mock.contract, self.mock.settings)
        return self.openapi_schema


def create_app(settings: Settings | None = None, journal: Journal | None = None) -> MockApp:
    """Build the mock FT server. Pass `journal` to share one already started (tests, demo):
    then the routes work without the lifespan too (in-process tools such as Schemathesis)."""
    state = build_state(settings or Settings(), journal)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with running(state):
            yield

    app = MockApp(
        state,
        title="mock-ft",
        version=__version__,
        summary="A local Fast Track: the Integration API, its journal and the mock's controls.",
        lifespan=lifespan,
        docs_url=None,  # routes/pages.py serves /docs and /redoc from the package, not a CDN
        redoc_url=None,
    )
    # What guards each /_mock/ route, in one place: the control token (when one is set) on all
    # but /_mock/health, and the refusal of ambiguous query strings on all that take queries
    # (fault rules take a body). Each documents the 422 (and 401) it may answer.
    protected, errors = control_guard(state.settings)
    queries = [Depends(unambiguous_query)]
    app.include_router(reports.open_router, dependencies=queries, responses=errors)
    for router, guards in (
        (events.router, [*protected, *queries]),
        (reports.router, [*protected, *queries]),
        (fault_routes.router, protected),
        (lookup_routes.router, [*protected, *queries]),
        (callback_routes.router, [*protected, *queries]),
        (player_routes.router, [*protected, *queries]),
        (live.router, [*protected, *queries]),
        (charts.router, [*protected, *queries]),
    ):
        app.include_router(router, dependencies=guards, responses=errors)
    app.include_router(pages.router)
    pages.mount_assets(app)
    # FT's ingest paths never reach it (MockApp.__call__)
    app.add_middleware(WebGuard, settings=state.settings, routes=app.router.routes)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(ControlAuthError, _control_auth)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    return app


def build_state(settings: Settings, journal: Journal | None = None) -> MockState:
    """Every part, complete. A bad fault or callback rule in the settings stops here,
    saying why. Pass `journal` to share one already started (tests, the demo)."""
    if settings.rabbitmq_url is not None or settings.kafka_bootstrap is not None:
        require("brokers", needed_by="consuming from RabbitMQ or Kafka")
    contract = integration_contract().with_paths({"game_round_path": settings.game_round_path})
    compiler = RuleCompiler(settings, contract)
    rules = compiler.load(settings.callback_rules)
    faults = FaultInjector(seed=settings.fault_seed)
    owns_journal = journal is None
    if journal is None:
        journal = Journal(settings.journal, sync=settings.journal_sync)  # opened by the lifespan
    instance_id = new_instance_id()
    claims = None
    if journal.shared:  # several instances may run it: lookups and actions are claimed
        claims = Claims(journal, instance_id, settings.reaction_lease_seconds)
    lookups = LookupRunner(settings, journal, claims)
    players = PlayerModel(journal)
    callbacks = CallbackRunner(journal, players, lookups, claims)
    # --fault, MOCK_FT_FAULTS or the config file; and the callback rules: this process's rules,
    # or, on a shared journal, the first instance's (crm/rulesync.py)
    startup = (settings.faults, rules)
    parts = (faults, callbacks, players, compiler)
    rule_sync = RuleSync(journal, instance_id, parts, startup, settings.fault_seed)
    pipeline = Pipeline(
        journal,
        contract,
        freshness_target_ms=settings.freshness_target_ms,
        on_accepted=_reactions(lookups, callbacks),
        on_accepting=None if claims is None else _claiming(lookups, callbacks, claims),
    )
    return MockState(
        settings=settings,
        contract=contract,
        journal=journal,
        owns_journal=owns_journal,
        faults=faults,
        rule_compiler=compiler,
        lookups=lookups,
        players=players,
        callbacks=callbacks,
        pipeline=pipeline,
        brokers=Brokers(settings, pipeline, faults),
        heartbeat=Heartbeat(journal, instance_id, settings.instance_lease_seconds),
        rules=rule_sync,
        claims=claims,
    )


@asynccontextmanager
async def running(state: MockState) -> AsyncIterator[None]:
    """Open the journal (when this mock owns it), start the runners and the brokers; on the
    way out stop them in reverse order, also when one failed to start."""
    async with AsyncExitStack() as stack:
        if state.owns_journal:
            state.journal.start()
            stack.callback(state.journal.close)
        await state.heartbeat.start()
        stack.push_async_callback(state.heartbeat.stop)
        await state.rules.start()  # after the heartbeat: its row says which rules it holds
        stack.push_async_callback(state.rules.stop)
        if state.claims is not None:  # stopped after the runners: it hands what they held over
            stack.push_async_callback(state.claims.stop)
        await state.lookups.start()
        stack.push_async_callback(state.lookups.stop)
        await state.callbacks.start()
        stack.push_async_callback(state.callbacks.stop)
        if state.claims is not None:
            state.claims.start(_resumer(state.lookups, state.callbacks), _kinds(state.lookups))
        await state.brokers.start()
        stack.push_async_callback(state.brokers.stop)
        yield


def _reactions(
    lookups: LookupRunner, callbacks: CallbackRunner
) -> Callable[[int, str | None, str | None], None]:
    """What an accepted first sighting of an event sets off: FT's lookups and callback rules."""

    def accepted(event_id: int, event_type: str | None, user_id: str | None) -> None:
        lookups.schedule(event_id, event_type, user_id)
        callbacks.offer(event_id, event_type, user_id)

    return accepted


def _claiming(
    lookups: LookupRunner, callbacks: CallbackRunner, claims: Claims
) -> Callable[[Tx, int, str | None, str | None], None]:
    """In the accepting transaction: claim for this instance what `_reactions` will set off."""

    def accepting(tx: Tx, event_id: int, event_type: str | None, user_id: str | None) -> None:
        kinds = list(lookups.endpoints(event_type, user_id))
        if callbacks.watches(event_type, user_id):
            kinds.append(CALLBACKS)
        if kinds:
            claims.stage(tx, event_id, kinds, event_type, user_id)

    return accepting


def _resumer(lookups: LookupRunner, callbacks: CallbackRunner) -> Callable[[Claimed], None]:
    """Queue a reaction this instance took over from another."""

    def resume(claim: Claimed) -> None:
        if claim.kind == CALLBACKS:
            callbacks.resume(claim.event_id, claim.event_type or "", claim.user_id or "")
        else:
            lookups.resume(claim.event_id, claim.user_id or "", claim.kind)

    return resume


def _kinds(lookups: LookupRunner) -> Callable[[], list[str]]:
    """The reactions this instance can take over: lookups only with an operator URL."""
    return lambda: [*(ENDPOINTS if lookups.enabled else ()), CALLBACKS]


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101 - registered for it alone
    problems = [
        {
            "path": json_path(_wire_location(err["loc"])),
            "code": str(err["type"]),
            "message": str(err["msg"]),
        }
        for err in exc.errors()
    ]
    body = {
        "error": "invalid_request",
        "message": f"{len(problems)} invalid parameter(s); see `problems`",
        "problems": problems,
    }
    return JSONResponse(body, status_code=422)


async def _control_auth(request: Request, exc: Exception) -> JSONResponse:
    body = {
        "error": "unauthorized",
        "message": "missing or wrong control token; send Authorization: Bearer <token>",
        "problems": [],
    }
    return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101 - registered for it alone
    headers = dict(exc.headers or {})
    if exc.status_code == 405:  # Starlette lists only the first route's methods
        path = request.url.path
        openapi: dict[str, Any] = request.app.openapi()
        allowed = {
            method.upper()
            for template, operations in openapi["paths"].items()
            if compile_path(template)[0].match(path)
            for method in operations
        }
        headers["Allow"] = ", ".join(sorted(allowed))
    code = _HTTP_ERROR_CODES.get(exc.status_code, "http_error")
    body = {"error": code, "message": str(exc.detail), "problems": []}
    return JSONResponse(body, status_code=exc.status_code, headers=headers)


def _wire_location(loc: tuple[Any, ...]) -> list[str | int]:
    """pydantic's error location as the client sent it: without the union tag pydantic adds
    for a fault rule's `action` (`body.status.times` is `body.times` on the wire)."""
    parts = [p for p in loc if isinstance(p, str | int)]
    if len(parts) > 1 and parts[0] == "body" and parts[1] in ACTIONS:
        del parts[1]
    return parts
