"""The example operator suite (examples/operator-suite) passes, copied on its own elsewhere."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

EXAMPLE = Path(__file__).parents[2] / "examples" / "operator-suite"


def test_pass_example_operator_suite(pytester: pytest.Pytester) -> None:
    """Pasted into another directory, the example runs green against the reference operator."""
    suite = pytester.path / "operator-suite"
    shutil.copytree(EXAMPLE, suite, ignore=shutil.ignore_patterns("__pycache__", ".*"))
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", str(suite))
    result.assert_outcomes(passed=5)
