"""The REST ingest API in-process: FT paths, verdicts, documented errors, journaling."""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import Any

import pytest
import uvloop
from fastapi.testclient import TestClient

from mock_ft.contracts import EventRoute, integration_contract
from mock_ft.crm import create_app
from mock_ft.crm.connection import client_gone, drop_connection
from mock_ft.samples import ft_timestamp, sample_events
from mock_ft.settings import Settings
from tests.conftest import KEY_HEADERS

SAMPLES = sample_events()
PAYMENT = next(p for r, p in SAMPLES if r.event_type == "PAYMENT")


def _journal(client: TestClient) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = client.get("/_mock/events", params={"limit": 1000}).json()["data"]
    return data


@pytest.mark.parametrize(("route", "payload"), SAMPLES, ids=[r.event_type for r, _ in SAMPLES])
def test_accept_valid_sample_on_its_ft_path(
    client: TestClient, route: EventRoute, payload: dict[str, Any]
) -> None:
    """A valid event of each type answers 200 with its journal id."""
    response = client.request(route.method, route.path, json=payload, headers=KEY_HEADERS)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "accepted"
    [entry] = _journal(client)
    assert (entry["id"], entry["event_type"], entry["payload"]) == (
        body["event_id"],
        route.event_type,
        payload,
    )


def test_reject_invalid_event_with_paths(client: TestClient) -> None:
    """An invalid event answers 400 listing each problem with its JSON path, and is journaled."""
    bad = {**PAYMENT, "status": "approved", "amount": -1}
    del bad["currency"]
    response = client.post("/v1/integration/payment", json=bad, headers=KEY_HEADERS)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "validation_failed"
    assert [(p["path"], p["code"]) for p in body["problems"]] == [
        ("$.amount", "minimum"),
        ("$.currency", "required"),
        ("$.status", "enum"),
    ]
    [entry] = _journal(client)
    assert (entry["verdict"], entry["status_code"], entry["id"]) == (
        "rejected",
        400,
        body["event_id"],
    )
    assert entry["payload"] == bad


@pytest.mark.parametrize(
    ("content", "content_type", "status", "error"),
    [
        (b"", "application/json", 400, "empty_body"),
        (b"   \n", "application/json", 400, "empty_body"),
        (b'{"user_id": ', "application/json", 400, "malformed_json"),
        (b"\xff\xfe{}", "application/json", 400, "invalid_encoding"),
        (b"{}", "text/plain", 415, "unsupported_media_type"),
        (b"{}", "", 415, "unsupported_media_type"),
        (b"user_id=1", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    ],
)
def test_reject_bad_body_with_its_own_error(
    client: TestClient, content: bytes, content_type: str, status: int, error: str
) -> None:
    """Empty, malformed, non-UTF-8 and non-JSON bodies each get their own documented 4xx."""
    headers = {**KEY_HEADERS, "Content-Type": content_type} if content_type else KEY_HEADERS
    response = client.post("/v2/integration/login", content=content, headers=headers)
    assert (response.status_code, response.json()["error"]) == (status, error)
    assert response.json()["message"]
    [entry] = _journal(client)
    assert entry["error_code"] == error


def test_accept_json_content_type_with_charset(client: TestClient) -> None:
    """application/json; charset=utf-8 is JSON."""
    login = next(p for r, p in SAMPLES if r.event_type == "LOGIN_V2")
    headers = {**KEY_HEADERS, "Content-Type": "application/json; charset=utf-8"}
    response = client.post("/v2/integration/login", json=login, headers=headers)
    assert response.status_code == 200


def test_reject_malformed_json_with_position(client: TestClient) -> None:
    """Malformed JSON says where it broke."""
    headers = {**KEY_HEADERS, "Content-Type": "application/json"}
    response = client.post("/v2/integration/login", content=b'{"a": 1,}', headers=headers)
    assert "line 1 column 9" in response.json()["message"]


def test_reject_oversized_body() -> None:
    """A body over the configured limit answers 413, by Content-Length or while streaming."""
    app = create_app(Settings(journal=":memory:", allowed_hosts=["testserver"], max_body_bytes=100))
    with TestClient(app) as client:
        big = {**PAYMENT, "note": "x" * 200}
        response = client.post("/v1/integration/payment", json=big, headers=KEY_HEADERS)
        assert (response.status_code, response.json()["error"]) == (413, "body_too_large")
        announced = _journal(client)[0]["payload"]
        assert announced == big  # under 64 KiB, so the whole refused body is kept for forensics

        def chunks() -> Any:
            yield b'{"note": "'
            yield b"y" * 150
            yield b'"}'

        headers = {**KEY_HEADERS, "Content-Type": "application/json"}
        streamed = client.post("/v1/integration/payment", content=chunks(), headers=headers)
        assert streamed.status_code == 413
        entries = _journal(client)
        assert [e["error_code"] for e in entries] == ["body_too_large", "body_too_large"]
        assert entries[1]["payload"] == {"note": "y" * 150}  # kept for forensics


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "wrong"}, {"X-Api-Key": ""}])
def test_reject_missing_or_wrong_key(client: TestClient, headers: dict[str, str]) -> None:
    """No key or a wrong key answers 401 naming the header, and the attempt is journaled."""
    response = client.post("/v1/integration/payment", json=PAYMENT, headers=headers)
    assert response.status_code == 401
    assert "X-API-Key" in response.json()["message"]
    [entry] = _journal(client)
    assert entry["error_code"] == "unauthorized"


