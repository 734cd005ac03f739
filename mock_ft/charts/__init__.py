"""Server-drawn SVG charts, shared by the dashboard (/_mock/charts/*.svg) and the HTML reports."""

from mock_ft.charts.bars import attempts_chart, histogram_chart, lookup_chart, steps_chart
from mock_ft.charts.timeline import latency_chart, rate_chart

__all__ = [
    "attempts_chart",
    "histogram_chart",
    "latency_chart",
    "lookup_chart",
    "rate_chart",
    "steps_chart",
]
