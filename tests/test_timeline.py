"""The `--timeline` option of the suite's own harness (tests/timeline.py)."""

from __future__ import annotations

import json

import pytest

from tests.timeline import summary

pytest_plugins = ["pytester"]

BUSY_TEST = """
import subprocess, sys

def test_spawn():
    subprocess.run([sys.executable, "-c", "sum(range(3_000_000))"], check=True)

def test_idle():
    pass
"""


def test_record_a_line_per_test_with_childrens_cpu(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reaped child's CPU is charged to the test that started it, not to the next one."""
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw7")  # as xdist sets it in a worker
    pytester.makepyfile(BUSY_TEST)
    target = pytester.path / "timeline.jsonl"
    pytester.runpytest_inprocess("-p", "tests.timeline", "--timeline", str(target))
    lines = {line["test"]: line for line in map(json.loads, target.read_text().splitlines())}
    spawn, idle = (
        lines["test_record_a_line_per_test_with_childrens_cpu.py::test_spawn"],
        lines["test_record_a_line_per_test_with_childrens_cpu.py::test_idle"],
    )
    assert spawn["children_cpu"] > 0
    assert idle["children_cpu"] == 0
    assert spawn["worker"] == "gw7"
    assert spawn["start"] <= spawn["end"] <= idle["start"]


def test_write_nothing_without_the_option(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(BUSY_TEST)
    pytester.runpytest_inprocess("-p", "tests.timeline").assert_outcomes(passed=2)
    assert not list(pytester.path.glob("*.jsonl"))


def test_sum_up_span_cpu_and_costliest_tests() -> None:
    lines = [
        {"test": "a", "worker": "gw0", "start": 0, "end": 10, "cpu": 4, "children_cpu": 6},
        {"test": "b", "worker": "gw1", "start": 0, "end": 5, "cpu": 1, "children_cpu": 0},
    ]
    text = summary(lines, top=1)
    assert (
        text.splitlines()[0]
        == "2 tests over 10.0 s; CPU 11.0 s (tests 5.0, children 6.0), 1.10 cores"
    )
    assert "busy: gw0 10 s, gw1 5 s" in text
    assert text.splitlines()[-1].endswith("10.0  a")


def test_sum_up_an_empty_timeline() -> None:
    assert summary([]) == "no tests in the timeline"
