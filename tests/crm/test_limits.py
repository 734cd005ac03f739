"""Request limits on a real `mock-ft serve` socket: header sizes (431), control-API bodies (413),
requests that arrive too slowly (408), each with an FT-style JSON body (issue 20, item 6)."""

from __future__ import annotations

import contextlib
import json
import selectors
import socket
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests import web
from tests.conftest import KEY_HEADERS
from tests.serve_process import serve_process

pytestmark = pytest.mark.slow
READ_TIMEOUT = 2  # seconds; short, so the slow-client tests are quick
CONTROL_LIMIT = 100_000
LIMITS = {
    "MOCK_FT_READ_TIMEOUT_SECONDS": str(READ_TIMEOUT),
    "MOCK_FT_MAX_CONTROL_BODY_BYTES": str(CONTROL_LIMIT),
    "MOCK_FT_MAX_HEADER_BYTES": "32768",
    "MOCK_FT_MAX_HEADER_FIELD_BYTES": "8192",
}
PAYMENT_HEAD = (
    b"POST /v1/integration/payment HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Content-Type: application/json\r\n"
    b"X-API-Key: " + KEY_HEADERS["X-API-Key"].encode() + b"\r\n"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    journal = tmp_path_factory.mktemp("limits") / "journal.sqlite3"
    with serve_process("--journal", str(journal), env=LIMITS) as (url, _):
        yield url


def _connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    return socket.create_connection((parts.hostname or "", parts.port or 0), timeout=30)


def _answer(sock: socket.socket) -> tuple[int, dict[str, Any]]:
    """Read until the server closes: (status, JSON body)."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def _send_all(sock: socket.socket, data: bytes) -> None:
    """Send what the server takes before it closes (it stops reading at a limit)."""
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        sock.sendall(data)


def _journaled(url: str) -> int:
    total: int = web.get(f"{url}/_mock/stats").json()["total"]
    return total


def test_refuse_oversized_header_with_431(server: str) -> None:
    """One header beyond the per-header limit is 431 naming it."""
    response = web.get(f"{server}/_mock/health", headers={"X-Big": "a" * 9000})
    assert response.status_code == 431
    body = response.json()
    assert body["error"] == "headers_too_large"
    assert [p["path"] for p in body["problems"]] == ["header.X-Big"]
    assert "MOCK_FT_MAX_HEADER_FIELD_BYTES" in body["message"]


def test_refuse_headers_beyond_total_size_with_431(server: str) -> None:
    """Headers within the per-header limit but beyond the total are 431 for all of them."""
    headers = {f"X-Part-{n}": "b" * 4000 for n in range(10)}
    response = web.get(f"{server}/_mock/health", headers=headers)
    assert response.status_code == 431
    assert [p["path"] for p in response.json()["problems"]] == ["header"]


def test_stop_reading_a_huge_header_at_the_limit(server: str) -> None:
    """A 5 MB header is answered 431 at the limit; the server does not read it all."""
    before = _journaled(server)
    with _connect(server) as sock:
        _send_all(sock, PAYMENT_HEAD + b"X-Huge: " + b"c" * 5_000_000 + b"\r\n\r\n{}")
        status, body = _answer(sock)
    assert (status, body["error"]) == (431, "headers_too_large")
    assert _journaled(server) == before


def test_refuse_oversized_control_body_with_413(server: str) -> None:
    """A control-API body beyond its limit is 413, however it is framed."""
    document = {"passed": True, "blob": "d" * CONTROL_LIMIT}
    sized = web.post(f"{server}/_mock/runs", json={"kind": "verify", "document": document})
    assert sized.status_code == 413
    assert sized.json()["error"] == "body_too_large"
    payload = json.dumps({"kind": "verify", "document": document}).encode()
    chunks = (payload[i : i + 10_000] for i in range(0, len(payload), 10_000))
    chunked = web.post(
        f"{server}/_mock/runs", content=chunks, headers={"Content-Type": "application/json"}
    )
    assert chunked.status_code == 413
    assert web.get(f"{server}/_mock/runs").json()["data"] == []


def test_accept_control_body_within_limit(server: str) -> None:
    """A body under the limit reaches the control API as before."""
    document = {"passed": True, "blob": "e" * 1000}
    response = web.post(f"{server}/_mock/runs", json={"kind": "replay", "document": document})
    assert response.status_code == 201, response.text


def test_answer_408_to_a_body_that_stops_arriving(server: str) -> None:
    """A body announced but not sent whole is 408 after the read timeout, and not journaled."""
    before = _journaled(server)
    with _connect(server) as sock:
        sock.sendall(PAYMENT_HEAD + b"Content-Length: 100\r\n\r\n" + b'{"user_id": ')
        status, body = _answer(sock)
    assert (status, body["error"]) == (408, "request_timeout")
    assert "MOCK_FT_READ_TIMEOUT_SECONDS" in body["message"]
    assert _journaled(server) == before


def test_close_a_connection_that_sends_nothing(server: str) -> None:
    """A connection that never sends a byte is closed after the read timeout."""
    with _connect(server) as sock:
        status, body = _answer(sock)
    assert (status, body["error"]) == (408, "request_timeout")


def test_close_300_slow_connections(server: str) -> None:
    """300 clients sending partial bodies are all answered 408 and closed."""
    socks = [_connect(server) for _ in range(300)]
    try:
        for sock in socks:
            sock.sendall(PAYMENT_HEAD + b"Content-Length: 500\r\n\r\n{")
            sock.setblocking(False)
        selector = selectors.DefaultSelector()
        for sock in socks:
            selector.register(sock, selectors.EVENT_READ, b"")
        open_socks = set(socks)
        deadline = time.monotonic() + 60  # hang guard only
        while open_socks and time.monotonic() < deadline:
            for key, _ in selector.select(timeout=1):
                ready = key.fileobj
                assert isinstance(ready, socket.socket)
                chunk = ready.recv(65536)
                if chunk:
                    selector.modify(ready, selectors.EVENT_READ, key.data + chunk)
                else:
                    assert key.data.startswith(b"HTTP/1.1 408 "), key.data[:40]
                    selector.unregister(ready)
                    open_socks.discard(ready)
        assert not open_socks
    finally:
        for sock in socks:
            sock.close()
    assert web.get(f"{server}/_mock/health").status_code == 200


def test_answer_malformed_http_with_json_400(server: str) -> None:
    """Bytes that are not HTTP/1.1 get an FT-style 400 rather than a plain-text one."""
    with _connect(server) as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        status, body = _answer(sock)
    assert (status, body["error"]) == (400, "malformed_request")


def test_keep_serving_pipelined_requests(server: str) -> None:
    """Many requests in one write are each answered; their headers are counted per request."""
    request = (
        b"GET /_mock/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + b"p" * 1000 + b"\r\n\r\n"
    )
    with _connect(server) as sock:
        sock.sendall(
            request * 40
            + b"GET /_mock/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    assert data.count(b"HTTP/1.1 200 OK") == 41
