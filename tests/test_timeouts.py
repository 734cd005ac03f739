"""The suite's hang guard: a stuck test fails, naming where every thread and task was."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

HUNG = """
import asyncio
import threading


def test_hangs() -> None:
    started = threading.Event()

    async def stuck_in_a_task() -> None:
        started.set()
        await asyncio.Event().wait()

    threading.Thread(target=lambda: asyncio.run(stuck_in_a_task()), daemon=True).start()
    started.wait()
    threading.Event().wait()  # the main thread waits for good
"""


def test_fail_hung_test_with_stacks_of_threads_and_tasks(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["tests.timeouts"]\n')
    (tmp_path / "test_hung.py").write_text(textwrap.dedent(HUNG))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "timeout=1", "-q"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Timeout: the test ran over 1 s" in result.stdout
    assert "stuck_in_a_task" in result.stdout  # the asyncio task, with its line
    assert "threading.Event().wait()  # the main thread waits for good" in result.stdout
    assert "1 failed" in result.stdout
