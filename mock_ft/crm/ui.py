"""`/ui`: the dashboard, served by the mock itself (no build step, no network: assets are in the
package). It reads the control API like any other client, so what it shows is what /_mock/ says."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from mock_ft._version import __version__

__all__ = ["mount_ui"]

_ASSETS = Path(__file__).parent / "ui"


def mount_ui(app: FastAPI) -> None:
    """Add /ui (the page) and /ui/static (its script and style) to the app."""
    page = (_ASSETS / "index.html").read_text(encoding="utf-8").replace("{{VERSION}}", __version__)
    router = APIRouter(include_in_schema=False)

    @router.get("/ui")
    async def dashboard() -> HTMLResponse:
        return HTMLResponse(page, headers={"Cache-Control": "no-store"})

    @router.get("/ui/")
    async def dashboard_slash() -> RedirectResponse:
        return RedirectResponse("/ui")

    app.include_router(router)
    app.mount("/ui/static", StaticFiles(directory=_ASSETS), name="ui-static")
