"""The control API answers only Hosts that name the mock and no state change a web page on
another site could send; /ui, /docs and the API carry the browser security headers."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from mock_ft.crm import create_app
from mock_ft.crm.web_guard import WebGuard
from mock_ft.settings import Settings
from tests.conftest import JSON_HEADERS, KEY_HEADERS
from tests.ft_events import ft_event

LOCAL = "http://127.0.0.1:8765"


@pytest.fixture(scope="module")
def app_client() -> Iterator[TestClient]:
    """One mock for the module, with the defaults (loopback bind, no token, no extra host)."""
    with TestClient(create_app(Settings(journal=":memory:")), base_url=LOCAL) as client:
        yield client


@pytest.fixture
def client(app_client: TestClient) -> TestClient:
    """The module's mock holding one event."""
    app_client.post("/_mock/reset", headers=JSON_HEADERS).raise_for_status()
    path, payload = ft_event("LOGIN_V2")
    app_client.post(path, json=payload, headers=KEY_HEADERS).raise_for_status()
    return app_client


def _count(client: TestClient) -> int:
    return int(client.get("/_mock/events").json()["count"])


def test_refuse_foreign_host(client: TestClient) -> None:
    """DNS rebinding: a page whose name now points here still sends its own Host."""
    response = client.post("http://attacker.example:8765/_mock/reset", headers=JSON_HEADERS)
    assert response.status_code == 400
    assert response.json()["error"] == "host_not_allowed"
    assert response.json()["problems"][0]["path"] == "header.Host"
    assert "MOCK_FT_ALLOWED_HOSTS" in response.json()["message"]
    assert _count(client) == 1


def test_refuse_foreign_host_on_reads(client: TestClient) -> None:
    """A rebound page must not read the journal either (nor the dashboard, nor /docs)."""
    for path in ("/_mock/events", "/ui", "/docs", "/openapi.json"):
        assert client.get(f"http://attacker.example{path}").status_code == 400


@pytest.mark.parametrize("host", ["", "mock:port", "a b", "user@127.0.0.1"])
def test_refuse_malformed_host(client: TestClient, host: str) -> None:
    response = client.get("/_mock/events", headers={"Host": host})
    assert response.status_code == 400
    assert response.json()["error"] == "host_not_allowed"


