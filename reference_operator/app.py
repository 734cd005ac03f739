"""`create_app(settings)`: the platform and Operator APIs, callback receivers, dispatcher."""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import httpx
from fastapi import FastAPI, HTTPException, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from .api.auth import OperatorAuth
from .api.callbacks_api import build_callbacks_router
from .api.operator_api import build_operator_router
from .api.platform_api import build_platform_router
from .db import Database
from .errors import Conflict, NotFound
from .ft.dispatcher import Dispatcher
from .ft.publishers import publisher_for
from .platform import Platform
from .platform.players import register
from .settings import OperatorSettings

__all__ = ["create_app"]


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for the process: building it loads the CA bundle (20-30 ms of CPU), and
    every app start would otherwise pay that for a client that may never use TLS."""
    return httpx.create_ssl_context()


def _json_path(loc: tuple[Any, ...]) -> str:
    parts = [p for p in loc if p not in ("body", "query", "path")]
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


def create_app(settings: OperatorSettings | None = None) -> FastAPI:
    """Build the reference operator; the dispatcher runs while the app's lifespan does."""
    settings = settings or OperatorSettings()
    db = Database(settings.database)
    platform = Platform(db, settings)
    auth = OperatorAuth(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(verify=_tls()) as client:
            publisher = publisher_for(settings, client)
            await publisher.start()  # a broker that is down delays events; it does not stop us
            dispatcher = Dispatcher(db, settings, publisher)
            platform.notify = dispatcher.wake
            app.state.dispatcher = dispatcher
            with db.read() as conn:
                existing = conn.execute("SELECT COUNT(*) FROM players").fetchone()[0]
            for _ in range(max(0, settings.players - existing)):
                register(platform, {})
            task = asyncio.create_task(dispatcher.run())
            try:
                yield
            finally:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
                await publisher.close()
                db.close()

    app = FastAPI(
        title="reference-operator",
        summary="A small operator platform integrated with Fast Track the right way.",
        lifespan=lifespan,
    )
    app.state.platform = platform

    @app.exception_handler(NotFound)
    async def _not_found(_: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"error": str(exc), "code": 404}, status_code=404)

    @app.exception_handler(Conflict)
    async def _conflict(_: Request, exc: Conflict) -> JSONResponse:
        return JSONResponse({"error": str(exc), "code": 409}, status_code=409)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        if settings.has("refusals_not_ft_shape") and not request.url.path.startswith("/platform/"):
            return await request_validation_exception_handler(request, exc)  # FastAPI's 422
        problems = [
            {"path": _json_path(tuple(e["loc"])), "message": e["msg"]} for e in exc.errors()
        ]
        summary = "; ".join(f"{p['path']}: {p['message']}" for p in problems)
        body: dict[str, Any] = {"error": f"invalid request: {summary}", "code": 400}
        if request.url.path.startswith("/platform/"):
            body["problems"] = problems  # FT's error shape allows no extra keys; ours may
        return JSONResponse(body, status_code=400)

    @app.exception_handler(HTTPException)
    async def _http_error(_: Request, exc: HTTPException) -> JSONResponse:
        detail: Any = exc.detail
        body: dict[str, Any] = detail if isinstance(detail, dict) else {"error": detail}
        body = {**body, "code": body.get("code", exc.status_code)}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    app.include_router(build_platform_router(platform))
    app.include_router(auth.token_router())
    app.include_router(build_operator_router(platform, auth))
    app.include_router(build_callbacks_router(platform, auth))
    return app
