"""Server-drawn charts: escaped text, empty states, the figures behind them (bounded, in SQL, equal
to /_mock/stats), the SVG routes, and the HTML reports' order."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jinja2 import Environment
from markupsafe import Markup

from mock_ft.charts import (
    attempts_chart,
    histogram_chart,
    latency_chart,
    lookup_chart,
    rate_chart,
    steps_chart,
)
from mock_ft.charts.canvas import format_ms, linear_ticks, log_ticks
from mock_ft.crm import create_app
from mock_ft.journal import Journal, NewEntry
from mock_ft.journal.lookups import LookupRecord, append_lookup
from mock_ft.journal.series import (
    bucket_seconds,
    lookup_latency,
    lookup_latency_of,
    read_snapshot,
    series,
    series_of,
)
from mock_ft.scenarios.report import write_replay_reports
from mock_ft.scenarios.runner import ScenarioResult, StepResult
from mock_ft.scenarios.target import Target
from mock_ft.settings import Settings
from mock_ft.verify.model import CheckResult, Exchange, VerifyOptions
from mock_ft.verify.report import write_reports
from tests.conftest import KEY_HEADERS
from tests.ft_events import ft_event

HOSTILE = '<img src=x onerror="alert(1)">&'


def _series(buckets: list[dict[str, Any]], size: int = 1) -> dict[str, Any]:
    start = buckets[0]["start"] if buckets else 1000.0
    return {"since": start, "until": start + 10, "bucket_seconds": size, "buckets": buckets,
            "latency_ms": {"p50": 5.0, "p99": 9.0}}  # fmt: skip


def _bucket(start: float, accepted: int = 1, p: float | None = 5.0) -> dict[str, Any]:
    return {"start": start, "accepted": accepted, "rejected": 0, "faulted": 1,
            "p50": p, "p95": p, "p99": p}  # fmt: skip


def test_escape_every_text_a_chart_embeds() -> None:
    """Endpoint names, labels and titles are text in the SVG, never markup."""
    lookups = [{"endpoint": HOSTILE, "count": 1, "failed": 0, "p50": 1.0, "p95": 2.0, "p99": 3.0}]
    charts = [
        lookup_chart(lookups, 500),
        steps_chart([(HOSTILE, {"passed": 1})], title=HOSTILE),
        histogram_chart(HOSTILE, [1.0], 500),
    ]
    for chart in charts:
        assert isinstance(chart, Markup)
        assert "<img" not in chart
        assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in chart


def test_embed_chart_as_is_under_autoescape() -> None:
    """An autoescaping template places a chart as SVG, and escapes plain text beside it."""
    template = Environment(autoescape=True).from_string("{{ chart }}{{ text }}")
    html = template.render(chart=steps_chart([("Authentication", {"passed": 2})]), text=HOSTILE)
    assert html.startswith("<svg")
    assert "&lt;img" in html


@pytest.mark.parametrize(
    ("chart", "hint"),
    [
        (rate_chart(_series([])), "No events in this window"),
        (latency_chart(_series([_bucket(1000, p=None)])), "No accepted events"),
        (attempts_chart({}), "No delivered or refused events"),
        (lookup_chart([], 500), "--operator-url"),
        (steps_chart([]), "No checks ran"),
        (histogram_chart("x", [], 500), "No calls measured"),
    ],
)
def test_say_what_fills_empty_chart(chart: Markup, hint: str) -> None:
    """A chart without data draws its frame and says what would fill it."""
    assert 'data-empty="true"' in chart
    assert hint in chart


def test_break_latency_line_where_no_events_came() -> None:
    """Buckets without events split the line: it never bridges a quiet stretch."""
    buckets = [_bucket(1000), _bucket(1001), _bucket(1005), _bucket(1006)]
    chart = latency_chart(_series(buckets), tz_minutes=60)
    assert chart.count('data-series="p99"') == 2
    assert "UTC+01:00" in chart


def test_mark_lookup_over_budget() -> None:
    """An endpoint whose p95 is over the budget is counted and drawn in red."""
    rows = [
        {"endpoint": "userdetails", "count": 3, "failed": 1, "p50": 100.0, "p95": 900.0,
         "p99": 950.0},
        {"endpoint": "userblocks", "count": 3, "failed": 0, "p50": 10.0, "p95": 20.0,
         "p99": 30.0},
    ]  # fmt: skip
    chart = lookup_chart(rows, 500, width=360)
    assert 'data-over-budget="1"' in chart
    assert "userdetails: 3 call(s), 1 failed" in chart


def test_count_histogram_past_budget() -> None:
    """Calls slower than the budget fall in the bins past its line."""
    chart = histogram_chart("t", [3.0, 40.0, 700.0, 20_000.0], 500)
    assert 'data-over-budget="2"' in chart
    assert "1 call(s) &gt;10000 ms" in chart


@pytest.mark.parametrize(("span", "size"), [(30, 1), (120, 1), (121, 2), (3600, 30), (10**9, 3600)])
def test_choose_bucket_size(span: float, size: int) -> None:
    """At most 120 buckets, each a round number of seconds."""
    assert bucket_seconds(span) == size


def test_format_axis_values() -> None:
    """Ticks are round; milliseconds read as ms or s."""
    assert linear_ticks(15) == [0, 5, 10, 15]
    assert log_ticks(3, 1000) == [1, 10, 100, 1000]
    assert [format_ms(v) for v in (0.5, 250, 1500)] == ["0.5 ms", "250 ms", "1.5 s"]


def test_match_series_to_stats(client: TestClient) -> None:
    """/_mock/series' verdict counts, latency and attempts are what /_mock/stats says."""
    for n in range(12):
        path, payload = ft_event("PAYMENT", payment_id=f"p{n}", user_id=str(n % 3))
        client.post(path, json=payload, headers=KEY_HEADERS)
    path, payload = ft_event("PAYMENT", amount=-1)
    client.post(path, json=payload, headers=KEY_HEADERS)
    client.post("/v2/integration/nope", json={}, headers=KEY_HEADERS)
    figures = client.get("/_mock/series").json()
    stats = client.get("/_mock/stats").json()
    for verdict in ("accepted", "rejected"):
        total = sum(b[verdict] for b in figures["buckets"])
        assert total == stats["by_verdict"].get(verdict, 0)
    assert figures["latency_ms"]["p50"] == stats["latency_ms"]["p50"]
    assert figures["latency_ms"]["p99"] == stats["latency_ms"]["p99"]
    assert figures["attempts_per_event"] == stats["delivery"]["attempts_per_event"]
    assert figures["truncated"] is False


