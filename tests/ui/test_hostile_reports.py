"""Hostile reports opened in a real Chromium: no dialog opens, whatever the operator answered.

Covers the files `verify` and `replay` write (opened from disk, as a user does) and the
dashboard's scorecard of the same runs (what `mock-ft demo` and verify post to /_mock/runs).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect

from tests import web
from tests.test_report_escaping import hostile_replay_report, hostile_verify_report

pytestmark = pytest.mark.xdist_group("browser")  # tests/ui/conftest.py says why


def _dialogs(page: Page) -> list[str]:
    opened: list[str] = []

    def record(dialog: Dialog) -> None:
        opened.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    return opened


def test_open_hostile_verify_report_without_dialog(browser: Browser, tmp_path: Path) -> None:
    report = hostile_verify_report(tmp_path)
    page = browser.new_page()
    opened = _dialogs(page)
    page.goto(report.as_uri(), wait_until="load")
    expect(page.locator("h1")).to_have_text("Fast Track go-live scorecard")
    page.close()
    assert opened == []


def test_open_hostile_replay_report_without_dialog(browser: Browser, tmp_path: Path) -> None:
    report = hostile_replay_report(tmp_path)
    page = browser.new_page()
    opened = _dialogs(page)
    page.goto(report.as_uri(), wait_until="load")
    expect(page.locator("h1")).to_have_text("Scenario replay")
    page.close()
    assert opened == []


def test_show_hostile_runs_in_dashboard_without_dialog(
    page: Page, mock: str, tmp_path: Path
) -> None:
    hostile_verify_report(tmp_path / "verify")
    hostile_replay_report(tmp_path / "replay")
    for kind, name in (("verify", "verify/report.json"), ("replay", "replay/replay.json")):
        document = json.loads((tmp_path / name).read_text())
        body = {"kind": kind, "document": document}
        web.post(f"{mock}/_mock/runs", json=body).raise_for_status()
    opened = _dialogs(page)
    page.goto("/ui#runs")
    expect(page.locator("#scorecard")).to_contain_text("<script>alert(1)</script>")
    expect(page.locator("#replays")).to_contain_text("<script>alert(1)</script>")
    assert opened == []
