"""The pages the mock serves itself, with no network: `/ui` (the dashboard) and `/docs`, `/redoc`.

The dashboard's assets are in the package (crm/ui/, no build step); it reads the control API like
any other client, so what it shows is what /_mock/ says. Swagger UI's and ReDoc's assets come from
the installed `fastapi-offline` package, which tracks their releases, instead of a CDN.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from mock_ft._version import __version__

__all__ = ["ASSETS_PATH", "mount_assets", "router"]

ASSETS_PATH = "/docs/static"
_OPENAPI_URL = "/openapi.json"
_OAUTH2_REDIRECT = "/docs/oauth2-redirect"
_UI_ASSETS = Path(__file__).parent.parent / "ui"

router = APIRouter(include_in_schema=False)


@cache
def _dashboard_page() -> str:
    page = (_UI_ASSETS / "index.html").read_text(encoding="utf-8")
    return page.replace("{{VERSION}}", __version__)


@router.get("/ui")
async def dashboard() -> HTMLResponse:
    return HTMLResponse(_dashboard_page(), headers={"Cache-Control": "no-store"})


@router.get("/ui/")
async def dashboard_slash() -> RedirectResponse:
    return RedirectResponse("/ui")


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=_OPENAPI_URL,
        title=f"{request.app.title} - Swagger UI",
        oauth2_redirect_url=_OAUTH2_REDIRECT,
        swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_PATH}/favicon.png",
    )


@router.get(_OAUTH2_REDIRECT)
async def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    return get_redoc_html(
        openapi_url=_OPENAPI_URL,
        title=f"{request.app.title} - ReDoc",
        redoc_js_url=f"{ASSETS_PATH}/redoc.standalone.js",
        redoc_favicon_url=f"{ASSETS_PATH}/favicon.png",
        with_google_fonts=False,
    )


def mount_assets(app: FastAPI) -> None:
    """Serve the dashboard's script and style at /ui/static, Swagger UI's and ReDoc's at
    /docs/static; build the app with docs_url=None, redoc_url=None."""
    app.mount("/ui/static", StaticFiles(directory=_UI_ASSETS), name="ui-static")
    docs_assets = Path(str(files("fastapi_offline") / "static"))
    app.mount(ASSETS_PATH, StaticFiles(directory=docs_assets), name="docs-static")
