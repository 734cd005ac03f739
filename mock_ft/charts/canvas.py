"""A small SVG canvas: plot area, axes with ticks and titles, legend, and escaped text.

Charts are drawn on the server so the dashboard and the self-contained HTML reports show the same
pictures without a script library. Every piece of text passes through `escape`, and the result is
`Markup`, so an autoescaping template embeds it as-is and a hostile endpoint name stays text.
Colours are presentation attributes, not `style`, so a `style-src 'self'` policy allows them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from markupsafe import Markup, escape

__all__ = ["COLOURS", "Canvas", "Scale", "format_ms", "linear_ticks", "log_ticks"]

COLOURS = {
    "accepted": "#1b7f3b",
    "passed": "#1b7f3b",
    "rejected": "#b3261e",
    "failed": "#b3261e",
    "faulted": "#d08b00",
    "skipped": "#d08b00",
    "p50": "#1f4fbf",
    "p95": "#7b3fb5",
    "p99": "#b3261e",
    "target": "#222222",
    "bar": "#1f4fbf",
    "grid": "#e3e3ea",
    "axis": "#55555f",
    "text": "#1d1d1f",
}
FONT = "system-ui, -apple-system, 'Segoe UI', sans-serif"


def _n(value: float) -> str:
    """A coordinate, short: SVG files stay small."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def format_ms(value: float) -> str:
    """Milliseconds as a reader wants them: 250 ms, 1.5 s."""
    if value >= 1000:
        return f"{value / 1000:g} s"
    return f"{value:g} ms" if value >= 1 else f"{value:.2g} ms"


