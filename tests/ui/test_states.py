"""The dashboard when there is nothing to show, when the mock goes away, and when a broker is
reconnecting: each says so, and what to do, instead of an empty table that passes for data."""

from __future__ import annotations

import shlex
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from mock_ft.crm import create_app
from mock_ft.crm.runner import ServerThread
from mock_ft.settings import Settings
from tests import web
from tests.ui.conftest import guard_waits

pytestmark = pytest.mark.xdist_group("browser")  # tests/ui/conftest.py says why


@pytest.fixture(scope="module")
def empty_mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    journal = tmp_path_factory.mktemp("empty") / "journal.sqlite3"
    with ServerThread(create_app(Settings(journal=str(journal)))) as server:
        yield server.url


def _page(browser: Browser, url: str) -> Page:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, base_url=url)
    return guard_waits(context.new_page())


@pytest.mark.parametrize(
    ("view", "box", "hint"),
    [
        ("journal", "#events-empty", "curl -X POST"),
        ("players", "#players-empty", "mock-ft demo"),
        ("callbacks", "#callbacks-empty", "--callbacks all"),
        ("lookups", "#lookups-empty", "--operator-url"),
        ("faults", "#faults-empty", "/_mock/faults"),
        ("runs", "#scorecard", "mock-ft verify"),
        ("charts", "#chart-rate", "No events in this window"),
    ],
)
def test_say_what_fills_empty_view(browser: Browser, empty_mock: str, view: str, box: str,
                                   hint: str) -> None:  # fmt: skip
    """An empty view names the command that fills it, and shows no empty table."""
    page = _page(browser, empty_mock)
    page.goto(f"/ui#{view}")
    expect(page.locator(box)).to_contain_text(hint)
    tables = page.locator(f"#view-{view} table.grid")
    for index in range(tables.count()):
        expect(tables.nth(index)).to_be_hidden()
    page.context.close()


def _send_as_curl(command: str) -> httpx.Response:
    """Send what a `curl -X POST URL -H ... -d ...` hint says, as curl would (no curl needed)."""
    words = shlex.split(command)
    assert words[:3] == ["curl", "-X", "POST"]
    headers = dict(words[i + 1].split(": ", 1) for i, w in enumerate(words) if w == "-H")
    return web.post(words[3], content=words[words.index("-d") + 1], headers=headers)


@pytest.mark.parametrize(
    ("view", "name", "shows"),
    [("journal", "events", "LOGIN_V2"), ("faults", "faults", "status=503")],
)
def test_run_curl_of_empty_view_hint(
    browser: Browser, tmp_path: Path, view: str, name: str, shows: str
) -> None:
    """An empty view's curl works as printed: what it sends is accepted and then shows."""
    with ServerThread(create_app(Settings(journal=str(tmp_path / "j.sqlite3")))) as server:
        page = _page(browser, server.url)
        page.goto(f"/ui#{view}")
        answer = _send_as_curl(page.locator(f"#{name}-empty pre").inner_text())
        assert answer.status_code in (200, 201), answer.text
        page.reload()
        expect(page.locator(f"#{name} tbody")).to_contain_text(shows)
        expect(page.locator(f"#{name}-empty")).to_be_hidden()
        page.context.close()


def test_show_banner_and_errors_when_mock_stops(browser: Browser, tmp_path: Path) -> None:
    """When the mock goes away a banner says so, and a view opened then shows why it has no
    data rather than an empty table."""
    server = ServerThread(create_app(Settings(journal=str(tmp_path / "j.sqlite3"))))
    # The page's open event stream would hold a graceful stop for its whole 5 s: how the mock
    # goes away is not under test, so it goes at once (open requests cancelled, lifespan ended).
    server.server.config.timeout_graceful_shutdown = 0
    server.__enter__()
    page = _page(browser, server.url)
    page.goto("/ui#journal")
    expect(page.locator("#live")).to_have_text("live")
    server.__exit__(None, None, None)
    expect(page.locator("#banner")).to_contain_text("The mock is not answering")
    page.evaluate("location.hash = '#players'")
    error = page.locator("#view-players .view-error")
    expect(error).to_contain_text("Could not load this view: the mock is not answering")
    expect(page.locator("#players")).to_be_hidden()
    expect(page.locator("#players-empty")).to_be_hidden()
    page.context.close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_show_banner_while_broker_reconnects(browser: Browser, tmp_path: Path) -> None:
    """A RabbitMQ consumer that cannot connect shows as a banner naming it and why."""
    url = f"amqp://guest:guest@127.0.0.1:{_closed_port()}/"
    settings = Settings(journal=str(tmp_path / "j.sqlite3"), rabbitmq_url=url)
    with ServerThread(create_app(settings)) as server:
        page = _page(browser, server.url)
        page.goto("/ui#journal")
        banner = page.locator("#banner")
        expect(banner).to_contain_text("rabbitmq consumer reconnecting")
        expect(banner).not_to_contain_text("guest:guest")
        page.context.close()
