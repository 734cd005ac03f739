"""The dashboard's charts in a real browser after a replay of part of the scenario library: each
chart has axes and the data /_mock/stats reports; they update live; views at two sizes."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from rich.console import Console

from mock_ft.scenarios import Target, load_scenarios, replay
from mock_ft.scenarios.stack import local_stack
from tests import web
from tests.conftest import KEY_HEADERS
from tests.ft_events import ft_event
from tests.ui.conftest import SCREENSHOTS, guard_waits

pytestmark = pytest.mark.xdist_group("browser")  # tests/ui/conftest.py says why

LIBRARY = Path(__file__).parents[2] / "scenarios"
# Deliveries with retries (503 and 429 faults), lookups, registrations, payments, logins and a
# Callback Action.
REPLAYED = (
    "registrations.yaml",
    "logins.yaml",
    "payments.yaml",
    "user-details.yaml",
    "fault-retry-503.yaml",
    "fault-429-retry-after.yaml",
    "callback-bonus-bot.yaml",
)
SIZES = {"1400": (1400, 900), "390": (390, 844)}
CHARTS = ("rate", "latency", "attempts", "lookups")


@pytest.fixture(scope="module")
def stack() -> Iterator[Target]:
    """A mock and the reference operator after the replay, one refused 404 and one invalid
    event, and a posted verification run."""
    with local_stack(rabbitmq_url="", kafka_bootstrap=None) as target:
        console = Console(file=io.StringIO(), width=120)
        scenarios = load_scenarios([str(LIBRARY / name) for name in REPLAYED])
        # A thread of its own: Playwright's sync API keeps an event loop running in this one.
        with ThreadPoolExecutor(1) as pool:
            results = pool.submit(asyncio.run, replay(scenarios, target, console)).result()
        assert [r.status for r in results] == ["passed"] * len(REPLAYED)
        web.post(f"{target.ft_url}/v2/integration/nope", json={}, headers=KEY_HEADERS)
        path, payload = ft_event("PAYMENT", amount=-5)
        web.post(target.ft_url + path, json=payload, headers=KEY_HEADERS)
        web.post(f"{target.ft_url}/_mock/runs", json=_verify_run()).raise_for_status()
        yield target


def _verify_run() -> dict[str, Any]:
    checks = [
        {"step": "Authentication", "name": "refuses a missing key", "passed": True, "message": ""},
        {"step": "User data", "name": "userdetails of 1", "passed": False,
         "message": "$.market: missing; FT needs the player's market"},
        {"step": "User data", "name": "userdetails of 2", "passed": True, "message": ""},
        {"step": "Resilience", "name": "token expiry", "passed": True, "skipped": True,
         "message": "tokens live longer than 10 s"},
    ]  # fmt: skip
    return {
        "kind": "verify",
        "document": {"passed": False, "operator_url": "http://op", "checks": checks},
    }


@pytest.fixture
def page(browser: Browser, stack: Target) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, base_url=stack.ft_url)
    opened = guard_waits(context.new_page())
    yield opened
    context.close()


def _open(page: Page, view: str) -> None:
    page.goto(f"/ui#{view}")
    expect(page.locator("#live")).to_have_text("live")


def _chart(page: Page, name: str) -> dict[str, Any]:
    """What the chart's SVG shows: its data-* values, axis texts, and the tooltips of its marks."""
    svg = page.locator(f"#chart-{name} svg")
    expect(svg).to_be_visible()
    found: dict[str, Any] = svg.evaluate(
        """svg => ({
            data: {...svg.dataset},
            texts: [...svg.querySelectorAll(':scope > text')].map(t => t.textContent),
            tips: [...svg.querySelectorAll('rect > title, circle > title')].map(t => t.textContent),
        })"""
    )
    return found


def _stats(stack: Target) -> dict[str, Any]:
    stats: dict[str, Any] = web.get(f"{stack.ft_url}/_mock/stats").json()
    return stats


def test_draw_each_chart_with_axes_and_legend(page: Page) -> None:
    """Every chart of the Charts view has axis titles, tick labels, a legend and marks."""
    _open(page, "charts")
    expected = {
        "rate": ("events / s", "accepted ("),
        "latency": ("latency (log scale)", "FT target 1 s"),
        "attempts": ("attempts per event (1 = delivered first time)", "retried"),
        "lookups": ("budget 500 ms", "p95 over budget"),
    }
    for name, words in expected.items():
        chart = _chart(page, name)
        for word in words:
            assert any(word in t for t in chart["texts"]), (name, word, chart["texts"])
        assert len(chart["tips"]) >= 2, name
        assert "empty" not in chart["data"], name


def test_match_rate_chart_to_stats(page: Page, stack: Target) -> None:
    """The stacked columns add up to /_mock/stats' counts per verdict."""
    _open(page, "charts")
    chart = _chart(page, "rate")
    stats = _stats(stack)
    for verdict in ("accepted", "rejected", "faulted"):
        drawn = sum(int(m[1]) for t in chart["tips"] if (m := re.search(rf": (\d+) {verdict} ", t)))
        assert drawn == stats["by_verdict"].get(verdict, 0), verdict
        assert int(chart["data"][verdict]) == drawn
    assert stats["by_verdict"]["faulted"] > 0  # the fault scenarios refused some