def linear_ticks(top: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least `top` (1, 2 or 5 times a power of ten apart)."""
    top = max(top, 1e-9)
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return [i * step for i in range(math.ceil(top / step - 1e-9) + 1)]


def log_ticks(low: float, high: float) -> list[float]:
    """Powers of ten covering [low, high]."""
    first = math.floor(math.log10(max(low, 1e-3)))
    last = math.ceil(math.log10(max(high, low * 10, 1e-3)))
    return [10.0**e for e in range(first, last + 1)]


@dataclass(slots=True, frozen=True)
class Scale:
    """Maps data values onto pixels, linearly or logarithmically."""

    low: float
    high: float
    start: float  # pixel of `low`
    end: float  # pixel of `high`
    log: bool = False

    def __call__(self, value: float) -> float:
        if self.log:
            low, high = math.log10(self.low), math.log10(self.high)
            value = math.log10(min(max(value, self.low), self.high))
        else:
            low, high = self.low, self.high
        span = (high - low) or 1.0
        return self.start + (value - low) / span * (self.end - self.start)


@dataclass(slots=True)
class Canvas:
    """One chart: a title, a plot area inside margins, and the SVG elements drawn so far."""

    title: str
    width: int = 560
    height: int = 260
    left: int = 72
    right: int = 20
    top: int = 50
    bottom: int = 46
    parts: list[str] = field(default_factory=list)

    @property
    def plot(self) -> tuple[float, float, float, float]:
        """x0, y0 (top), x1, y1 (bottom) of the plot area."""
        return self.left, self.top, self.width - self.right, self.height - self.bottom

    def text(
        self,
        x: float,
        y: float,
        words: object,
        *,
        anchor: str = "start",
        size: int = 11,
        bold: bool = False,
        colour: str = COLOURS["text"],
        rotate: bool = False,
    ) -> None:
        """Text at (x, y), escaped."""
        extra = f' transform="rotate(-90 {_n(x)} {_n(y)})"' if rotate else ""
        weight = ' font-weight="600"' if bold else ""
        self.parts.append(
            f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}" font-size="{size}"'
            f'{weight} fill="{colour}"{extra}>{escape(words)}</text>'
        )

    def rect(self, x: float, y: float, w: float, h: float, colour: str, tip: str = "") -> None:
        """A filled rectangle; `tip` shows on hover (and is what tests and screen readers read)."""
        title = f"<title>{escape(tip)}</title>" if tip else ""
        self.parts.append(
            f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(max(w, 0))}" height="{_n(max(h, 0))}" '
            f'fill="{colour}">{title}</rect>'
        )

    def line(
        self, x1: float, y1: float, x2: float, y2: float, colour: str, *, width: float = 1,
        dash: str = "",
    ) -> None:  # fmt: skip
        """A straight line, dashed when `dash` is given (e.g. "6 4")."""
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(
            f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" stroke="{colour}" '
            f'stroke-width="{_n(width)}"{dashed}/>'
        )

    def path(
        self, points: Sequence[tuple[float, float]], colour: str, name: str, width: float = 2
    ) -> None:
        """A polyline through `points`."""
        if len(points) > 1:
            coords = " ".join(f"{_n(x)},{_n(y)}" for x, y in points)
            self.parts.append(
                f'<polyline points="{coords}" fill="none" stroke="{colour}" '
                f'stroke-width="{_n(width)}" data-series="{escape(name)}"/>'
            )

    def dot(self, x: float, y: float, colour: str, tip: str) -> None:
        """A point of a line, with its value on hover."""
        self.parts.append(
            f'<circle cx="{_n(x)}" cy="{_n(y)}" r="2.5" fill="{colour}">'
            f"<title>{escape(tip)}</title></circle>"
        )

    def y_axis(
        self, scale: Scale, ticks: list[float], label: Callable[[float], str], title: str
    ) -> None:
        """Grid lines at `ticks`, their labels on the left, and the axis title."""
        x0, y0, x1, y1 = self.plot
        for tick in ticks:
            y = scale(tick)
            self.line(x0, y, x1, y, COLOURS["grid"])
            self.text(x0 - 6, y + 4, label(tick), anchor="end", colour=COLOURS["axis"])
        self.line(x0, y0, x0, y1, COLOURS["axis"])
        self.text(16, (y0 + y1) / 2, title, anchor="middle", rotate=True, colour=COLOURS["axis"])

    def x_axis(self, marks: list[tuple[float, str]], title: str) -> None:
        """The baseline, labelled marks at pixel positions, and the axis title."""
        x0, _, x1, y1 = self.plot
        self.line(x0, y1, x1, y1, COLOURS["axis"])
        for x, words in marks:
            self.line(x, y1, x, y1 + 4, COLOURS["axis"])
            half = 3.4 * len(words)  # keep a label at either end inside the picture
            anchor = "end" if x + half > self.width else "start" if x - half < 0 else "middle"
            self.text(x, y1 + 16, words, anchor=anchor, colour=COLOURS["axis"])
        self.text((x0 + x1) / 2, self.height - 6, title, anchor="middle", colour=COLOURS["axis"])

    def legend(self, items: list[tuple[str, str, bool]]) -> None:
        """Swatches (a dashed line for a reference line) along the top, wrapping onto more rows
        on a narrow chart; call it before reading `plot`, which moves down to make room."""
        x, row = float(self.left), 0
        for words, colour, dashed in items:
            wide = 30 + 6.6 * len(words)
            if x + wide > self.width - self.right and x > self.left:
                x, row = float(self.left), row + 1
            y = 26 + 18 * row
            if dashed:
                self.line(x, y - 4, x + 16, y - 4, colour, width=2, dash="4 3")
            else:
                self.rect(x, y - 10, 12, 12, colour)
            self.text(x + 20, y, words)
            x += wide
        self.top += 18 * row
        self.height += 18 * row  # the plot keeps its size

    def render(self, summary: str, data: dict[str, object] | None = None) -> Markup:
        """The SVG element: `summary` is its accessible description; `data` its data-* values."""
        attrs = "".join(f' data-{k}="{escape(v)}"' for k, v in (data or {}).items())
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" '
            f'viewBox="0 0 {self.width} {self.height}" width="100%" font-family="{FONT}"'
            f"{attrs}><title>{escape(self.title)}</title><desc>{escape(summary)}</desc>"
        )
        return Markup(head + "".join(self.parts) + "</svg>")  # noqa: S704 - every text escaped above

    def empty(self, hint: str) -> Markup:
        """A chart with nothing to draw yet: its frame and what would fill it."""
        x0, y0, x1, y1 = self.plot
        self.line(x0, y1, x1, y1, COLOURS["axis"])
        self.text((x0 + x1) / 2, (y0 + y1) / 2, hint, anchor="middle", colour=COLOURS["axis"])
        return self.render(f"No data yet. {hint}", {"empty": "true"})
