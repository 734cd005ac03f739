"""tests/coverage_workers.py: `no_cover` stops tracing in an xdist worker, in every thread."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]

TRACES = """
import sys, threading
import pytest

def traces():
    seen = {}
    thread = threading.Thread(target=lambda: seen.update(thread=sys.gettrace()))
    thread.start()
    thread.join()
    return sys.gettrace(), seen["thread"]

@pytest.mark.no_cover
def test_off():
    assert traces() == (None, None)

def test_on():
    assert None not in traces()
"""

OFF = """
import pytest

@pytest.mark.no_cover
def test_off():
    pass
"""


@pytest.mark.slow
def test_stop_every_tracer_in_a_no_cover_test_on_a_worker(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("COVERAGE_PROCESS_CONFIG", "COVERAGE_PROCESS_START"):
        monkeypatch.delenv(name, raising=False)  # this run's own coverage stays out of it
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makepyfile(test_traces=TRACES)
    result = pytester.runpytest_subprocess(
        "-n", "1", "--cov=.", "-p", "tests.coverage_workers", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=2)


@pytest.mark.slow
def test_run_no_cover_test_with_coverage_switched_off(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make unit PYTEST_ARGS=--no-cov` runs a `no_cover` test: pytest-cov 7.1 paused a coverage
    that `--no-cov` never started, and every such test failed with an AttributeError."""
    for name in ("COVERAGE_PROCESS_CONFIG", "COVERAGE_PROCESS_START"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makepyfile(test_off=OFF)
    result = pytester.runpytest_subprocess(
        "--cov=.", "--no-cov", "-p", "tests.coverage_workers", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=1)
