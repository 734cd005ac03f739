"""The dashboard in a real browser: live journal, filters, errors, players, faults, scorecard."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from mock_ft.crm import create_app
from mock_ft.crm.runner import ServerThread
from mock_ft.journal import Journal, NewEntry
from mock_ft.settings import Settings
from tests import web
from tests.conftest import KEY_HEADERS
from tests.ft_events import ft_event
from tests.serve_process import run_cli
from tests.ui.conftest import screenshot

pytestmark = pytest.mark.xdist_group("browser")  # tests/ui/conftest.py says why


def _send(mock: str, event_type: str, **fields: Any) -> httpx.Response:
    path, payload = ft_event(event_type, **fields)
    return web.post(mock + path, json=payload, headers=KEY_HEADERS)


def _open(page: Page, view: str = "journal") -> None:
    page.goto(f"/ui#{view}")
    expect(page.locator("#live")).to_have_text("live")


def test_show_event_sent_after_page_loaded(page: Page, mock: str) -> None:
    """An event sent after the page loaded appears in the live journal."""
    _open(page)
    event_id = _send(mock, "PAYMENT").json()["event_id"]
    row = page.locator(f'#events tr[data-id="{event_id}"]')
    expect(row).to_contain_text("PAYMENT")
    expect(row).to_contain_text("accepted")
    screenshot(page, "journal")


def test_filter_journal_by_type(page: Page, mock: str) -> None:
    """Filtering by type shows only that type."""
    _send(mock, "PAYMENT")
    _send(mock, "LOGIN_V2")
    _open(page)
    expect(page.locator("#events tbody tr")).to_have_count(2)
    page.get_by_label("Type", exact=True).fill("LOGIN_V2")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#events tbody tr")).to_have_count(1)
    expect(page.locator("#events tbody")).to_contain_text("LOGIN_V2")


def test_show_error_path_of_invalid_event(page: Page, mock: str) -> None:
    """A rejected event's detail names the JSON path of what is wrong, by keyboard too."""
    event_id = _send(mock, "PAYMENT", amount=-5).json()["event_id"]
    _open(page)
    button = page.get_by_role("button", name=f"Event {event_id} details")
    button.focus()
    page.keyboard.press("Enter")
    detail = page.locator("#event-detail")
    expect(detail).to_contain_text("rejected")
    expect(detail).to_contain_text("$.amount")
    screenshot(page, "event-detail")


def test_add_fault_from_form(page: Page, mock: str) -> None:
    """A fault added in the form takes effect on the next ingest; removing it ends it."""
    _open(page, "faults")
    page.get_by_label("Event type").fill("PAYMENT")
    page.get_by_label("Retry-After (s)").fill("2")
    page.get_by_role("button", name="Add rule").click()
    expect(page.locator("#faults tbody tr")).to_have_count(1)
    answer = _send(mock, "PAYMENT")
    assert (answer.status_code, answer.headers["retry-after"]) == (503, "2")
    screenshot(page, "faults")
    page.get_by_role("button", name="Remove rule 1").click()
    expect(page.locator("#faults tbody tr")).to_have_count(0)
    assert _send(mock, "PAYMENT", payment_id="after").status_code == 200


def test_show_form_errors_for_bad_fault(page: Page) -> None:
    """A rule the mock refuses shows why, next to the form."""
    _open(page, "faults")
    page.get_by_label("Action", exact=True).select_option("delay")  # a delay needs delay_ms
    page.get_by_role("button", name="Add rule").click()
    expect(page.locator("#fault-error")).to_contain_text("delay_ms")


def test_follow_player_timeline(page: Page, mock: str) -> None:
    """A player's registration, deposits and withdrawal show in the model and the timeline."""
    _send(mock, "USER_CREATE_V2", user_id="p1")
    _send(mock, "PAYMENT", user_id="p1", payment_id="d1", amount=30)
    _send(mock, "PAYMENT", user_id="p1", payment_id="d2", amount=12)
    _send(
        mock, "PAYMENT", user_id="p1", payment_id="w1", type="Debit", status="Requested", amount=5
    )
    _open(page, "players")
    page.get_by_role("link", name="p1").click()
    detail = page.locator("#player-detail")
    expect(detail).to_contain_text("deposit total base")
    expect(detail).to_contain_text("42")
    expect(detail.locator(".timeline li")).to_have_count(4)
    screenshot(page, "player")


def test_render_scorecard_after_verify_run(page: Page, mock: str, tmp_path: Path) -> None:
    """A verification report sent to the mock shows as the go-live verdict with a chart."""
    checks = [
        {"step": "Authentication", "name": "refuses no key", "passed": True, "message": ""},
        {
            "step": "User data",
            "name": "userdetails of 1",
            "passed": False,
            "message": "$.market missing",
        },
    ]
    document = {"passed": False, "operator_url": "http://op", "checks": checks}
    web.post(f"{mock}/_mock/runs", json={"kind": "verify", "document": document}).raise_for_status()
    _send(mock, "PAYMENT")
    _open(page, "runs")
    expect(page.locator("#scorecard .verdict")).to_contain_text("NOT READY: 1 of 2 checks passed")
    expect(page.locator("#scorecard")).to_contain_text("$.market missing")
    expect(page.locator("#chart-steps svg")).to_be_visible()
    screenshot(page, "runs")


def test_page_large_journal(browser: Browser, tmp_path: Path) -> None:
    """With 100,000 events in the journal the page shows 100 and offers older ones on demand."""
    path = str(tmp_path / "big.sqlite3")
    entries = [
        NewEntry(transport="rest", received_at=time.time(), verdict="accepted", status_code=200,
                 event_type="PAYMENT", user_id=str(n % 500), payload="{}")
        for n in range(100_000)
    ]  # fmt: skip
    with Journal(path) as journal:
        journal.run_sync(lambda tx: [tx.insert(e) for e in entries])
    with ServerThread(create_app(Settings(journal=path))) as server:
        context = browser.new_context(base_url=server.url)
        page = context.new_page()
        _open(page)
        expect(page.locator("#events tbody tr")).to_have_count(100)
        expect(page.locator("#events tbody tr").first).to_have_attribute("data-id", "100000")
        page.get_by_role("button", name="Load older").click()
        expect(page.locator("#events tbody tr")).to_have_count(200)
        context.close()


def test_render_scorecard_of_real_verify_run(page: Page, mock: str, tmp_path: Path) -> None:
    """`mock-ft verify --ft-url` against the reference operator: the Runs view shows READY."""
    from reference_operator import OperatorSettings
    from reference_operator import create_app as create_operator

    settings = OperatorSettings(database=str(tmp_path / "op.sqlite3"), ft_url=mock, players=1)
    with ServerThread(create_operator(settings)) as operator:
        result = run_cli(
            "verify", "--operator-url", operator.url, "--auth", "api-key:operator-local-key",
            "--user-id", "100001", "--ft-url", mock, "--step", "Authentication",
            "--report-dir", str(tmp_path / "reports"), timeout=120,
        )  # fmt: skip
    assert result.returncode == 0, result.stdout
    _open(page, "runs")
    expect(page.locator("#scorecard .verdict")).to_contain_text("READY for go-live")
    expect(page.locator("#chart-steps")).to_contain_text("Authentication")