def test_bound_series_to_newest_rows(tmp_path: Path) -> None:
    """Only the newest rows are read; the answer says the window held more."""
    now = time.time()
    entries = [
        NewEntry(transport="rest", received_at=now - 30 + n, verdict="accepted", status_code=200,
                 latency_ms=float(n), idempotency_key=f"k{n}")
        for n in range(30)
    ]  # fmt: skip
    with Journal(str(tmp_path / "j.sqlite3")) as journal:
        journal.run_sync(lambda tx: [tx.insert(e) for e in entries])
        found = journal.run_sync(series(now, 3600, max_rows=10))
        whole = journal.run_sync(series(now, 3600))
    assert sum(b["accepted"] for b in found.buckets) == 10
    assert found.truncated
    assert found.latency_ms["p50"] == 24.0  # newest ten: 20..29
    assert (sum(b["accepted"] for b in whole.buckets), whole.truncated) == (30, False)
    assert whole.attempts_per_event == {"1": 30}


def test_read_same_series_on_snapshot_connection(tmp_path: Path) -> None:
    """Off the event loop, on a read-only connection of its own, the figures are the same."""
    path = str(tmp_path / "j.sqlite3")
    now = time.time()
    entry = NewEntry(transport="rest", received_at=now - 5, verdict="accepted", status_code=200,
                     latency_ms=7.0, idempotency_key="k")  # fmt: skip
    record = LookupRecord(None, "1", "userdetails", "GET", "u", now, 200, 12.0)
    with Journal(path) as journal:
        journal.run_sync(lambda tx: (tx.insert(entry), append_lookup(record)(tx)))
        inside = journal.run_sync(series(now, 600))
        outside = read_snapshot(path, lambda conn: series_of(conn, now, 600, 50_000))
        lookups = read_snapshot(path, lambda conn: lookup_latency_of(conn, 50_000))
    assert outside == inside
    assert outside.latency_ms["p50"] == 7.0
    assert lookups[0]["p99"] == 12.0


def test_leave_unanswered_lookups_out_of_percentiles(tmp_path: Path) -> None:
    """A lookup that got no answer counts as a call, not as a latency."""
    records = [
        LookupRecord(None, "1", "userdetails", "GET", "u", 0.0, 200, 10.0),
        LookupRecord(None, "1", "userdetails", "GET", "u", 0.0, 200, 30.0),
        LookupRecord(None, "1", "userdetails", "GET", "u", 0.0, None, None, error="timeout"),
    ]
    with Journal(str(tmp_path / "j.sqlite3")) as journal:
        journal.run_sync(lambda tx: [append_lookup(r)(tx) for r in records])
        [row] = journal.run_sync(lookup_latency())
    assert row == {"endpoint": "userdetails", "count": 3, "failed": 1, "p50": 10.0,
                   "p95": 30.0, "p99": 30.0, "max": 30.0}  # fmt: skip


@pytest.mark.parametrize("name", ["rate", "latency", "attempts", "lookups", "steps"])
def test_serve_chart_as_svg(client: TestClient, name: str) -> None:
    """Each chart is an SVG document, uncached."""
    answer = client.get(f"/_mock/charts/{name}.svg", params={"tz": -300, "width": 400})
    assert answer.headers["content-type"] == "image/svg+xml"
    assert answer.headers["cache-control"] == "no-store"
    assert answer.text.startswith("<svg")


