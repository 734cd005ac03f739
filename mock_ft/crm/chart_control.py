"""The figures behind the dashboard's charts (`/_mock/series`) and the charts themselves as SVG.

Both read the same bounded slice of the journal (see mock_ft.journal.series), so what a chart
draws is exactly what the JSON says; the dashboard swaps a chart's SVG in place when the event
stream reports new attempts, without re-rendering the page.
"""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from markupsafe import Markup
from pydantic import BaseModel, Field

from mock_ft.charts import attempts_chart, latency_chart, lookup_chart, rate_chart, steps_chart
from mock_ft.crm.guard import control_guard, unambiguous_query
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

__all__ = ["DELIVERY_TARGET_MS", "build_chart_router"]

DELIVERY_TARGET_MS = 1000.0  # FT expects an event within 1 s of what it reports
MAX_ROWS = 50_000  # attempts (and lookups) read per call at most: bounds its time and memory

Window = Annotated[
    int, Query(ge=10, le=86_400, description="Seconds back from now (the chart starts at the "
               "oldest attempt within them).")
]  # fmt: skip


Tz = Annotated[int, Query(ge=-840, le=840, description="Minutes east of UTC for the time axis.")]
Width = Annotated[
    int, Query(ge=320, le=1600, description="Drawing width (px): text stays legible.")
]
CHARTS = ("rate", "latency", "attempts", "lookups")


class SeriesPublic(BaseModel):
    """One window of the journal, cut into equal time buckets."""

    since: float = Field(description="Start of the first bucket (Unix time).")
    until: float = Field(description="Now (Unix time).")
    bucket_seconds: int
    truncated: bool = Field(description=f"The window held more than the newest {MAX_ROWS:,} "
                            "attempts; older ones are left out.")  # fmt: skip
    buckets: list[dict[str, Any]] = Field(
        description="Per bucket: start, accepted, rejected, faulted (attempts), and p50, p95, "
        "p99 of accepted events' delivery latency (ms; null when none)."
    )
    latency_ms: dict[str, float | None] = Field(description="p50, p95, p99, max over the window.")
    attempts_per_event: dict[str, int] = Field(
        description="Events (by idempotency key) per number of attempts they took."
    )
    lookups: list[dict[str, Any]] = Field(
        description="Per Operator API endpoint: count, failed, p50, p95, p99, max (ms)."
    )
    lookup_budget_ms: float
    delivery_target_ms: float


async def _series(request: Request, settings: Settings, window: int) -> SeriesPublic:
    journal: Journal = request.app.state.journal
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


async def _steps(request: Request, width: int) -> Markup:
    """Checks per step of the newest verification run: passed, failed, skipped."""
    journal: Journal = request.app.state.journal
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


def build_chart_router(settings: Settings) -> APIRouter:
    """The /_mock/series and /_mock/charts/{name}.svg routes."""
    protected, errors = control_guard(settings)
    router = APIRouter(
        prefix="/_mock",
        tags=["mock control"],
        responses=errors,
        dependencies=[*protected, Depends(unambiguous_query)],
    )

    @router.get("/series")
    async def get_series(request: Request, window: Window = 3600) -> SeriesPublic:
        """Attempts per verdict, delivery latency percentiles, attempts per event and lookup
        latency per endpoint, over the newest attempts of the window (computed in SQL)."""
        return await _series(request, settings, window)

    @router.get("/charts/all")
    async def get_charts(request: Request, window: Window = 3600, tz: Tz = 0, width: Width = 560
    ) -> dict[str, str]:  # fmt: skip
        """The dashboard's four charts as SVG text (rate, latency, attempts, lookups), from one
        reading of /_mock/series: what the dashboard redraws when new attempts arrive."""
        figures = await _series(request, settings, window)
        return {name: str(_draw(name, figures, tz, width)) for name in CHARTS}

    @router.get(
        "/charts/{name}.svg",
        response_class=Response,
        responses={200: {"content": {"image/svg+xml": {}}, "description": "The chart."}},
    )
    async def get_chart(
        request: Request,
        name: Annotated[Literal["rate", "latency", "attempts", "lookups", "steps"], Path()],
        window: Window = 3600,
        tz: Tz = 0,
        width: Width = 560,
    ) -> Response:
        """One of the dashboard's charts, drawn from /_mock/series (same window); `steps` is the
        newest verification run's checks per step."""
        if name == "steps":
            chart = await _steps(request, width)
        else:
            chart = _draw(name, await _series(request, settings, window), tz, width)
        return Response(
            str(chart),
            media_type="image/svg+xml",
            headers={"Cache-Control": "no-store"},
        )

    return router
