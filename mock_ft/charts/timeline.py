"""Charts over time, from a journal `Series`: events per second by verdict, delivery latency."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup

from mock_ft.charts.canvas import COLOURS, Canvas, Scale, format_ms, linear_ticks, log_ticks

__all__ = ["latency_chart", "rate_chart", "time_marks"]

VERDICTS = ("accepted", "rejected", "faulted")
QUANTILES = ("p50", "p95", "p99")
_TICK_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600)
EMPTY_HINT = "No events in this window: send some (see the Journal view) and it fills in"


def _clock(at: float, tz_minutes: int, seconds: bool) -> str:
    shown = time.gmtime(at + tz_minutes * 60)
    return time.strftime("%H:%M:%S" if seconds else "%H:%M", shown)


def zone(tz_minutes: int) -> str:
    """`UTC+01:00` for an offset of 60 minutes."""
    sign = "+" if tz_minutes >= 0 else "-"
    hours, minutes = divmod(abs(tz_minutes), 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


def time_marks(
    since: float, until: float, scale: Scale, tz_minutes: int, width: int = 560
) -> list[tuple[float, str]]:
    """Ticks on round times of day between `since` and `until`, one per 90 px or so."""
    span = max(until - since, 1.0)
    most = max(2, width // 90)
    step = next((s for s in _TICK_STEPS if span / s <= most), _TICK_STEPS[-1])
    first = -(-since // step) * step
    marks = []
    at = first
    while at <= until:
        marks.append((scale(at), _clock(at, tz_minutes, step < 60)))
        at += step
    return marks


def _frame(series: Mapping[str, Any]) -> tuple[float, float]:
    since, size = float(series["since"]), series["bucket_seconds"]
    last = max((b["start"] for b in series["buckets"]), default=since)
    return since, max(float(series["until"]), last + size)


def rate_chart(series: Mapping[str, Any], tz_minutes: int = 0, width: int = 560) -> Markup:
    """Stacked columns: attempts per second in each bucket, accepted / rejected / faulted."""
    canvas = Canvas("Events per second by verdict", width=width)
    buckets: Sequence[Mapping[str, Any]] = series["buckets"]
    if not buckets:
        return canvas.empty(EMPTY_HINT)
    totals = {v: sum(b[v] for b in buckets) for v in VERDICTS}
    canvas.legend([(f"{v} ({totals[v]})", COLOURS[v], False) for v in VERDICTS])
    size = series["bucket_seconds"]
    since, until = _frame(series)
    x0, y0, x1, y1 = canvas.plot
    xs = Scale(since, until, x0, x1)
    peak = max(sum(b[v] for v in VERDICTS) for b in buckets) / size
    ticks = linear_ticks(peak)
    ys = Scale(0, ticks[-1], y1, y0)
    canvas.y_axis(ys, ticks, lambda t: f"{t:g}", "events / s")
    bar = max(1.0, xs(since + size) - xs(since) - 1)
    for b in buckets:
        base = 0.0
        clock = _clock(b["start"], tz_minutes, True)
        for verdict in VERDICTS:
            count = b[verdict]
            if not count:
                continue
            rate = count / size
            top = ys(base + rate)
            tip = f"{clock} +{size} s: {count} {verdict} ({rate:g}/s)"
            canvas.rect(xs(b["start"]), top, bar, ys(base) - top, COLOURS[verdict], tip)
            base += rate
    title = f"time ({zone(tz_minutes)}), {size} s buckets"
    canvas.x_axis(time_marks(since, until, xs, tz_minutes, width), title)
    summary = ", ".join(f"{totals[v]} {v}" for v in VERDICTS) + f"; peak {peak:g} events/s"
    return canvas.render(summary, {"chart": "rate", **totals, "bucket-seconds": size})


def _runs(points: list[Mapping[str, Any]], size: int) -> list[list[Mapping[str, Any]]]:
    """Consecutive buckets together: a line must not bridge a stretch without events."""
    runs: list[list[Mapping[str, Any]]] = []
    for b in points:
        if runs and b["start"] - runs[-1][-1]["start"] <= size:
            runs[-1].append(b)
        else:
            runs.append([b])
    return runs


def latency_chart(
    series: Mapping[str, Any], target_ms: float = 1000.0, tz_minutes: int = 0, width: int = 560
) -> Markup:
    """p50 / p95 / p99 of delivery latency per bucket, log scale, with FT's target as a line."""
    canvas = Canvas("Delivery latency over time", width=width)
    points = [b for b in series["buckets"] if b.get("p50") is not None]
    if not points:
        return canvas.empty("No accepted events with a timestamp in this window yet")
    target = f"FT target {format_ms(target_ms)}"
    canvas.legend([(q, COLOURS[q], False) for q in QUANTILES] + [(target, COLOURS["target"], True)])
    since, until = _frame(series)
    size = series["bucket_seconds"]
    x0, y0, x1, y1 = canvas.plot
    xs = Scale(since, until, x0, x1)
    values = [b[q] for b in points for q in QUANTILES]
    ticks = log_ticks(max(min(values), 0.1), max(max(values), target_ms))
    ys = Scale(ticks[0], ticks[-1], y1, y0, log=True)
    canvas.y_axis(ys, ticks, format_ms, "latency (log scale)")
    canvas.line(x0, ys(target_ms), x1, ys(target_ms), COLOURS["target"], width=1.5, dash="6 4")
    canvas.text(x1 - 4, ys(target_ms) + 14, target, anchor="end")
    # p50 widest and first, p99 thinnest and on top: where the lines meet, each stays visible.
    for q, stroke in zip(QUANTILES, (5.0, 3.5, 2.0), strict=True):
        for run in _runs(points, size):
            line = [(xs(b["start"] + size / 2), ys(b[q])) for b in run]
            canvas.path(line, COLOURS[q], q, stroke)
            for b, (x, y) in zip(run, line, strict=True):
                clock = _clock(b["start"], tz_minutes, True)
                canvas.dot(x, y, COLOURS[q], f"{clock} {q} {b[q]:g} ms")
    title = f"time ({zone(tz_minutes)}), {size} s buckets"
    canvas.x_axis(time_marks(since, until, xs, tz_minutes, width), title)
    whole = series.get("latency_ms") or {}
    over = sum(b["p99"] > target_ms for b in points)
    summary = (
        f"p50 {whole.get('p50')} ms, p99 {whole.get('p99')} ms over the window; "
        f"{over} of {len(points)} buckets with p99 above the {format_ms(target_ms)} target"
    )
    data = {"chart": "latency", "p50": whole.get("p50"), "p99": whole.get("p99")}
    return canvas.render(summary, {**data, "buckets": len(points), "over-target": over})
