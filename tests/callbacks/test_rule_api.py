"""Loading callback rules: /_mock/callbacks/rules and `serve --callbacks`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mock_ft.crm import create_app
from mock_ft.settings import Settings
from tests.conftest import JSON_HEADERS
from tests.serve_process import run_cli

RECEIVER = "http://127.0.0.1:9"  # allowed below; never called here
RULE = {
    "id": "r1",
    "trigger": {"event": "PAYMENT"},
    "request": {"url": "http://127.0.0.1:9/cb", "body": {"a": "{action_field:b}"}},
}


@pytest.fixture
def settings() -> Settings:
    return Settings(
        journal=":memory:", allowed_hosts=["testserver"], callback_allowed_origins=[RECEIVER]
    )


def test_refuse_rule_with_bad_template(client: TestClient) -> None:
    """422 `invalid_rule` lists the placeholder's path and what is wrong."""
    response = client.post("/_mock/callbacks/rules", json=RULE)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_rule"
    assert [(p["path"], p["code"]) for p in body["problems"]] == [
        ("$.request.body.a", "unknown_placeholder")
    ]
    assert client.get("/_mock/callbacks/rules").json()["data"] == []


def test_refuse_rule_with_misspelt_key(client: TestClient) -> None:
    """A key the rule format lacks is a 422 naming its path."""
    response = client.post("/_mock/callbacks/rules", json={**RULE, "retry": 2})
    assert response.status_code == 422
    assert response.json()["problems"][0]["path"] == "$.body.retry"


def test_replace_rule_with_same_id(client: TestClient) -> None:
    """Posting a rule with a loaded id replaces it; DELETE removes one or all."""
    rule = {**RULE, "request": {"url": "http://127.0.0.1:9/cb"}}
    assert client.post("/_mock/callbacks/rules", json=rule).status_code == 201
    assert client.post("/_mock/callbacks/rules", json={**rule, "retries": 0}).status_code == 201
    [loaded] = client.get("/_mock/callbacks/rules").json()["data"]
    assert loaded["retries"] == 0
    assert client.delete("/_mock/callbacks/rules/nope", headers=JSON_HEADERS).status_code == 404
    assert client.delete("/_mock/callbacks/rules/r1", headers=JSON_HEADERS).json() == {"removed": 1}
    client.post("/_mock/callbacks/rules", json=rule)
    assert client.delete("/_mock/callbacks/rules", headers=JSON_HEADERS).json() == {"removed": 1}


def test_refuse_set_without_operator_url(client: TestClient) -> None:
    """The ready-made sets call the operator: without its URL the set is refused, saying so."""
    response = client.post("/_mock/callbacks/sets/cancel-bonus", headers=JSON_HEADERS)
    assert response.status_code == 422
    assert "MOCK_FT_OPERATOR_URL" in response.json()["message"]


def test_refuse_unknown_set(client: TestClient) -> None:
    """An unknown set name is a 404 listing the sets."""
    response = client.post("/_mock/callbacks/sets/cancel", headers=JSON_HEADERS)
    assert response.status_code == 404
    assert (
        "known: bonus-bot, cancel-bonus, loyalty-sync, refer-a-friend, all"
        in response.json()["message"]
    )


def test_load_every_set_with_operator_url() -> None:
    """With an operator URL the sets load, their URLs resolved."""
    settings = Settings(
        journal=":memory:", allowed_hosts=["testserver"], operator_url="http://op.test:8080"
    )
    with TestClient(create_app(settings)) as client:
        response = client.post("/_mock/callbacks/sets/all", headers=JSON_HEADERS)
        listed = client.get("/_mock/callbacks/rules").json()
    assert response.status_code == 201
    urls = {r["id"]: r["resolved_url"] for r in listed["data"]}
    assert urls["cancel-bonus-on-withdrawal"] == "http://op.test:8080/callbacks/bonus/cancel"
    assert len(urls) == 4


def test_load_rules_at_start() -> None:
    """`callback_rules` in the settings are loaded when the mock starts."""
    settings = Settings(
        journal=":memory:",
        allowed_hosts=["testserver"],
        operator_url="http://op.test",
        callback_rules=["loyalty-sync"],
    )
    with TestClient(create_app(settings)) as client:
        rules = client.get("/_mock/callbacks/rules").json()["data"]
    assert [r["id"] for r in rules] == ["loyalty-sync"]


