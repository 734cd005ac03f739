"""The three auth schemes FT may use on the Operator API: right credentials in, others out."""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest

from tests.reference_operator.conftest import OperatorFactory, conforms

NOWHERE = "http://127.0.0.1:9"
PATH = "/bonus/list"


def _basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"X-Api-Key": "operator-local-key"}, 200),
        ({"X-Api-Key": "wrong"}, 401),
        ({}, 401),
        (_basic("fasttrack", "operator-local-secret"), 401),
    ],
)
def test_check_api_key(
    make_operator: OperatorFactory, headers: dict[str, str], status: int
) -> None:
    """`api_key`: only the configured X-Api-Key passes."""
    with make_operator(ft_url=NOWHERE, auth="api_key") as client:
        response = client.get(PATH, headers=headers)
    assert response.status_code == status
    if status == 401:
        assert set(response.json()) == {"error", "code"}


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        (_basic("fasttrack", "operator-local-secret"), 200),
        (_basic("fasttrack", "wrong"), 401),
        (_basic("someone", "operator-local-secret"), 401),
        ({"Authorization": "Basic !!!not-base64"}, 401),
        ({"X-Api-Key": "operator-local-key"}, 401),
    ],
)
def test_check_basic(make_operator: OperatorFactory, headers: dict[str, str], status: int) -> None:
    """`basic`: only the configured user and password pass."""
    with make_operator(ft_url=NOWHERE, auth="basic") as client:
        assert client.get(PATH, headers=headers).status_code == status


def test_issue_and_accept_tokens_both_ways(make_operator: OperatorFactory) -> None:
    """`oauth2`: tokens from POST (JSON) and GET (query) both work as Bearer tokens."""
    credentials = {
        "grant_type": "client_credentials",
        "client_id": "fasttrack",
        "client_secret": "operator-local-client-secret",
    }
    with make_operator(ft_url=NOWHERE, auth="oauth2") as client:
        posted = client.post("/oauth/token", json=credentials).json()
        fetched = client.get("/oauth/token", params=credentials).json()
        assert (posted["token_type"], posted["expires_in"]) == ("Bearer", 3600)
        for token in (posted["access_token"], fetched["access_token"]):
            assert client.get(PATH, headers={"Authorization": f"Bearer {token}"}).status_code == 200
        assert client.get(PATH, headers={"Authorization": "Bearer forged"}).status_code == 401
        assert client.get(PATH).status_code == 401


@pytest.mark.parametrize(
    ("change", "status"),
    [({"client_secret": "wrong"}, 401), ({"grant_type": "password"}, 400)],
)
def test_refuse_bad_client_credentials(
    make_operator: OperatorFactory, change: dict[str, str], status: int
) -> None:
    """Wrong secrets get 401, other grants 400, both in FT's error shape."""
    credentials = {
        "grant_type": "client_credentials",
        "client_id": "fasttrack",
        "client_secret": "operator-local-client-secret",
        **change,
    }
    with make_operator(ft_url=NOWHERE, auth="oauth2") as client:
        response = client.post("/oauth/token", json=credentials)
    assert response.status_code == status
    assert set(response.json()) == {"error", "code"}


def test_expire_tokens(make_operator: OperatorFactory) -> None:
    """A token stops working when its lifetime is over; FT must fetch a new one."""
    credentials = {
        "grant_type": "client_credentials",
        "client_id": "fasttrack",
        "client_secret": "operator-local-client-secret",
    }
    with make_operator(ft_url=NOWHERE, auth="oauth2", token_ttl_seconds=1) as client:
        token = client.post("/oauth/token", json=credentials).json()["access_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        assert client.get(PATH, headers=bearer).status_code == 200
        time.sleep(1.1)
        assert client.get(PATH, headers=bearer).status_code == 401


def test_defect_tokens_never_expire(make_operator: OperatorFactory) -> None:
    """`tokens_never_expire`: a token still works after its lifetime is over."""
    credentials = {
        "grant_type": "client_credentials",
        "client_id": "fasttrack",
        "client_secret": "operator-local-client-secret",
    }
    with make_operator(
        ft_url=NOWHERE, auth="oauth2", token_ttl_seconds=1, defects=["tokens_never_expire"]
    ) as client:
        token = client.post("/oauth/token", json=credentials).json()["access_token"]
        time.sleep(1.1)
        assert client.get(PATH, headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_defect_no_auth(make_operator: OperatorFactory) -> None:
    """`no_auth`: anything goes, credentials or not."""
    with make_operator(ft_url=NOWHERE, defects=["no_auth"]) as client:
        assert client.get(PATH).status_code == 200


def test_refuse_token_request_that_is_not_json(make_operator: OperatorFactory) -> None:
    """FT posts JSON (or uses GET); anything else is a clear 400."""
    with make_operator(ft_url=NOWHERE, auth="oauth2") as client:
        response = client.post("/oauth/token", content=b"grant_type=client_credentials")
    assert response.status_code == 400
    assert "JSON" in response.json()["error"]


def _credentials(client: Any, scheme: str) -> dict[str, str]:
    if scheme == "api_key":
        return {"X-Api-Key": "operator-local-key"}
    if scheme == "basic":
        return _basic("fasttrack", "operator-local-secret")
    token = client.get(
        "/oauth/token",
        params={
            "grant_type": "client_credentials",
            "client_id": "fasttrack",
            "client_secret": "operator-local-client-secret",
        },
    ).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("scheme", ["api_key", "basic", "oauth2"])
def test_answer_ft_shapes_under_each_scheme(make_operator: OperatorFactory, scheme: str) -> None:
    """Every lookup FT makes answers FT's exact shapes, whichever scheme protects it."""
    with make_operator(ft_url=NOWHERE, auth=scheme) as client:
        user = client.post("/platform/players").json()["user_id"]
        headers = _credentials(client, scheme)
        for path, component in [
            (f"/userdetails/{user}", "UserDetails"),
            (f"/userconsents/{user}", "UserConsents"),
            (f"/userblocks/{user}", "UserBlocks"),
            ("/bonus/list", "BonusList"),
        ]:
            response = client.get(path, headers=headers)
            assert response.status_code == 200, (path, response.text)
            assert conforms(component, response.json()) == [], path
            assert client.get(path).status_code == 401
