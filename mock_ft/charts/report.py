"""What both HTML reports share: their stylesheet, inlined so each file stands alone."""

from __future__ import annotations

from importlib.resources import files

from markupsafe import Markup

__all__ = ["report_css"]


def report_css() -> Markup:
    """The reports' CSS, our own file, safe to embed in a <style> element."""
    return Markup(files("mock_ft.charts").joinpath("report.css").read_text(encoding="utf-8"))  # noqa: S704 - our file
