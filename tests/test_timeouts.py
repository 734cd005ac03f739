"""The suite's hang guard: a stuck test fails, naming where every thread and task was."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Waits for good: only the timer can end it, whenever it fires.
STUCK = """
import threading


def test_hangs() -> None:
    threading.Event().wait()
"""

# A thread and an asyncio task stuck beside a main thread stuck on a known line. The alarm is
# sent only once the main thread is seen parked on that line, so the dump's content does not
# depend on how fast a loaded machine gets there (a real 1 s timer raced the set-up).
PARKED = """
import asyncio
import signal
import sys
import threading

MARK = "# the main thread " + "waits for good"
PARKED_LINE = next(n for n, line in enumerate(open(__file__), 1) if line.rstrip().endswith(MARK))


def parked(frame) -> bool:
    while frame is not None and frame.f_code.co_name != "test_hangs":
        frame = frame.f_back  # out of threading's own frames
    return frame is not None and frame.f_lineno == PARKED_LINE


def test_hangs() -> None:
    started = threading.Event()
    main = threading.main_thread().ident

    async def stuck_in_a_task() -> None:
        started.set()
        await asyncio.Event().wait()

    def alarm_once_parked() -> None:
        started.wait()
        while not parked(sys._current_frames()[main]):
            threading.Event().wait(0.01)
        signal.pthread_kill(main, signal.SIGALRM)

    threading.Thread(target=lambda: asyncio.run(stuck_in_a_task()), daemon=True).start()
    threading.Thread(target=alarm_once_parked, daemon=True).start()
    threading.Event().wait()  # the main thread waits for good
"""


def _run_pytest(tmp_path: Path, test_module: str, timeout: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["tests.timeouts"]\n')
    (tmp_path / "test_hung.py").write_text(textwrap.dedent(test_module))
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-o",
            f"timeout={timeout}",
            "-q",
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_fail_test_that_outlives_its_timeout(tmp_path: Path) -> None:
    result = _run_pytest(tmp_path, STUCK, "1")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Timeout: the test ran over 1 s" in result.stdout
    assert "1 failed" in result.stdout


def test_name_stuck_threads_and_tasks_when_timeout_fires(tmp_path: Path) -> None:
    result = _run_pytest(tmp_path, PARKED, "3600")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Timeout: the test ran over 3600 s" in result.stdout
    assert "stuck_in_a_task" in result.stdout  # the asyncio task, with its line
    assert "threading.Event().wait()  # the main thread waits for good" in result.stdout
    assert "1 failed" in result.stdout
