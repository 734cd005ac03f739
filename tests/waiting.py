"""Waiting on conditions, never on the clock: how long a test waits for something is not part of
what it checks. The one deadline is a hang guard, far beyond any load a machine can be under,
so that a condition that never comes fails the test with what was awaited instead of hanging.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

HANG_GUARD = 120.0  # seconds; what normally takes milliseconds never takes this long


def pauses(first: float = 0.01, longest: float = 0.1) -> Iterator[float]:
    """The pauses between looks at a condition: short at first, for what is there at once, then
    growing to `longest`. A look is often an HTTP request or a query, a few ms of CPU: at a fixed
    50 looks a second, a long wait took a tenth of a core from the work it waited on."""
    pause = first
    while True:
        yield pause
        pause = min(longest, pause * 1.5)


def wait_until(predicate: Callable[[], bool], what: str, timeout: float = HANG_GUARD) -> None:
    """Return once `predicate()` is true; fail naming `what` if it never becomes so."""
    deadline = time.monotonic() + timeout
    for pause in pauses():
        if predicate():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened (hang guard of {timeout:g} s): {what}")
        time.sleep(pause)