@pytest.mark.parametrize(
    "host", ["localhost:8765", "127.0.0.1", "127.0.0.2:8765", "[::1]:8765", "LOCALHOST"]
)
def test_answer_loopback_hosts(app_client: TestClient, host: str) -> None:
    assert app_client.get("/_mock/health", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("host", ["mock:8765", "attacker.example", "10.0.0.7:8765"])
def test_ingest_answers_any_host(client: TestClient, host: str) -> None:
    """Operator platforms call FT's paths by any name (`mock:8765` in compose); the API key and
    the JSON-only body keep browsers out of them, not the Host."""
    path, payload = ft_event("LOGIN_V2")
    headers = {**KEY_HEADERS, "Host": host}
    assert client.post(path, json=payload, headers=headers).status_code == 200


def test_answer_allowed_host() -> None:
    settings = Settings(journal=":memory:", allowed_hosts=["mock"])
    with TestClient(create_app(settings), base_url="http://mock:8765") as client:
        assert client.get("/_mock/events").status_code == 200
        assert client.get("http://other:8765/_mock/events").status_code == 400


def test_answer_bound_address() -> None:
    settings = Settings(journal=":memory:", host="192.0.2.10", control_token="k" * 16)
    with TestClient(create_app(settings), base_url="http://192.0.2.10:8765") as client:
        assert client.get("/_mock/health").status_code == 200


def test_answer_any_host_when_configured() -> None:
    settings = Settings(journal=":memory:", allowed_hosts=["*"], control_token="k" * 16)
    with TestClient(create_app(settings), base_url="http://anything.example") as client:
        assert client.get("/_mock/health").status_code == 200


def test_refuse_cross_site_simple_post(client: TestClient) -> None:
    """The reported attack: a text/plain POST from another site emptied the journal."""
    headers = {"Origin": "http://evil.example", "Content-Type": "text/plain"}
    response = client.post("/_mock/reset", headers=headers, content=b"x")
    assert response.status_code == 403
    assert response.json()["error"] == "cross_site_request"
    assert response.json()["problems"][0]["path"] == "header.Origin"
    assert _count(client) == 1


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_refuse_state_change_marked_cross_site(client: TestClient, site: str) -> None:
    headers = {**JSON_HEADERS, "Sec-Fetch-Site": site}
    response = client.post("/_mock/reset", headers=headers)
    assert response.status_code == 403
    assert response.json()["problems"][0]["path"] == "header.Sec-Fetch-Site"
    assert _count(client) == 1


@pytest.mark.parametrize("origin", ["http://127.0.0.1:9999", "null", "http://127.0.0.1.evil"])
def test_refuse_state_change_from_other_origin(client: TestClient, origin: str) -> None:
    response = client.delete("/_mock/faults", headers={**JSON_HEADERS, "Origin": origin})
    assert response.status_code == 403


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/_mock/reset"), ("DELETE", "/_mock/callbacks/rules")]
)
def test_refuse_state_change_without_json(
    client: TestClient, method: str, path: str, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.request(method, path, headers=headers)
    assert response.status_code == 415
    assert response.json()["problems"][0]["path"] == "header.Content-Type"
    assert _count(client) == 1


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_leave_unrouted_method_to_router(client: TestClient, method: str) -> None:
    """No /_mock/ route takes PUT or PATCH: 405 with Allow, not a word about JSON."""
    response = client.request(method, "/_mock/reset")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


def test_accept_same_origin_json_change(client: TestClient) -> None:
    """What the dashboard sends: JSON, from its own origin."""
    headers = {**JSON_HEADERS, "Origin": LOCAL, "Sec-Fetch-Site": "same-origin"}
    assert client.post("/_mock/reset", headers=headers).json() == {"removed": 1}


def test_accept_json_change_with_charset(client: TestClient) -> None:
    headers = {"Content-Type": "Application/JSON; charset=utf-8"}
    assert client.post("/_mock/reset", headers=headers).status_code == 200


@pytest.mark.parametrize("path", ["/ui", "/_mock/events", "/docs", "/openapi.json"])
def test_send_security_headers(client: TestClient, path: str) -> None:
    headers = client.get(path).headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


def test_send_security_headers_with_refusal(client: TestClient) -> None:
    headers = client.get("http://attacker.example/ui").headers
    assert headers["x-content-type-options"] == "nosniff"


def test_allow_only_own_scripts_on_dashboard(client: TestClient) -> None:
    csp = client.get("/ui").headers["content-security-policy"]
    assert "script-src 'self';" in csp
    assert "unsafe" not in csp


def test_allow_docs_inline_script_by_hash(client: TestClient) -> None:
    """/docs starts Swagger UI with an inline script: allowed by its hash, no other."""
    response = client.get("/docs")
    scripts = re.findall(r"<script>(.*?)</script>", response.text, re.S)
    assert scripts
    csp = response.headers["content-security-policy"]
    for script in scripts:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0]
    assert int(response.headers["content-length"]) == len(response.content)


def test_refuse_bind_all_address_as_host() -> None:
    """0.0.0.0 names no host: a bind-all mock answers loopback names and the listed ones."""
    settings = Settings(journal=":memory:", host="0.0.0.0", control_token="k" * 16)  # noqa: S104
    with TestClient(create_app(settings), base_url="http://0.0.0.0:8765") as client:
        assert client.get("/_mock/health").status_code == 400
        assert client.get("http://localhost:8765/_mock/health").status_code == 200


def test_hash_docs_script_sent_in_chunks() -> None:
    """A docs page that arrives in pieces is hashed whole, its length set once."""
    page = [b"<html><script>start()", b";</script></html>"]

    async def docs(request: Request) -> StreamingResponse:
        return StreamingResponse(iter(page), media_type="text/html")

    guarded = WebGuard(Starlette(routes=[Route("/docs", docs)]), Settings(), routes=[])
    with TestClient(guarded, base_url=LOCAL) as client:
        response = client.get("/docs")
    digest = base64.b64encode(hashlib.sha256(b"start();").digest()).decode()
    assert f"'sha256-{digest}'" in response.headers["content-security-policy"]
    assert response.headers["content-length"] == str(len(b"".join(page)))
