"""A per-test timeout that says where a test hung: every thread's stack and every asyncio task's.

pytest-timeout supplies the setting (`timeout` in pyproject, `@pytest.mark.timeout(N)`) and calls
this hook. The timer is a SIGALRM in the main thread, so the test fails like any other (also under
xdist, where a killed worker would lose its output) with the dump in its failure message. If the
main thread is stuck where no signal gets through, a backstop thread writes the same dump to
stderr and ends the process a grace period later.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
import threading
import traceback
from types import FrameType
from typing import Any

import pytest

_BACKSTOP_GRACE = 60.0  # seconds after the timeout before a process that ignores it is ended


def stack_dump() -> str:
    """Every thread's stack, then every pending task of every running asyncio loop."""
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    parts: list[str] = []
    for ident, frame in sys._current_frames().items():
        if ident == threading.get_ident():
            continue  # this handler itself
        parts.append(f"--- thread {names.get(ident, '?')} ({ident})\n{_format(frame)}")
    for loop in _running_loops():
        for task in _tasks(loop):
            frames = task.get_stack()
            where = "".join(traceback.format_list(traceback.extract_stack(frames[-1]))[-6:])
            parts.append(f"--- task {task.get_name()} {task.get_coro()!r}\n{where}")
    return "\n".join(parts)


def _emit(text: str) -> None:
    """Straight to the process's stderr: output capture may be what is stuck."""
    os.write(2, text.encode("utf-8", "replace"))


def _format(frame: FrameType) -> str:
    return "".join(traceback.format_stack(frame))


def _running_loops() -> list[asyncio.AbstractEventLoop]:
    # Loops run in server threads the test cannot name; the collector knows them all.
    found: list[asyncio.AbstractEventLoop] = []
    for obj in gc.get_objects():
        try:
            if isinstance(obj, asyncio.AbstractEventLoop) and obj.is_running():
                found.append(obj)
        except Exception:  # noqa: S112 - a half-built object; nothing to dump
            continue
    return found


def _tasks(loop: asyncio.AbstractEventLoop) -> list[asyncio.Task[Any]]:
    try:
        return [task for task in asyncio.all_tasks(loop) if task.get_stack()]
    except RuntimeError:  # the set changed under us too often: dump what the threads show
        return []


@pytest.hookimpl(tryfirst=True)
def pytest_timeout_set_timer(item: pytest.Item, settings: Any) -> bool | None:
    """Arm the timeout for `item` (setup, call and teardown together)."""
    if threading.current_thread() is not threading.main_thread():
        return None  # pytest-timeout's own thread method takes over
    seconds = float(settings.timeout)

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        dump = stack_dump()
        _emit(f"\n+++ Timeout of {item.nodeid}\n{dump}\n")
        pytest.fail(f"Timeout: the test ran over {seconds:g} s. Where it was:\n{dump}")

    def backstop() -> None:
        _emit(f"\n+++ {item.nodeid} ignored its timeout\n{stack_dump()}\n")
        os._exit(1)

    hard = threading.Timer(seconds + _BACKSTOP_GRACE, backstop)
    hard.daemon = True

    def cancel() -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        hard.cancel()

    item.cancel_timeout = cancel  # type: ignore[attr-defined]
    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    hard.start()
    return True


@pytest.hookimpl(tryfirst=True)
def pytest_timeout_cancel_timer(item: pytest.Item) -> bool:
    cancel = getattr(item, "cancel_timeout", None)
    if cancel is not None:
        cancel()
    return True
