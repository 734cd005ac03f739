"""The app factory: `create_app(settings)` builds the mock; nothing happens at import time."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path
from starlette.types import Receive, Scope, Send

from mock_ft._version import __version__
from mock_ft.brokers import Brokers
from mock_ft.callbacks import CallbackRunner, RuleCompiler
from mock_ft.contracts import IntegrationContract, integration_contract
from mock_ft.crm.callback_control import build_callback_router
from mock_ft.crm.chart_control import build_chart_router
from mock_ft.crm.control import ControlAuthError, build_control_router
from mock_ft.crm.docs import mount_docs
from mock_ft.crm.fault_control import build_fault_router
from mock_ft.crm.limits import bounded_receive
from mock_ft.crm.live_control import build_live_router
from mock_ft.crm.lookup_control import build_lookup_router
from mock_ft.crm.player_control import build_player_router
from mock_ft.crm.rest import INGEST_PREFIXES, RestIngest
from mock_ft.crm.ui import mount_ui
from mock_ft.crm.web_guard import WebGuard
from mock_ft.extras import require
from mock_ft.faults import FaultInjector
from mock_ft.faultspec import ACTIONS
from mock_ft.ingest.pipeline import Pipeline
from mock_ft.journal import Journal
from mock_ft.lookups import LookupRunner
from mock_ft.players import PlayerModel
from mock_ft.problems import json_path
from mock_ft.settings import Settings

__all__ = ["create_app"]

# Starlette's own HTTP errors, in mock-ft's ErrorBody shape.
_HTTP_ERROR_CODES = {400: "malformed_body", 404: "not_found", 405: "method_not_allowed"}

INGEST_TAG = "FT Integration API"
# What mock_ft/crm/web_guard.py answers to a change of the mock a web page could have sent.
_ERROR_BODY = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
_CHANGE_REFUSALS = {
    "403": {"description": "Sent by a browser from another site.", "content": _ERROR_BODY},
    "415": {"description": "Not Content-Type: application/json.", "content": _ERROR_BODY},
}


class MockApp(FastAPI):
    """FastAPI, except that FT's ingest paths go straight to the REST transport.

    FastAPI wraps each request in layers (telemetry probe, body limit, error middleware, router)
    that cost more than the whole ingest pipeline; the event feed is the hot path, so it skips them.
    """

    ingest: RestIngest
    ingest_paths: frozenset[str] = frozenset()  # ingest paths outside FT's prefixes (settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if scope["path"].startswith(INGEST_PREFIXES) or scope["path"] in self.ingest_paths:
                await self.ingest(scope, receive, send)
                return
            limit = self.state.settings.max_control_body_bytes
            bounded = await bounded_receive(scope, receive, send, limit)
            if bounded is None:
                return  # answered 413
            receive = bounded
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None, journal: Journal | None = None) -> FastAPI:
    """Build the mock FT server. Pass `journal` to share one already started (tests, demo)."""
    settings = settings or Settings()
    if settings.rabbitmq_url is not None or settings.kafka_bootstrap is not None:
        require("brokers", needed_by="consuming from RabbitMQ or Kafka")
    contract = integration_contract().with_paths({"game_round_path": settings.game_round_path})

    compiler = RuleCompiler(settings, contract)
    rules = compiler.load(settings.callback_rules)  # a bad rule stops the start, saying why

    def attach(app: MockApp, attached: Journal) -> None:
        app.state.journal = attached
        pipeline = Pipeline(attached, contract, freshness_target_ms=settings.freshness_target_ms)
        lookups = app.state.lookups = LookupRunner(settings, attached)
        players = app.state.players = PlayerModel(attached)
        callbacks = app.state.callbacks = CallbackRunner(attached, players, lookups)
        for rule in rules:
            callbacks.add(rule)

        def accepted(event_id: int, event_type: str | None, user_id: str | None) -> None:
            lookups.schedule(event_id, event_type, user_id)
            callbacks.offer(event_id, event_type, user_id)

        pipeline.on_accepted = accepted
        app.state.pipeline = app.ingest.pipeline = pipeline

    @asynccontextmanager
    async def lifespan(served: FastAPI) -> AsyncIterator[None]:
        own = None
        if journal is None:
            own = Journal(settings.journal, sync=settings.journal_sync).start()
            attach(app, own)  # `app`, built below: the MockApp this lifespan belongs to
        await app.state.lookups.start()
        await app.state.callbacks.start()
        brokers = Brokers(settings, app.state.pipeline, app.state.faults)
        app.state.brokers = brokers
        await brokers.start()
        try:
            yield
        finally:
            await brokers.stop()  # what they hold is journaled and acked before the journal shuts
            await app.state.callbacks.stop()
            await app.state.lookups.stop()
            if own is not None:
                own.close()

    app = MockApp(
        title="mock-ft",
        version=__version__,
        summary="A local Fast Track: the Integration API, its journal and the mock's controls.",
        lifespan=lifespan,
        docs_url=None,  # mount_docs serves /docs and /redoc from the package, not a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.rule_compiler = compiler
    app.state.faults = FaultInjector(seed=settings.fault_seed)
    for spec in settings.faults:  # from --fault, MOCK_FT_FAULTS or the config file
        app.state.faults.add(**spec.model_dump())
    app.ingest = RestIngest(faults=app.state.faults, settings=settings, contract=contract)
    app.ingest_paths = frozenset(r.path for r in contract.routes)
    if journal is not None:  # usable without a lifespan (in-process tools such as Schemathesis)
        attach(app, journal)
    app.include_router(build_control_router(settings))
    app.include_router(build_fault_router(settings))
    app.include_router(build_lookup_router(settings))
    app.include_router(build_callback_router(settings))
    app.include_router(build_player_router(settings))
    app.include_router(build_live_router(settings))
    app.include_router(build_chart_router(settings))
    mount_ui(app)
    mount_docs(app)
    # FT's ingest paths never reach it (MockApp.__call__)
    app.add_middleware(WebGuard, settings=settings, routes=app.router.routes)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
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

    @app.exception_handler(ControlAuthError)
    async def _control_auth(request: Request, exc: ControlAuthError) -> JSONResponse:
        body = {
            "error": "unauthorized",
            "message": "missing or wrong control token; send Authorization: Bearer <token>",
            "problems": [],
        }
        return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # Starlette lists only the first route's methods
            path = request.url.path
            allowed = {
                method.upper()
                for template, operations in app.openapi()["paths"].items()
                if compile_path(template)[0].match(path)
                for method in operations
            }
            headers["Allow"] = ", ".join(sorted(allowed))
        code = _HTTP_ERROR_CODES.get(exc.status_code, "http_error")
        body = {"error": code, "message": str(exc.detail), "problems": []}
        return JSONResponse(body, status_code=exc.status_code, headers=headers)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = merged_openapi(app, contract, settings)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _wire_location(loc: tuple[Any, ...]) -> list[str | int]:
    """pydantic's error location as the client sent it: without the union tag pydantic adds
    for a fault rule's `action` (`body.status.times` is `body.times` on the wire)."""
    parts = [p for p in loc if isinstance(p, str | int)]
    if len(parts) > 1 and parts[0] == "body" and parts[1] in ACTIONS:
        del parts[1]
    return parts