def test_serve_dashboard_charts_from_one_reading(client: TestClient) -> None:
    """/_mock/charts/all gives the four charts the dashboard redraws, as SVG text."""
    charts = client.get("/_mock/charts/all", params={"width": 900}).json()
    assert sorted(charts) == ["attempts", "latency", "lookups", "rate"]
    assert all(svg.startswith("<svg") and 'viewBox="0 0 900 ' in svg for svg in charts.values())


def test_serve_dashboard_charts_of_journal_file(journal_file: str) -> None:
    """On a journal file the charts are read off the event loop, from a snapshot: the same
    four charts, drawn from the events in it."""
    settings = Settings(journal=journal_file, allowed_hosts=["testserver"])
    with TestClient(create_app(settings)) as client:
        path, event = ft_event("LOGIN_V2")
        answer = client.post(path, json=event, headers=KEY_HEADERS)
        assert answer.status_code == 200, answer.text
        charts = client.get("/_mock/charts/all", params={"width": 900}).json()
    assert sorted(charts) == ["attempts", "latency", "lookups", "rate"]
    assert all(svg.startswith("<svg") for svg in charts.values())
    assert "No delivered or refused events" not in charts["rate"]  # the login is in it


def test_refuse_unknown_chart(client: TestClient) -> None:
    """A chart name or width out of range is a 422 naming each parameter."""
    answer = client.get("/_mock/charts/pie.svg", params={"width": 10})
    assert answer.status_code == 422
    paths = {p["path"] for p in answer.json()["problems"]}
    assert paths == {"$.path.name", "$.query.width"}


def test_chart_steps_of_newest_verify_run(client: TestClient) -> None:
    """The steps chart counts the newest verification run's passed, failed, skipped checks."""
    checks = [
        {"step": "User data", "name": "a", "passed": True},
        {"step": "User data", "name": "b", "passed": False},
        {"step": "Resilience", "name": "c", "passed": True, "skipped": True},
    ]
    document = {"passed": False, "checks": checks}
    client.post("/_mock/runs", json={"kind": "verify", "document": document})
    chart = client.get("/_mock/charts/steps.svg").text
    assert 'data-passed="1" data-failed="1" data-skipped="1"' in chart


def _positions(html: str, *marks: str) -> list[int]:
    return [html.index(mark) for mark in marks]


def test_open_scorecard_on_verdict_then_fixes_charts_and_folded_passes(tmp_path: Path) -> None:
    """Verdict, what to fix, charts (inline SVG, budget marked), then the passes folded; every
    operator-supplied text escaped."""
    exchange = Exchange("GET", "http://op/userdetails/1", {}, None, 200, HOSTILE, 12.0)
    results = [
        CheckResult("Authentication", "refuses no key", True, "ok"),
        CheckResult("User data", "userdetails of 1", False, f"$.market: {HOSTILE}", [exchange]),
        CheckResult(
            "Latency",
            "userdetails answers within the latency budget",
            True,
            "p95 3 ms",
            samples_ms=[3.0, 4.0, 900.0],
        ),
    ]
    options = VerifyOptions(operator_url="http://op", auth=None, user_ids=["1"])
    html = write_reports(tmp_path, options, results).read_text()
    order = _positions(html, 'id="verdict"', "What to fix", "<svg", 'id="passing"')
    assert order == sorted(order)
    assert "<details>\n<summary>Authentication: 1 check(s)" in html[order[-1] :]
    assert "<img" not in html
    assert re.search(r"budget 500 ms", html)
    assert "userdetails: latency of 3 call(s)" in html
    assert "@media print" in html
    assert "<script" not in html


def test_open_replay_report_on_verdict_then_fixes_charts_and_folded_passes(
    tmp_path: Path,
) -> None:
    """The replay report, in the same order; a skipped scenario says what it needs."""
    failed = ScenarioResult(HOSTILE, "f.yaml", "d", [], 1, status="failed", steps=[
        StepResult("1 send", "send", "passed", 0.01),
        StepResult("2 expect", "expect", "failed", 1.5, "expected 1 event", ["status: x"]),
    ])  # fmt: skip
    skipped = ScenarioResult("Needs Kafka", "k.yaml", "d", [], 0, status="skipped",
                             reason="needs kafka: pass --kafka-bootstrap")  # fmt: skip
    passed = ScenarioResult("Fine", "p.yaml", "d", [], 0, steps=[
        StepResult("1 send", "send", "passed", 0.02),
    ])  # fmt: skip
    html = write_replay_reports(tmp_path, Target("http://mock"), [failed, skipped, passed])
    text = html.read_text()
    order = _positions(text, 'id="verdict"', "What to fix", "<svg", 'id="passing"')
    assert order == sorted(order)
    assert "FAILED: 1 passed, 1 failed, 1 skipped" in text
    assert "needs kafka: pass --kafka-bootstrap" in text
    assert "expect steps: time of 1 step(s)" in text
    assert "<img" not in text
