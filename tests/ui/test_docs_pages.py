"""Swagger UI and ReDoc render in a real Chromium that may reach nothing but the mock."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Route

pytestmark = pytest.mark.xdist_group("browser")  # tests/ui/conftest.py says why


@pytest.fixture
def offline(page: Page) -> list[str]:
    """Abort every request that leaves the loopback mock; the list holds what was refused."""
    refused: list[str] = []

    def guard(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    return refused


def test_render_swagger_ui_offline(page: Page, offline: list[str]) -> None:
    """/docs lists the Integration API's operations with no network."""
    page.goto("/docs")
    page.locator(".opblock").first.wait_for()
    assert page.locator(".opblock").count() > 20
    assert offline == []


# ReDoc's bundle asks its vendor's CDN for the "API docs by Redocly" sidebar logo, and removes the
# image when that fails (its onError); nothing else on the page leaves the mock.
_REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def test_render_redoc_offline(page: Page, offline: list[str]) -> None:
    """/redoc renders the API with no network."""
    page.goto("/redoc")
    page.get_by_role("heading", name="mock-ft").first.wait_for()
    page.get_by_text("Integration API", exact=False).first.wait_for()
    assert set(offline) <= {_REDOC_LOGO}
