"""`local_stack`'s reference operator serves the port the stack chose, whatever else runs."""

from __future__ import annotations

import contextlib
import errno
import socket
import subprocess

import pytest

from mock_ft.crm.runner import bind_socket
from mock_ft.scenarios import stack
from tests import web

pytestmark = pytest.mark.slow


def test_keep_operator_port_from_a_server_started_meanwhile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another server that tries the operator's port between its choice and the operator's
    start finds it taken: the operator is the one answering there. (When the stack closed the
    port for the child to bind again, a server of a parallel test took it, and the demo ran
    against that stranger.)"""
    chosen: list[int] = []
    refused: list[int | None] = []
    real_start = stack._start

    def bind(host: str, port: int) -> socket.socket:
        sock = bind_socket(host, port)
        chosen.append(sock.getsockname()[1])
        return sock

    def start(*args: object) -> subprocess.Popen[bytes]:
        intruder = exits.enter_context(socket.socket())  # held to the end, as a server would
        try:
            intruder.bind(("127.0.0.1", chosen[-1]))
            intruder.listen()
        except OSError as exc:
            refused.append(exc.errno)
        return real_start(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(stack, "bind_socket", bind)
    monkeypatch.setattr(stack, "_start", start)
    with (
        contextlib.ExitStack() as exits,
        stack.local_stack(rabbitmq_url="", kafka_bootstrap=None) as target,
    ):
        title = web.get(f"{target.operator_url}/openapi.json").json()["info"]["title"]
    assert target.operator_url == f"http://127.0.0.1:{chosen[-1]}"
    assert refused == [errno.EADDRINUSE]
    assert "operator" in title.lower()