def test_serve_refuses_bad_rule_file(tmp_path: Path) -> None:
    """`serve --callbacks FILE` with a bad template exits 2 naming file and placeholder."""
    path = tmp_path / "rules.yaml"
    path.write_text(
        "rules:\n  - id: x\n    trigger: {event: PAYMENT}\n"
        "    request: {url: 'http://x', body: {u: '#UserID#'}}\n"
    )
    result = run_cli(
        "serve", "--port", "0", "--journal", ":memory:", "--callbacks", str(path), timeout=30
    )
    assert result.returncode == 2
    assert "Invalid callback rule" in result.stderr
    assert "$.rules[0].request.body.u: #UserID#: unknown segmentation value" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_refuses_set_without_operator() -> None:
    """`serve --callbacks cancel-bonus` without --operator-url says what to add."""
    result = run_cli(
        "serve", "--port", "0", "--journal", ":memory:", "--callbacks", "cancel-bonus", timeout=30
    )
    assert result.returncode == 2
    assert "pass --operator-url" in result.stderr


@pytest.fixture(scope="module")
def operator_client() -> Iterator[TestClient]:
    """A mock whose operator is op.test:8080, nothing else allowed."""
    settings = Settings(
        journal=":memory:", allowed_hosts=["testserver"], operator_url="http://op.test:8080/api"
    )
    with TestClient(create_app(settings)) as client:
        yield client


def _rule_to(url: str) -> dict[str, Any]:
    return {"id": "to", "trigger": {"event": "PAYMENT"}, "request": {"url": url}}


@pytest.mark.parametrize(
    "url",
    [
        "http://evil.example/cb",
        "https://op.test:8080/cb",  # another scheme is another origin
        "http://op.test:8081/cb",
        "http://op.test.evil.example:8080/cb",
        "http://169.254.169.254/latest/meta-data",
    ],
)
def test_refuse_rule_calling_other_origin(operator_client: TestClient, url: str) -> None:
    """422 with the JSON path and the setting that would allow it; the key never goes there."""
    response = operator_client.post("/_mock/callbacks/rules", json=_rule_to(url))
    assert response.status_code == 422
    [problem] = response.json()["problems"]
    assert (problem["path"], problem["code"]) == ("$.request.url", "origin_not_allowed")
    assert "MOCK_FT_CALLBACK_ALLOWED_ORIGINS" in problem["message"]
    assert "http://op.test:8080" in problem["message"]


def test_refuse_rule_url_without_host(operator_client: TestClient) -> None:
    response = operator_client.post("/_mock/callbacks/rules", json=_rule_to("http://:8080/cb"))
    assert response.status_code == 422
    assert response.json()["problems"][0]["code"] == "invalid_url"


@pytest.mark.parametrize(
    "url",
    ["http://{event.user_id}/cb", "http://op.test:{event.amount}/cb", "http://#UserId#.op.test/"],
)
def test_refuse_placeholder_in_origin(operator_client: TestClient, url: str) -> None:
    """An event may not choose where the call goes."""
    response = operator_client.post("/_mock/callbacks/rules", json=_rule_to(url))
    assert response.status_code == 422
    assert response.json()["problems"][0]["code"] == "placeholder_in_origin"


@pytest.mark.parametrize(
    "url", ["{operator_url}/cb/{event.user_id}", "http://OP.test:8080/x", "http://op.test:8080"]
)
def test_accept_rule_calling_operator_origin(operator_client: TestClient, url: str) -> None:
    response = operator_client.post("/_mock/callbacks/rules", json=_rule_to(url))
    assert response.status_code == 201, response.text


def test_accept_rule_calling_allowed_origin(client: TestClient) -> None:
    response = client.post("/_mock/callbacks/rules", json=_rule_to(f"{RECEIVER}/hook"))
    assert response.status_code == 201, response.text


def test_serve_refuses_rule_calling_other_origin(tmp_path: Path) -> None:
    """`serve --callbacks FILE` exits 2 naming the rule's path and the setting."""
    path = tmp_path / "rules.yaml"
    path.write_text(
        "rules:\n  - id: x\n    trigger: {event: PAYMENT}\n"
        "    request: {url: 'http://evil.example/steal'}\n"
    )
    result = run_cli(
        "serve",
        "--port",
        "0",
        "--journal",
        ":memory:",
        "--operator-url",
        "http://127.0.0.1:9",
        "--callbacks",
        str(path),
        timeout=30,
    )
    assert result.returncode == 2
    assert "$.rules[0].request.url: http://evil.example is not an allowed" in result.stderr
    assert "MOCK_FT_CALLBACK_ALLOWED_ORIGINS" in result.stderr
    assert "Traceback" not in result.stderr
