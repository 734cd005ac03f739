"""`--stack local`: a mock (in this process) and the reference operator (a child process),
wired to each other on free ports, with RabbitMQ and Kafka when there are brokers to use.

Broker names are unique per run (exchange, queues, topic, group), so a replay never mixes with
another mock on the same broker; the RabbitMQ ones are deleted afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from mock_ft.crm import create_app
from mock_ft.crm.runner import ServerThread, bind_socket
from mock_ft.errors import ConfigError
from mock_ft.reference import operator_module
from mock_ft.scenarios.target import Target
from mock_ft.settings import DEFAULT_API_KEY, Settings
from mock_ft.tls import client_tls

__all__ = ["DEFAULT_RABBITMQ_URL", "local_stack"]

DEFAULT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"
_OPERATOR_KEY = "replay-operator-key"
_CALLBACK_KEY = "replay-callback-key"


def _port_open(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


@contextmanager
def local_stack(
    *,
    rabbitmq_url: str | None = None,
    kafka_bootstrap: str | None = None,
    defects: Sequence[str] = (),
    journal: str | None = None,
) -> Iterator[Target]:
    """Start the stack; yield where it runs; stop it."""
    run = uuid.uuid4().hex[:8]
    if rabbitmq_url is None and _port_open("127.0.0.1", 5672):
        rabbitmq_url = DEFAULT_RABBITMQ_URL
    folder = Path(tempfile.mkdtemp(prefix="mock-ft-replay-"))
    # The operator serves a socket bound here and handed down: closing it for the child to bind
    # the port again left a window in which another server could take the port.
    operator_sock = bind_socket("127.0.0.1", 0)
    operator_url = f"http://127.0.0.1:{operator_sock.getsockname()[1]}"
    brokers: dict[str, Any] = {}
    if rabbitmq_url:
        brokers |= {
            "rabbitmq_url": rabbitmq_url,
            "rabbitmq_exchange": f"mock-ft-replay-{run}",
            "rabbitmq_queue": f"mock-ft-replay-{run}",
            "rabbitmq_dead_letter_exchange": f"mock-ft-replay-{run}.dlx",
            "rabbitmq_dead_letter_queue": f"mock-ft-replay-{run}.dead",
        }
    if kafka_bootstrap:
        brokers |= {
            "kafka_bootstrap": kafka_bootstrap,
            "kafka_topics": [f"mock-ft-replay-{run}"],
            "kafka_group": f"mock-ft-replay-{run}",
            "kafka_session_timeout_ms": 2000,
        }
    # Everything given explicitly: MOCK_FT_* variables meant for another mock (a container's
    # MOCK_FT_HOST=0.0.0.0, a compose stack's broker) must not reach this private one.
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": 0,
        "api_key": DEFAULT_API_KEY,
        "auth_enabled": True,
        "control_token": None,
        "faults": [],
        "callback_rules": [],
        "rabbitmq_url": None,
        "kafka_bootstrap": None,
        "journal": journal or str(folder / "journal.sqlite3"),
        "operator_url": operator_url,
        "operator_auth": f"api-key:{_OPERATOR_KEY}",
        "callback_api_key": _CALLBACK_KEY,
    }
    settings = Settings(**(values | brokers))
    command = [
        sys.executable, "-m", operator_module(), "serve", "--fd", str(operator_sock.fileno()),
        "--database", str(folder / "platform.sqlite3"), "--api-key", _OPERATOR_KEY,
        "--callback-api-key", _CALLBACK_KEY,
    ]  # fmt: skip
    for defect in defects:
        command += ["--defect", defect]
    # Whatever ends the run (its end, Ctrl-C, SIGTERM, an error), the operator process, the
    # run's broker objects and its folder go: nothing of it outlives the command.
    try:
        with _sigterm_unwinds(), ServerThread(create_app(settings)) as mock:
            command += ["--ft-url", mock.url]
            with _start(command, operator_sock) as child:
                try:
                    _wait_up(operator_url, child)
                    if rabbitmq_url:
                        _wait_consuming(mock.url)
                    yield Target(
                        ft_url=mock.url,
                        operator_url=operator_url,
                        operator_auth=f"api-key:{_OPERATOR_KEY}",
                        rabbitmq_url=rabbitmq_url,
                        rabbitmq_exchange=settings.rabbitmq_exchange,
                        kafka_bootstrap=kafka_bootstrap,
                        kafka_topic=settings.kafka_topics[0],
                    )
                finally:
                    _stop(child)
    finally:
        operator_sock.close()
        if rabbitmq_url:  # after the mock stopped: its consumer would declare them again
            _delete_rabbit(rabbitmq_url, settings)
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """SIGTERM (a process manager, CI) stops the run as Ctrl-C does, so every `finally` runs;
    Python's default would end the process at once and leave the children behind."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers; a thread's caller owns the signals
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _start(command: list[str], listener: socket.socket) -> subprocess.Popen[bytes]:
    """The reference operator, serving `listener`; its stderr is kept for the reason when it
    stops at start."""
    return subprocess.Popen(  # noqa: S603 - our own CLI
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, pass_fds=[listener.fileno()]
    )


def _stop(child: subprocess.Popen[bytes]) -> None:
    """Terminate the operator; kill it when it does not stop within 5 s."""
    child.terminate()
    try:
        child.wait(5)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def _wait_up(base: str, child: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    # One client for all the polls: each `httpx.get` would build one, SSL context and all.
    with httpx.Client(timeout=1, verify=client_tls()) as client:
        while time.monotonic() < deadline:
            if child.poll() is not None:
                error = (child.stderr.read() if child.stderr else b"").decode(errors="replace")
                last = error.strip().splitlines()[-1:] or ["(no output)"]
                msg = f"the reference operator stopped at start: {last[0]}"
                raise ConfigError(msg)
            with contextlib.suppress(httpx.TransportError):
                if client.get(f"{base}/openapi.json").status_code == 200:
                    return
            time.sleep(0.05)
    msg = f"the reference operator did not start at {base} within 30 s"
    raise ConfigError(msg)


def _wait_consuming(mock_url: str) -> None:
    """Until the mock's RabbitMQ consumer has declared its exchange (publishing needs it)."""
    deadline = time.monotonic() + 15
    with httpx.Client(verify=client_tls()) as client:
        while time.monotonic() < deadline:
            health = client.get(f"{mock_url}/_mock/health").json()
            if all(b.get("state") == "connected" for b in health.get("brokers", [])):
                return
            time.sleep(0.05)


def _delete_rabbit(url: str, settings: Settings) -> None:
    from mock_ft.brokers.rabbitmq import delete_topology

    with contextlib.suppress(Exception):  # tidying only: a broker gone now loses nothing
        asyncio.run(delete_topology(url, settings))
