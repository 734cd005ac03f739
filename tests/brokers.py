"""Real brokers for the tests: this machine's RabbitMQ, a Tansu (Kafka protocol) per worker, and
a private RabbitMQ node a test may stop and start (a broker restart, without disturbing others).

A broker that cannot be reached skips its tests with the reason, except under CI=true, where it
fails them: CI must prove the broker paths (`.ci/run` starts RabbitMQ; Tansu ships with the dev
dependencies). `MOCK_FT_TEST_RABBITMQ_URL` / `MOCK_FT_TEST_KAFKA_BOOTSTRAP` point the tests at
other brokers, e.g. a real Kafka.
"""

from __future__ import annotations

import math
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

import pytest

from bench.broker_infra import BrokerMissing, reachable, tansu
from tests.waiting import HANG_GUARD, wait_until

RABBITMQ_URL_ENV = "MOCK_FT_TEST_RABBITMQ_URL"
KAFKA_BOOTSTRAP_ENV = "MOCK_FT_TEST_KAFKA_BOOTSTRAP"
DEFAULT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(what: str) -> NoReturn:
    """Skip (locally) or fail (CI) a test whose broker is missing, saying what to do."""
    if in_ci():
        pytest.fail(f"{what}; under CI=true broker tests must run (.ci/run starts the brokers)")
    pytest.skip(f"{what}; start it (see docs/architecture.md, Developing mock-ft) to run this test")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def shared_rabbitmq_url() -> str:
    """The URL of the machine's RabbitMQ, or the test is skipped (failed under CI)."""
    url = os.environ.get(RABBITMQ_URL_ENV, DEFAULT_RABBITMQ_URL)
    parts = urlsplit(url)
    if not reachable(parts.hostname or "127.0.0.1", parts.port or 5672):
        unavailable(f"no RabbitMQ at {parts.hostname}:{parts.port or 5672}")
    return url


def unique_name(prefix: str = "mockft-test") -> str:
    """A queue, exchange or topic name no other test (or worker) uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@contextmanager
def kafka_broker() -> Iterator[str]:
    """Bootstrap servers of a Kafka-protocol broker: the one named in the environment, or a
    Tansu started on a free loopback port (memory storage) and stopped afterwards."""
    given = os.environ.get(KAFKA_BOOTSTRAP_ENV)
    if given:
        host, _, port_text = given.split(",")[0].rpartition(":")
        if not reachable(host or "127.0.0.1", int(port_text)):
            unavailable(f"no Kafka at {given} ({KAFKA_BOOTSTRAP_ENV})")
        yield given
        return
    with ExitStack() as stack:
        try:
            bootstrap, _ = stack.enter_context(tansu(cpu=None))
        except BrokerMissing as exc:
            unavailable(str(exc))
        yield bootstrap


class PrivateRabbitMQ:
    """A RabbitMQ node of the test's own (data in a temp dir, its own port), to stop and start.

    Restarting the machine's broker would cut every other test's connections; this node is
    only this test's. It needs the `rabbitmq-server` package (the machine's broker has it).
    """

    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = free_port()
        self.name = f"mockft{uuid.uuid4().hex[:8]}@localhost"
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}/"
        base.mkdir(parents=True, exist_ok=True)
        (base / "enabled_plugins").write_text("[].\n")
        (base / "rabbitmq.conf").write_text(f"listeners.tcp.1 = 127.0.0.1:{self.port}\n")
        shutil.chown(base, "rabbitmq", "rabbitmq")  # the server drops to the rabbitmq user
        for child in base.iterdir():
            shutil.chown(child, "rabbitmq", "rabbitmq")
        self._env = {
            **os.environ,
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq.conf"),
            "RABBITMQ_DIST_PORT": str(free_port()),
            "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(base / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(base / "pid"),
            "RABBITMQ_FEATURE_FLAGS_FILE": str(base / "feature_flags"),
            "RABBITMQ_QUORUM_DIR": str(base / "quorum"),
            "RABBITMQ_STREAM_DIR": str(base / "stream"),
        }
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            ["rabbitmq-server"],  # noqa: S607 - the package's script, found on PATH
            env=self._env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # Up when it listens; failed when it exits first. The Erlang VM's boot takes 5-10 s on
        # a quiet machine and took 27-158 s under a 2-core CPU hog (8 boots measured), past the
        # hang guard: only the test's own timeout (pytest-timeout, with its stack dump) bounds it.
        process = self._process
        wait_until(
            lambda: process.poll() is not None or reachable("127.0.0.1", self.port, 0.2),
            f"a private RabbitMQ node listening on port {self.port} or exiting",
            timeout=math.inf,
        )
        if process.poll() is not None:
            log = "".join(_tail(path) for path in sorted((self.base / "log").glob("*.log")))
            self._process = None
            unavailable(
                f"a private RabbitMQ node exited with {process.returncode} before listening on "
                f"port {self.port}; its log ends:\n{log}"
            )

    def stop_app(self) -> None:
        """The broker goes away as in a restart: it closes every connection and its listener,
        and keeps its data (`rabbitmqctl stop_app`). The Erlang VM stays up: booting it again
        under a CPU hog took 27-158 s (measured, whatever its nice or scheduler count), stopping
        and starting the application 1-11 s."""
        self._ctl("stop_app")
        wait_until(lambda: not reachable("127.0.0.1", self.port, 0.2), "the listener closed")

    def start_app(self) -> None:
        """The broker is back (`rabbitmqctl start_app`), listening on its port."""
        self._ctl("start_app")
        wait_until(lambda: reachable("127.0.0.1", self.port, 0.2), "the listener back")

    def _ctl(self, command: str) -> None:
        subprocess.run(
            ["rabbitmqctl", "-n", self.name, command],  # noqa: S607
            env=self._env,
            capture_output=True,
            timeout=HANG_GUARD,
            check=True,
        )

    def stop(self) -> None:
        """Stop the node the way an operator restarting the broker would (rabbitmqctl stop)."""
        subprocess.run(
            ["rabbitmqctl", "-n", self.name, "stop"],  # noqa: S607
            env=self._env,
            capture_output=True,
            timeout=60,
            check=False,
        )
        if self._process is not None:
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None


def _tail(path: Path, lines: int = 20) -> str:
    return "".join(path.read_text(errors="replace").splitlines(keepends=True)[-lines:])


@contextmanager
def private_rabbitmq() -> Iterator[PrivateRabbitMQ]:
    if shutil.which("rabbitmq-server") is None or shutil.which("rabbitmqctl") is None:
        unavailable("rabbitmq-server is not installed (needed for a private, restartable node)")
    # Not under pytest's tmp_path: that is private to root, and the node runs as `rabbitmq`.
    base = Path(tempfile.mkdtemp(prefix="mock-ft-rabbitmq-"))
    base.chmod(0o755)
    node = PrivateRabbitMQ(base / "node")
    try:
        node.start()
        yield node
    finally:
        node.stop()
        shutil.rmtree(base, ignore_errors=True)
