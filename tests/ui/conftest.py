"""A real Chromium (Debian's, driven by Playwright) against a real mock on a loopback port."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from mock_ft.crm import create_app
from mock_ft.crm.runner import ServerThread
from mock_ft.settings import Settings
from tests.brokers import in_ci
from tests.waiting import HANG_GUARD

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run",
    "--disable-dev-shm-usage",
]  # fmt: skip
# Screenshots of the main views, kept as test artifacts (look at them after a change to the UI).
SCREENSHOTS = Path(os.environ.get("MOCK_FT_SCREENSHOTS", ".mock-ft/screenshots"))
# Every Playwright wait (actions, navigation, `wait_for`, `expect`) waits on its condition, with
# the shared hang guard as its only deadline: a page that renders in 1 s alone may take 15 s on a
# machine at load average 13, and how long it takes is not what these tests check.
GUARD_MS = HANG_GUARD * 1000


def guard_waits(page: Page) -> Page:
    """`page`, its waits bounded by the hang guard rather than Playwright's short defaults."""
    page.set_default_timeout(GUARD_MS)
    page.set_default_navigation_timeout(GUARD_MS)
    return page


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    # One Chromium for the package's tests in a row (a launch is 1-2 s), not for the session:
    # Playwright's sync API keeps an event loop running in this thread while it is open, and
    # later tests in the same worker call asyncio.run(). pytest ends it on leaving the package.
    # Every module here is in xdist_group("browser"): the package runs on one worker, so this
    # Chromium and each module's servers (test_charts' replayed stack) start once, not on both.
    if not Path(CHROMIUM).is_file():
        message = f"no Chromium at {CHROMIUM}; run `bash .ci/ensure-chromium`"
        if in_ci():
            pytest.fail(f"{message} (under CI=true the browser tests must run)")
        pytest.skip(message)
    expect.set_options(timeout=GUARD_MS)  # `expect` has its own default of 5 s
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def mock(tmp_path: Path) -> Iterator[str]:
    settings = Settings(journal=str(tmp_path / "journal.sqlite3"))
    with ServerThread(create_app(settings)) as server:
        yield server.url


@pytest.fixture
def page(browser: Browser, mock: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, base_url=mock)
    opened = guard_waits(context.new_page())
    yield opened
    context.close()


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
