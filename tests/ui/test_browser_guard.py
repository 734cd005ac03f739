"""In a real Chromium: the dashboard and /docs work under their Content-Security-Policy, and a
page on another site cannot change the mock (the simple cross-site POST that emptied it)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from mock_ft.crm.runner import ServerThread
from tests import web
from tests.conftest import KEY_HEADERS
from tests.ft_events import ft_event

pytestmark = pytest.mark.xdist_group("browser")  # tests/ui/conftest.py says why

# Records every CSP violation the page meets, for the test to read.
_WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
"""


def _violations(page: Page) -> Any:
    return page.evaluate("window.__csp")


def test_use_dashboard_without_csp_violation(page: Page, mock: str) -> None:
    """Every view, and the changes the dashboard makes (add, remove, clear fault rules)."""
    page.add_init_script(_WATCH_CSP)
    path, payload = ft_event("PAYMENT")
    web.post(mock + path, json=payload, headers=KEY_HEADERS).raise_for_status()
    page.goto("/ui#journal")
    expect(page.locator("#live")).to_have_text("live")
    expect(page.locator("#events tr[data-id]")).to_have_count(1)
    for view in ("players", "callbacks", "lookups", "runs", "faults"):
        page.goto(f"/ui#{view}")
        expect(page.locator(f"#view-{view}")).to_be_visible()
    page.get_by_label("Event type").fill("PAYMENT")
    page.get_by_role("button", name="Add rule").click()
    expect(page.locator("#faults tbody tr")).to_have_count(1)
    page.get_by_role("button", name="Remove rule 1").click()
    expect(page.locator("#faults tbody tr")).to_have_count(0)
    page.get_by_role("button", name="Add rule").click()
    expect(page.locator("#faults tbody tr")).to_have_count(1)
    page.locator("#clear-faults").click()
    expect(page.locator("#faults tbody tr")).to_have_count(0)
    assert _violations(page) == []


def test_open_docs_without_csp_violation(page: Page) -> None:
    page.add_init_script(_WATCH_CSP)
    page.goto("/docs", wait_until="load")
    assert _violations(page) == []


@pytest.fixture
def attacker(mock: str) -> Iterator[str]:
    """A page on another origin that tries the simple requests any site may send."""
    page = f"""<!doctype html><title>cat pictures</title><script>
      const sent = [
        fetch("{mock}/_mock/reset", {{method: "POST", mode: "no-cors",
          headers: {{"Content-Type": "text/plain"}}, body: "x"}}),
        fetch("{mock}/_mock/faults", {{method: "POST", mode: "no-cors",
          headers: {{"Content-Type": "text/plain"}}, body: '{{"action": "status"}}'}}),
      ];
      Promise.allSettled(sent).then(() => {{ document.title = "sent"; }});
    </script>"""

    async def home(request: Request) -> HTMLResponse:
        return HTMLResponse(page)

    with ServerThread(Starlette(routes=[Route("/", home)])) as server:
        yield server.url


def test_refuse_changes_from_page_on_other_site(browser: Browser, mock: str, attacker: str) -> None:
    path, payload = ft_event("LOGIN_V2")
    web.post(mock + path, json=payload, headers=KEY_HEADERS).raise_for_status()
    page = browser.new_page()
    page.goto(attacker)
    expect(page).to_have_title("sent")
    page.close()
    assert web.get(f"{mock}/_mock/events").json()["count"] == 1
    assert web.get(f"{mock}/_mock/faults").json()["data"] == []
