"""`mock-ft demo` and `mock-ft replay --stack local`, stopped by SIGTERM or SIGINT midway: the
reference operator process goes, and so do the run's RabbitMQ queues and exchanges.

Real processes and a real broker; each step waits on a condition (a line printed, a port
answering, the process gone), with a deadline only as a hang guard.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import aio_pika
import psutil
import pytest
from aio_pika.exceptions import ChannelNotFoundEntity

from mock_ft.scenarios.stack import _sigterm_unwinds
from tests import web
from tests.terminal import python_module
from tests.waiting import HANG_GUARD

pytestmark = pytest.mark.slow

_URL = re.compile(r"http://127\.0\.0\.1:\d+")
_QUEUE = re.compile(r"queue (mock-ft-replay-\w+)")

HOLD = """\
name: Hold the stack
description: Waits, so that a test can stop the run while the stack is up.
steps:
  - name: hold
    wait: 600
"""


def _until(condition: Callable[[], object], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds  # a hang guard, not a wait
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _read_until(process: subprocess.Popen[str], needle: str) -> str:
    """stdout up to the line holding `needle` (the process prints it once the stack is up)."""
    assert process.stdout is not None
    seen = ""
    while needle not in seen:
        line = process.stdout.readline()
        assert line, f"exited ({process.wait()}) before printing {needle!r}: {seen}"
        seen += line
    return seen


def _queue_exists(url: str, name: str) -> bool:
    async def declare() -> bool:
        connection = await aio_pika.connect(url)
        async with connection:
            channel = await connection.channel()
            try:
                await channel.declare_queue(name, passive=True)
            except ChannelNotFoundEntity:
                return False
            return True

    return asyncio.run(declare())


def _exchange_exists(url: str, name: str) -> bool:
    async def declare() -> bool:
        connection = await aio_pika.connect(url)
        async with connection:
            channel = await connection.channel()
            try:
                await channel.declare_exchange(name, passive=True)
            except ChannelNotFoundEntity:
                return False
            return True

    return asyncio.run(declare())


Start = Callable[[list[str], Path], subprocess.Popen[str]]


@pytest.fixture
def start() -> Iterator[Start]:
    """Run `python -m mock_ft ARGS` as from a terminal (Ctrl-C heard even when this runner ignores
    it); whatever a failed test leaves running is killed after it."""
    started: list[subprocess.Popen[str]] = []

    def run(args: list[str], cwd: Path) -> subprocess.Popen[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MOCK_FT_")}
        process = subprocess.Popen(
            python_module("mock_ft", *args),
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        started.append(process)
        return process

    yield run
    for process in started:
        if process.poll() is None:
            for child in psutil.Process(process.pid).children(recursive=True):
                child.kill()
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _stop_and_check(
    process: subprocess.Popen[str], mock_url: str, rabbitmq_url: str, signum: int
) -> None:
    """Signal the command while its stack runs; then nothing of the run may be left."""
    health = web.get(f"{mock_url}/_mock/health", timeout=HANG_GUARD).json()
    [queue] = [m[1] for b in health["brokers"] if (m := _QUEUE.search(b["target"]))]
    assert _queue_exists(rabbitmq_url, queue)
    children = psutil.Process(process.pid).children(recursive=True)
    assert children  # the reference operator
    process.send_signal(signum)
    process.wait(timeout=HANG_GUARD)
    _, alive = psutil.wait_procs(children, timeout=HANG_GUARD)  # returns once all are gone
    assert alive == []
    assert not _queue_exists(rabbitmq_url, queue)
    assert not _queue_exists(rabbitmq_url, f"{queue}.dead")
    assert not _exchange_exists(rabbitmq_url, queue)
    assert not _exchange_exists(rabbitmq_url, f"{queue}.dlx")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_clean_up_replay_on_signal(
    start: Start, tmp_path: Path, rabbitmq_url: str, signum: int
) -> None:
    """replay --stack local, stopped midway, leaves no operator process and no broker objects."""
    (tmp_path / "hold.yaml").write_text(HOLD)
    process = start(
        ["replay", "-v", "hold.yaml", "--stack", "local", "--rabbitmq-url", rabbitmq_url],
        tmp_path,
    )
    shown = _read_until(process, "local stack: mock http")
    mock_url = _URL.findall(shown)[0]
    _read_until(process, "▶ Hold the stack")  # -v: printed as the scenario starts
    _stop_and_check(process, mock_url, rabbitmq_url, signum)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_clean_up_demo_on_signal(
    start: Start, tmp_path: Path, rabbitmq_url: str, signum: int
) -> None:
    """The demo, stopped while it runs, leaves no operator process and no broker objects."""
    if not rabbitmq_url.startswith("amqp://guest:guest@127.0.0.1:5672"):
        pytest.skip("the demo uses the RabbitMQ on 127.0.0.1:5672 only")
    process = start(["demo", "--exit", "--report-dir", str(tmp_path / "reports")], tmp_path)
    shown = _read_until(process, "journal")  # the first line: the stack is up
    mock_url = _URL.findall(shown)[0]
    _stop_and_check(process, mock_url, rabbitmq_url, signum)


def test_turn_sigterm_into_interrupt_in_main_thread() -> None:
    """Inside the stack SIGTERM unwinds like Ctrl-C; the previous handler is back afterwards."""
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt), _sigterm_unwinds():
        signal.raise_signal(signal.SIGTERM)
    assert signal.getsignal(signal.SIGTERM) == before


def test_leave_signals_alone_in_other_threads() -> None:
    """A stack started outside the main thread cannot set handlers, and does not try."""
    failures: list[BaseException] = []

    def enter() -> None:
        try:
            with _sigterm_unwinds():
                pass
        except BaseException as exc:
            failures.append(exc)

    worker = threading.Thread(target=enter)
    worker.start()
    worker.join()
    assert failures == []


def test_hear_sigint_in_child_of_runner_that_ignores_it() -> None:
    """A child started from a runner that ignores SIGINT (a background job) still stops on it."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # inherited by the child
    try:
        child = subprocess.Popen(
            python_module("tests.terminal"),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
    finally:
        signal.signal(signal.SIGINT, previous)
    assert child.stdout is not None
    try:
        assert child.stdout.readline() == "ready\n"  # Ctrl-C's handler is in place by now
        child.send_signal(signal.SIGINT)
        # KeyboardInterrupt, uncaught, ends Python by SIGINT; an ignored one would not end it
        assert child.wait(timeout=HANG_GUARD) == -signal.SIGINT
    finally:
        child.kill()  # a no-op once it has exited
        child.wait()
        child.stdout.close()