def merged_openapi(
    app: FastAPI, contract: IntegrationContract, settings: Settings
) -> dict[str, Any]:
    """FastAPI's OpenAPI for the control API plus the contract's ingest operations, verbatim.

    The ingest side is copied from contracts/integration-api.yaml, adjusted only for what the
    settings change: the API key header name, or no auth at all.
    """
    from fastapi.openapi.utils import get_openapi

    schema = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        routes=app.routes,
        tags=[
            {"name": INGEST_TAG, "description": "What the operator publishes (REST transport)."},
            {"name": "mock control", "description": "Inspect and steer the mock."},
        ],
    )
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if path.startswith("/_mock/") and method in ("post", "put", "patch", "delete"):
                operation["responses"].update(copy.deepcopy(_CHANGE_REFUSALS))
    doc = copy.deepcopy(contract.document)
    components = schema.setdefault("components", {})
    for section in ("schemas", "responses", "securitySchemes"):
        components.setdefault(section, {}).update(doc["components"].get(section, {}))
    components["securitySchemes"]["ApiKeyAuth"]["name"] = settings.api_key_header
    for path, item in doc["paths"].items():
        for operation in item.values():
            operation["tags"] = [INGEST_TAG]
            if settings.auth_enabled:
                operation["security"] = [{"ApiKeyAuth": []}]
            else:
                operation["security"] = []
                operation["responses"].pop("401", None)
        schema["paths"][path] = item
    return schema
