"""Bar charts: attempts per event, lookup latency against a budget, checks per step, histograms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup

from mock_ft.charts.canvas import COLOURS, Canvas, Scale, format_ms, linear_ticks

__all__ = ["HISTOGRAM_EDGES_MS", "attempts_chart", "histogram_chart", "lookup_chart", "steps_chart"]

HISTOGRAM_EDGES_MS = (1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)
OUTCOMES = ("passed", "failed", "skipped")


def _columns(
    canvas: Canvas, bars: Sequence[tuple[str, int, str, str]], y_title: str, x_title: str
) -> None:
    """Vertical bars of (label, value, colour, tooltip), one per category."""
    x0, y0, x1, y1 = canvas.plot
    ticks = linear_ticks(max(max(v for _, v, _, _ in bars), 1))
    ticks = [t for t in ticks if t == int(t)] or [0, 1]  # counts: whole numbers only
    ys = Scale(0, ticks[-1], y1, y0)
    canvas.y_axis(ys, ticks, lambda t: f"{t:g}", y_title)
    slot = (x1 - x0) / len(bars)
    marks = []
    for i, (label, value, colour, tip) in enumerate(bars):
        x = x0 + i * slot
        canvas.rect(x + slot * 0.15, ys(value), slot * 0.7, y1 - ys(value), colour, tip)
        if value:
            canvas.text(x + slot / 2, ys(value) - 4, value, anchor="middle", size=10)
        marks.append((x + slot / 2, label))
    canvas.x_axis(marks, x_title)


def _fit(label: str, left: int) -> str:
    """A label cut to the margin it is drawn in (its whole text stays in the mark's tooltip)."""
    most = max(8, int((left - 10) / 6.2))
    return label if len(label) <= most else label[: most - 1] + "…"


def _budget_legend(within: str, over: str, budget_ms: float) -> list[tuple[str, str, bool]]:
    return [
        (within, COLOURS["bar"], False),
        (over, COLOURS["rejected"], False),
        (f"budget {format_ms(budget_ms)}", COLOURS["target"], True),
    ]


def attempts_chart(attempts_per_event: Mapping[str, int], width: int = 560) -> Markup:
    """How many attempts each event took to deliver: 1 means no retry."""
    canvas = Canvas("Attempts per event (retries)", width=width)
    if not attempts_per_event:
        return canvas.empty("No delivered or refused events in this window yet")
    canvas.legend(
        [("first attempt", COLOURS["accepted"], False), ("retried", COLOURS["faulted"], False)]
    )
    counts = {int(k): v for k, v in attempts_per_event.items()}
    top = max(counts)
    bars = []
    for n in range(1, max(top, 3) + 1):
        value = counts.get(n, 0)
        colour = COLOURS["accepted"] if n == 1 else COLOURS["faulted"]
        retries = "no retry" if n == 1 else f"{n - 1} retr{'y' if n == 2 else 'ies'}"
        bars.append((str(n), value, colour, f"{value} event(s) took {n} attempt(s): {retries}"))
    _columns(canvas, bars, "events", "attempts per event (1 = delivered first time)")
    events = sum(counts.values())
    retried = events - counts.get(1, 0)
    summary = f"{events} events, {retried} needed a retry, at most {top} attempts"
    return canvas.render(summary, {"chart": "attempts", "events": events, "retried": retried})


def lookup_chart(
    lookups: Sequence[Mapping[str, Any]], budget_ms: float, width: int = 560
) -> Markup:
    """Per Operator API endpoint: p50 to p99 latency as a bar, the budget as a line."""
    rows = [r for r in lookups if r.get("p50") is not None]
    height = max(150, 90 + 34 * len(rows))
    left = min(170, width // 3)
    canvas = Canvas("Lookup latency per Operator API endpoint", width, height, left=left)
    if not rows:
        return canvas.empty(
            "No lookups yet: the mock calls the operator when --operator-url is set"
        )
    canvas.legend(_budget_legend("p95 within budget", "p95 over budget", budget_ms))
    x0, y0, x1, y1 = canvas.plot
    top = max(budget_ms * 1.25, max(r["p99"] for r in rows) * 1.1)
    ticks = linear_ticks(top)
    xs = Scale(0, ticks[-1], x0, x1)
    for tick in ticks:
        canvas.line(xs(tick), y0, xs(tick), y1, COLOURS["grid"])
    slot = (y1 - y0) / len(rows)
    over = 0
    for i, r in enumerate(rows):
        y = y0 + i * slot + slot * 0.2
        slow = r["p95"] > budget_ms
        over += slow
        tip = (f"{r['endpoint']}: {r['count']} call(s), {r['failed']} failed; p50 {r['p50']:g} ms, "
               f"p95 {r['p95']:g} ms, p99 {r['p99']:g} ms")  # fmt: skip
        canvas.rect(
            x0, y, xs(r["p95"]) - x0, slot * 0.6, COLOURS["rejected" if slow else "bar"], tip
        )
        canvas.line(xs(r["p50"]), y - 2, xs(r["p50"]), y + slot * 0.6 + 2, "#ffffff", width=2)
        canvas.line(xs(r["p99"]), y - 2, xs(r["p99"]), y + slot * 0.6 + 2, COLOURS["text"], width=2)
        canvas.text(x0 - 6, y + slot * 0.3 + 4, _fit(r["endpoint"], left), anchor="end")
    canvas.line(xs(budget_ms), y0 - 4, xs(budget_ms), y1, COLOURS["target"], width=1.5, dash="6 4")
    canvas.text(xs(budget_ms) + 4, y0 + 10, f"budget {format_ms(budget_ms)}")
    canvas.x_axis(
        [(xs(t), format_ms(t) if t else "0") for t in ticks],
        "latency (bar to p95, white tick p50, black tick p99)",
    )
    calls = sum(r["count"] for r in rows)
    summary = f"{len(rows)} endpoint(s), {calls} call(s); {over} with p95 over the budget"
    return canvas.render(
        summary, {"chart": "lookups", "calls": calls, "endpoints": len(rows), "over-budget": over}
    )


def steps_chart(
    rows: Sequence[tuple[str, Mapping[str, int]]],
    title: str = "Checks per step",
    unit: str = "checks",
    width: int = 560,
) -> Markup:
    """Horizontal stacked bars: passed / failed / skipped per step (or scenario)."""
    left = min(200, width // 3)
    canvas = Canvas(title, width, height=max(140, 92 + 26 * len(rows)), left=left)
    if not rows:
        return canvas.empty("No checks ran")
    totals = {o: sum(c.get(o, 0) for _, c in rows) for o in OUTCOMES}
    canvas.legend([(f"{o} ({totals[o]})", COLOURS[o], False) for o in OUTCOMES])
    x0, y0, x1, y1 = canvas.plot
    ticks = linear_ticks(max(sum(c.values()) for _, c in rows))
    ticks = [t for t in ticks if t == int(t)] or [0, 1]
    xs = Scale(0, ticks[-1], x0, x1)
    for tick in ticks:
        canvas.line(xs(tick), y0, xs(tick), y1, COLOURS["grid"])
    slot = (y1 - y0) / len(rows)
    for i, (label, counts) in enumerate(rows):
        y, base = y0 + i * slot + slot * 0.18, 0
        for outcome in OUTCOMES:
            n = counts.get(outcome, 0)
            if n:
                canvas.rect(xs(base), y, xs(base + n) - xs(base), slot * 0.64, COLOURS[outcome],
                            f"{label}: {n} {outcome}")  # fmt: skip
            base += n
        canvas.text(x0 - 6, y + slot * 0.32 + 4, _fit(label, left), anchor="end")
    canvas.x_axis([(xs(t), f"{t:g}") for t in ticks], unit)
    summary = ", ".join(f"{totals[o]} {o}" for o in OUTCOMES)
    return canvas.render(summary, {"chart": "steps", **totals})


def histogram_chart(title: str, values: Sequence[float], budget_ms: float) -> Markup:
    """Latency histogram on round edges (the budget one of them), from the fastest bin in use to
    the one past the budget (or the slowest); bins past the budget in red."""
    canvas = Canvas(title, height=220)
    if not values:
        return canvas.empty("No calls measured")
    canvas.legend(_budget_legend("within budget", "over budget", budget_ms))
    edges = sorted({*HISTOGRAM_EDGES_MS, budget_ms})
    counts = [0] * (len(edges) + 1)
    for value in values:
        counts[next((i for i, e in enumerate(edges) if value <= e), len(edges))] += 1
    used = [i for i, n in enumerate(counts) if n]
    budget_bin = edges.index(budget_ms)
    first, last = min(used[0], budget_bin), max(used[-1], budget_bin + 1)
    bars = []
    for i in range(first, last + 1):
        low = f"{format_ms(edges[i - 1])}" if i else "0"
        label = f"≤{edges[i]:g}" if i < len(edges) else f">{edges[-1]:g}"
        tip = (
            f"{counts[i]} call(s) {low}–{format_ms(edges[i])}"
            if i < len(edges)
            else f"{counts[i]} call(s) {label} ms"
        )
        bars.append((label, counts[i], COLOURS["rejected" if i > budget_bin else "bar"], tip))
    _columns(canvas, bars, "calls", "latency, ms (upper edge of each bin)")
    x0, _, x1, y1 = canvas.plot
    at = x0 + (budget_bin + 1 - first) * (x1 - x0) / len(bars)
    canvas.line(at, canvas.top - 4, at, y1, COLOURS["target"], width=1.5, dash="6 4")
    late = sum(counts[budget_bin + 1 :])
    summary = f"{len(values)} call(s), {late} slower than the {format_ms(budget_ms)} budget"
    return canvas.render(summary, {"chart": "histogram", "calls": len(values), "over-budget": late})