def test_accept_custom_key_header() -> None:
    """Header name and key are configurable."""
    custom = Settings(
        journal=":memory:",
        allowed_hosts=["testserver"],
        api_key_header="X-FT-Key",
        api_key="s3cret",
    )
    with TestClient(create_app(custom)) as client:
        ok = client.post("/v1/integration/payment", json=PAYMENT, headers={"X-FT-Key": "s3cret"})
        assert ok.status_code == 200
        default = client.post("/v1/integration/payment", json=PAYMENT, headers=KEY_HEADERS)
        assert default.status_code == 401


def test_accept_without_key_when_auth_off() -> None:
    """Auth can be switched off for local play."""
    with TestClient(
        create_app(Settings(journal=":memory:", allowed_hosts=["testserver"], auth_enabled=False))
    ) as client:
        assert client.post("/v1/integration/payment", json=PAYMENT).status_code == 200


def test_mask_secrets_in_journaled_headers(client: TestClient) -> None:
    """The API key, Authorization and cookies never reach the journal."""
    headers = {**KEY_HEADERS, "Authorization": "Bearer abc", "Cookie": "sid=1", "X-Trace": "t-1"}
    client.post("/v1/integration/payment", json=PAYMENT, headers=headers)
    [entry] = _journal(client)
    journaled = entry["headers"]
    assert journaled["x-api-key"] == journaled["authorization"] == journaled["cookie"] == "***"
    assert journaled["x-trace"] == "t-1"
    assert "mock-ft-local-key" not in str(entry)


def test_mask_secrets_on_every_request(client: TestClient) -> None:
    """Masking holds for repeated header names (cached decisions) and past the cache's bound."""
    many = {f"X-Filler-{i}": "v" for i in range(1_100)}
    client.post("/v1/integration/payment", json=PAYMENT, headers={**KEY_HEADERS, **many})
    late = {**KEY_HEADERS, **many, "X-Late-Token": "tok-1", "X-Late-Plain": "p"}
    client.post("/v1/integration/payment", json=PAYMENT, headers=late)
    first, second = _journal(client)
    assert first["headers"]["x-api-key"] == second["headers"]["x-api-key"] == "***"
    assert second["headers"]["x-late-token"] == "***"
    assert second["headers"]["x-late-plain"] == "p"


def test_reject_unknown_path_with_suggestion(client: TestClient) -> None:
    """An unknown integration path answers 404 and suggests the nearest real one."""
    response = client.post("/v1/integration/payments", json=PAYMENT, headers=KEY_HEADERS)
    assert response.status_code == 404
    assert response.json()["error"] == "unknown_endpoint"
    assert "did you mean /v1/integration/payment?" in response.json()["message"]


def test_reject_wrong_method_with_allow(client: TestClient) -> None:
    """A wrong method on a known path answers 405 with Allow."""
    response = client.get("/v2/integration/user", headers=KEY_HEADERS)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST, PUT"


