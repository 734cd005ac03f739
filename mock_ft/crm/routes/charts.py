"""The figures behind the dashboard's charts (`/_mock/series`) and the charts themselves as SVG.

Both read the same bounded slice of the journal (see mock_ft.journal.series), so what a chart
draws is exactly what the JSON says; the dashboard swaps a chart's SVG in place when the event
stream reports new attempts, without re-rendering the page.
"""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from markupsafe import Markup

from mock_ft.charts import attempts_chart, latency_chart, lookup_chart, rate_chart, steps_chart
from mock_ft.crm.deps import JournalDep, SettingsDep
from mock_ft.crm.schemas import MAX_ROWS, SeriesPublic
from mock_ft.journal import Journal
from mock_ft.journal.runs import query_runs
from mock_ft.journal.series import (
    lookup_latency,
    lookup_latency_of,
    read_snapshot,
    series,
    series_of,
)
from mock_ft.settings import Settings

__all__ = ["DELIVERY_TARGET_MS", "router"]

DELIVERY_TARGET_MS = 1000.0  # FT expects an event within 1 s of what it reports

Window = Annotated[
    int, Query(ge=10, le=86_400, description="Seconds back from now (the chart starts at the "
               "oldest attempt within them).")
]  # fmt: skip


Tz = Annotated[int, Query(ge=-840, le=840, description="Minutes east of UTC for the time axis.")]
Width = Annotated[
    int, Query(ge=320, le=1600, description="Drawing width (px): text stays legible.")
]
CHARTS = ("rate", "latency", "attempts", "lookups")

router = APIRouter(prefix="/_mock", tags=["mock control"])


@router.get("/series")
async def get_series(
    journal: JournalDep, settings: SettingsDep, window: Window = 3600
) -> SeriesPublic:
    """Attempts per verdict, delivery latency percentiles, attempts per event and lookup
    latency per endpoint, over the newest attempts of the window (computed in SQL)."""
    return await _series(journal, settings, window)


@router.get("/charts/all")
async def get_charts(
    journal: JournalDep,
    settings: SettingsDep,
    window: Window = 3600,
    tz: Tz = 0,
    width: Width = 560,
) -> dict[str, str]:
    """The dashboard's four charts as SVG text (rate, latency, attempts, lookups), from one
    reading of /_mock/series: what the dashboard redraws when new attempts arrive."""
    figures = await _series(journal, settings, window)
    return {name: str(_draw(name, figures, tz, width)) for name in CHARTS}


@router.get(
    "/charts/{name}.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}, "description": "The chart."}},
)
async def get_chart(
    journal: JournalDep,
    settings: SettingsDep,
    name: Annotated[Literal["rate", "latency", "attempts", "lookups", "steps"], Path()],
    window: Window = 3600,
    tz: Tz = 0,
    width: Width = 560,
) -> Response:
    """One of the dashboard's charts, drawn from /_mock/series (same window); `steps` is the
    newest verification run's checks per step."""
    if name == "steps":
        chart = await _steps(journal, width)
    else:
        chart = _draw(name, await _series(journal, settings, window), tz, width)
    return Response(
        str(chart),
        media_type="image/svg+xml",
        headers={"Cache-Control": "no-store"},
    )


async def _series(journal: Journal, settings: Settings, window: int) -> SeriesPublic:
    now = time.time()
    if journal.path == ":memory:":  # one connection only: through the journal's own queue
        found = await journal.run(series(now, window, MAX_ROWS))
        lookups = await journal.run(lookup_latency(MAX_ROWS))
    else:  # off the event loop: ingest goes on while a chart is computed (0.1-1 s at 50k rows)
        found, lookups = await asyncio.to_thread(
            read_snapshot,
            journal.path,
            lambda conn: (
                series_of(conn, now, window, MAX_ROWS),
                lookup_latency_of(conn, MAX_ROWS),
            ),
        )
    return SeriesPublic(
        since=found.since,
        until=found.until,
        bucket_seconds=found.bucket_seconds,
        truncated=found.truncated,
        buckets=found.buckets,
        latency_ms=found.latency_ms,
        attempts_per_event=found.attempts_per_event,
        lookups=lookups,
        lookup_budget_ms=settings.lookup_budget_ms,
        delivery_target_ms=DELIVERY_TARGET_MS,
    )


async def _steps(journal: Journal, width: int) -> Markup:
    """Checks per step of the newest verification run: passed, failed, skipped."""
    runs = await journal.run(query_runs("verify", 1))
    rows: dict[str, dict[str, int]] = {}
    for check in runs[0].document.get("checks", []) if runs else []:
        outcome = (
            "skipped" if check.get("skipped") else "passed" if check.get("passed") else "failed"
        )
        counts = rows.setdefault(str(check.get("step")), {})
        counts[outcome] = counts.get(outcome, 0) + 1
    return steps_chart(list(rows.items()), width=width)


def _draw(name: str, figures: SeriesPublic, tz: int, width: int) -> Markup:
    data = figures.model_dump()
    if name == "rate":
        return rate_chart(data, tz, width)
    if name == "latency":
        return latency_chart(data, figures.delivery_target_ms, tz, width)
    if name == "attempts":
        return attempts_chart(figures.attempts_per_event, width)
    return lookup_chart(figures.lookups, figures.lookup_budget_ms, width)
