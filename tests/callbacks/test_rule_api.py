"""Loading callback rules: /_mock/callbacks/rules and `serve --callbacks`."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from mock_ft.crm import create_app
from mock_ft.settings import Settings
from tests.conftest import JSON_HEADERS
from tests.serve_process import run_cli

RULE = {
    "id": "r1",
    "trigger": {"event": "PAYMENT"},
    "request": {"url": "http://127.0.0.1:9/cb", "body": {"a": "{action_field:b}"}},
}


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