def test_route_put_and_post_on_same_path_to_different_types(client: TestClient) -> None:
    """POST /v2/integration/user is a registration, PUT is an update."""
    event = {"user_id": "u1", "timestamp": "2026-11-21T10:00:00Z", "origin": "o"}
    client.post("/v2/integration/user", json=event, headers=KEY_HEADERS)
    client.put("/v2/integration/user", json=event, headers=KEY_HEADERS)
    assert [e["event_type"] for e in _journal(client)] == ["USER_CREATE_V2", "USER_UPDATE_V2"]


def test_pass_other_paths_to_control_api(client: TestClient) -> None:
    """Paths outside the Integration API reach FastAPI (docs, control)."""
    assert client.get("/docs").status_code == 200
    assert client.get("/nope").status_code == 404


def test_record_delivery_latency(client: TestClient) -> None:
    """latency_ms is receive time minus the event's timestamp."""
    payment = {**PAYMENT, "timestamp": ft_timestamp()}  # now, not when the module was collected
    client.post("/v1/integration/payment", json=payment, headers=KEY_HEADERS)
    [entry] = _journal(client)
    assert entry["event_timestamp"] == payment["timestamp"]
    assert 0 <= entry["latency_ms"] < 60_000


def test_serve_every_contract_route(client: TestClient) -> None:
    """Each contract operation is routed (no 404/405 for its method and path)."""
    for route in integration_contract().routes:
        response = client.request(route.method, route.path, json={}, headers=KEY_HEADERS)
        assert response.status_code in (200, 400), route.path


def test_keep_only_64k_of_announced_oversized_body() -> None:
    """A refused body announced by Content-Length is read only as far as the journal keeps it."""
    with TestClient(
        create_app(
            Settings(journal=":memory:", allowed_hosts=["testserver"], max_body_bytes=70_000)
        )
    ) as client:
        headers = {**KEY_HEADERS, "Content-Type": "application/json"}
        response = client.post("/v1/integration/payment", content=b"z" * 100_000, headers=headers)
        assert response.status_code == 413
        [entry] = _journal(client)
        assert entry["payload"] == "z" * 65_536


class _Cycle:
    """The part of uvicorn's request cycle `client_gone` reads, around a real socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.disconnected = False
        self.transport = self
        self._sock = sock

    def is_closing(self) -> bool:
        return False

    def get_extra_info(self, name: str) -> socket.socket:
        return self._sock

    async def send(self, message: Any) -> None:
        """Stands for uvicorn's send."""


def test_tellclient_gone_from_its_socket() -> None:
    """A client still connected (even mid-request) is there; one that hung up is gone."""
    ours, theirs = socket.socketpair()
    with ours, theirs:
        cycle = _Cycle(ours)
        assert client_gone(cycle.send) is False
        theirs.sendall(b"GET")  # a pipelined request: still there
        assert client_gone(cycle.send) is False
        ours.recv(3)
        theirs.close()
        assert client_gone(cycle.send) is True
        cycle.disconnected = True
        assert client_gone(cycle.send) is True


class _Server(asyncio.Protocol):
    """A real server connection; `gone` is set once its client's RST has closed the transport."""

    def __init__(self) -> None:
        self.transport: asyncio.BaseTransport | None = None
        self.gone = asyncio.Event()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.gone.set()

    async def send(self, message: Any) -> None:
        """Stands for uvicorn's send, whose `__self__` holds the transport."""


async def _drop_after_client_left(reset: bool) -> None:
    connection = _Server()
    server = await asyncio.get_running_loop().create_server(lambda: connection, "127.0.0.1", 0)
    async with server:
        client = socket.create_connection(server.sockets[0].getsockname())
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()  # an RST: the operator's own timeout fired first
        await connection.gone.wait()

        async def receive() -> dict[str, Any]:
            return {"type": "http.disconnect"}

        await drop_connection(connection.send, receive, reset=reset)


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
@pytest.mark.parametrize("reset", [True, False], ids=["reset", "close"])
def test_drop_connection_of_client_already_gone(loop: str, reset: bool) -> None:
    """A reset or close fault meets a client that left first: nothing to drop, nothing raised
    (uvicorn's uvloop transport raised ValueError, and the mock logged a 500 traceback)."""
    factory = uvloop.new_event_loop if loop == "uvloop" else asyncio.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(_drop_after_client_left(reset))
