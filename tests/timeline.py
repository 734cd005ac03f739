"""`pytest --timeline FILE`: one JSON line a test, to find where a run's time and CPU go.

Each line has the test's id, its xdist worker, its start and end (epoch seconds) and the CPU it
used: the test process's own, and that of the child processes it reaped (servers, CLIs). The
workers append to the one file. `python -m tests.timeline FILE` sums it up: wall span, CPU in all
and per worker, and the tests that cost most. The durations pytest reports say which tests are
slow; this says which are expensive, and whether the workers sat idle.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections import defaultdict
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--timeline",
        metavar="FILE",
        help="append a JSON line a test (worker, start, end, own and children's CPU) to FILE",
    )


def _cpu() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, None, None]:
    target = item.config.getoption("timeline")
    if not target:
        yield
        return
    start, (own, children) = time.time(), _cpu()
    yield
    end, (own_after, children_after) = time.time(), _cpu()
    line = {
        "test": item.nodeid,
        "worker": os.environ.get("PYTEST_XDIST_WORKER", "main"),
        "start": round(start, 3),
        "end": round(end, 3),
        "cpu": round(own_after - own, 3),
        "children_cpu": round(children_after - children, 3),
    }
    with Path(target).open("a") as out:  # one short write a line: workers do not interleave
        out.write(json.dumps(line) + "\n")


def summary(lines: list[dict[str, Any]], top: int = 15) -> str:
    """The run's span, CPU and busiest tests, as text."""
    if not lines:
        return "no tests in the timeline"
    start = min(line["start"] for line in lines)
    span = max(line["end"] for line in lines) - start
    busy: dict[str, float] = defaultdict(float)
    for line in lines:
        busy[line["worker"]] += line["end"] - line["start"]
    own = sum(line["cpu"] for line in lines)
    children = sum(line["children_cpu"] for line in lines)
    out = [
        f"{len(lines)} tests over {span:.1f} s; CPU {own + children:.1f} s "
        f"(tests {own:.1f}, children {children:.1f}), {(own + children) / span:.2f} cores",
        "busy: " + ", ".join(f"{w} {s:.0f} s" for w, s in sorted(busy.items())),
        "most CPU (own + children, wall):",
    ]
    costly = sorted(lines, key=lambda line: line["cpu"] + line["children_cpu"], reverse=True)
    for line in costly[:top]:
        wall = line["end"] - line["start"]
        out.append(
            f"  {line['cpu']:6.1f} + {line['children_cpu']:6.1f}  {wall:6.1f}  {line['test']}"
        )
    return "\n".join(out)


if __name__ == "__main__":
    path = Path(sys.argv[1])
    print(summary([json.loads(text) for text in path.read_text().splitlines() if text]))