def test_match_latency_chart_to_stats(page: Page, stack: Target) -> None:
    """The latency chart's p50 and p99 over the run are /_mock/stats' p50 and p99."""
    _open(page, "charts")
    chart = _chart(page, "latency")
    latency = _stats(stack)["latency_ms"]
    assert float(chart["data"]["p50"]) == latency["p50"]
    assert float(chart["data"]["p99"]) == latency["p99"]
    assert any(" p99 " in t for t in chart["tips"])


def test_match_attempts_chart_to_delivery_report(page: Page, stack: Target) -> None:
    """Attempts per event are the delivery report's (retried events included)."""
    _open(page, "charts")
    chart = _chart(page, "attempts")
    delivery = _stats(stack)["delivery"]
    drawn = {}
    for tip in chart["tips"]:
        count, attempts = re.match(r"(\d+) event\(s\) took (\d+) attempt", tip).groups()  # type: ignore[union-attr]
        if int(count):
            drawn[attempts] = int(count)
    assert drawn == delivery["attempts_per_event"]
    assert int(chart["data"]["retried"]) > 0


def test_match_lookup_chart_to_lookups(page: Page, stack: Target) -> None:
    """The lookup chart counts every lookup the mock made, per endpoint."""
    _open(page, "charts")
    chart = _chart(page, "lookups")
    lookups = web.get(f"{stack.ft_url}/_mock/lookups", params={"limit": 1000}).json()["data"]
    assert int(chart["data"]["calls"]) == len(lookups) > 0
    endpoints = {lookup["endpoint"] for lookup in lookups}
    assert all(any(t.startswith(f"{e}: ") for t in chart["tips"]) for e in endpoints)


def test_update_charts_from_stream_without_reload(page: Page, stack: Target) -> None:
    """A new event redraws the charts in place: the page itself is not loaded again."""
    _open(page, "charts")
    before = int(_chart(page, "rate")["data"]["accepted"])
    page.evaluate("window.stillHere = true")
    path, payload = ft_event("LOGIN_V2", user_id="live-chart")
    web.post(stack.ft_url + path, json=payload, headers=KEY_HEADERS).raise_for_status()
    expect(page.locator("#chart-rate svg")).to_have_attribute("data-accepted", str(before + 1))
    assert page.evaluate("window.stillHere") is True


def test_show_path_and_reason_of_refused_row(page: Page) -> None:
    """A refused request without an event type shows its path and why it was refused."""
    _open(page, "journal")
    row = page.locator("#events tbody tr", has_text="/v2/integration/nope")
    expect(row).to_contain_text("POST /v2/integration/nope")
    expect(row).to_contain_text("unknown endpoint")


def test_fill_width_with_journal_on_one_line_times(page: Page) -> None:
    """The journal uses the page's width until a detail opens; times never wrap."""
    _open(page, "journal")
    table = page.locator("#events").bounding_box()
    main = page.locator("#main").bounding_box()
    assert table is not None
    assert main is not None
    assert table["width"] > 0.9 * main["width"]
    cell = page.locator("#events tbody td.time").first
    assert cell.evaluate("td => getComputedStyle(td).whiteSpace") == "nowrap"
    box = cell.bounding_box()
    assert box is not None
    line = cell.evaluate("td => parseFloat(getComputedStyle(td).lineHeight)")
    assert box["height"] < 2 * line + 12  # one line of text plus the cell's padding


def test_show_steps_chart_with_failures_and_skips(page: Page) -> None:
    """The Runs view charts each step's passed, failed and skipped checks."""
    _open(page, "runs")
    chart = _chart(page, "steps")
    assert (chart["data"]["passed"], chart["data"]["failed"], chart["data"]["skipped"]) == (
        "2",
        "1",
        "1",
    )
    assert "User data: 1 failed" in chart["tips"]


VIEWS = ("journal", "charts", "players", "callbacks", "lookups", "faults", "runs")


@pytest.mark.parametrize("size", SIZES)
def test_capture_each_view(page: Page, size: str) -> None:
    """Screenshots of every view (MOCK_FT_SCREENSHOTS=docs/screenshots refreshes the docs')."""
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for view in VIEWS:
        _open(page, view)
        expect(page.locator(f"#view-{view} .view-error")).to_be_hidden()
        if view == "charts":
            expect(page.locator("#chart-lookups svg")).to_be_visible()
        if view == "runs":
            expect(page.locator("#chart-steps svg")).to_be_visible()
        page.screenshot(path=str(SCREENSHOTS / f"{view}-{size}.png"))
    _open(page, "journal")
    page.locator("#events tbody tr", has_text="PAYMENT").first.get_by_role("button").click()
    expect(page.locator("#event-detail")).to_contain_text("Payload")
    page.screenshot(path=str(SCREENSHOTS / f"event-detail-{size}.png"))


def test_keep_dashboard_free_of_inline_script_and_style(page: Page, stack: Target) -> None:
    """Only the package's own scripts and styles, none inline, even with every chart drawn: the
    page works under `script-src 'self'; style-src 'self'`, and nothing comes from a CDN."""
    html = web.get(f"{stack.ft_url}/ui").text
    assert "<style" not in html
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/ui/static/app.js" type="module">']
    assert re.findall(r'<link[^>]*href="([^"]+)"', html) == ["/ui/static/app.css"]
    for view in ("charts", "journal", "runs"):
        _open(page, view)
        if view == "charts":
            expect(page.locator("#chart-lookups svg")).to_be_visible()
        assert page.evaluate("document.querySelectorAll('[style], style').length") == 0, view
    sources = page.evaluate("[...document.scripts].map(s => s.src)")
    assert all(src.startswith(f"{stack.ft_url}/ui/static/") for src in sources)
