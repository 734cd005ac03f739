"""Skips that say where and why: a library that skips a test from its own code (Schemathesis
when it cannot generate a case) would otherwise be listed at a line inside site-packages."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

import pytest
from pluggy import Result

_TESTS = Path(__file__).resolve().parent


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Result[pytest.TestReport], None]:
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or not isinstance(report.longrepr, tuple):
        return
    path, _, reason = report.longrepr
    if Path(path).resolve().is_relative_to(_TESTS):
        return
    name = getattr(item, "originalname", item.name)
    lines = item.path.read_text().splitlines()
    line = next((n for n, text in enumerate(lines, 1) if f"def {name}(" in text), 1)
    reason = reason.removeprefix("Skipped: ")
    report.longrepr = (str(item.path), line, f"{item.name}: {reason}")
