"""Waiting on conditions, never on the clock: how long a test waits for something is not part of
what it checks. The one deadline is a hang guard, far beyond any load a machine can be under,
so that a condition that never comes fails the test with what was awaited instead of hanging.
"""

from __future__ import annotations

import time
from collections.abc import Callable

HANG_GUARD = 120.0  # seconds; what normally takes milliseconds never takes this long


def wait_until(predicate: Callable[[], bool], what: str, timeout: float = HANG_GUARD) -> None:
    """Return once `predicate()` is true; fail naming `what` if it never becomes so."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened (hang guard of {timeout:g} s): {what}")
        time.sleep(0.02)
