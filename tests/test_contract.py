"""The contract matches the facts file, and the running app matches the contract (drift tests)."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
import yaml
from fastapi.testclient import TestClient

from mock_ft.contracts import (
    contracts_dir,
    integration_contract,
    load_integration_contract,
    parse_contract_yaml,
)
from mock_ft.crm import create_app
from mock_ft.errors import ConfigError, ContractError
from mock_ft.settings import Settings
from tests.conftest import KEY_HEADERS

# Table 2.4 of shared/reference/fast-track-interfaces.md, copied by hand as an independent
# source: (method, path, type, schema-required fields). A contract edit that drifts fails here.
FACTS_TABLE_2_4 = [
    ("POST", "/v2/integration/user", "USER_CREATE_V2", "user_id timestamp origin"),
    ("POST", "/v2/integration/login", "LOGIN_V2", "user_id timestamp origin"),
    ("PUT", "/v2/integration/user", "USER_UPDATE_V2", "user_id timestamp origin"),
    ("PUT", "/v2/integration/user/consents", "USER_CONSENTS_V2", "user_id timestamp origin"),
    ("PUT", "/v2/integration/user/blocks", "USER_BLOCK_V2", "user_id timestamp origin"),
    (
        "POST",
        "/v1/integration/payment",
        "PAYMENT",
        "amount currency origin payment_id status timestamp type user_id vendor_id",
    ),
    (
        "POST",
        "/v1/integration/casino",
        "CASINO",
        "activity_id amount currency exchange_rate game_id game_name is_round_end origin "
        "round_id status timestamp type user_id vendor_id",
    ),
    (
        "POST",
        "/v1/integration/sports",
        "SPORTSBOOK",
        "amount bet_type bets currency exchange_rate odds origin status timestamp user_id",
    ),
    (
        "POST",
        "/v1/integration/bonus",
        "BONUS",
        "amount bonus_id currency exchange_rate origin product status timestamp type "
        "user_bonus_id user_id",
    ),
    (
        "POST",
        "/v1/integration/user/balances",
        "USER_BALANCES_UPDATE",
        "balances origin timestamp user_id",
    ),
    (
        "POST",
        "/v1/integration/custom",
        "CUSTOM",
        "data notification_type origin timestamp user_id",
    ),
    ("POST", "/v1/integration/game", "GAME", "game_id is_live name"),
    (
        "POST",
        "/v2/integration/lottery",
        "LOTTERY_V2",
        "amount currency exchange_rate lines origin timestamp type user_id",
    ),
    (
        "POST",
        "/v1/integration/lottery",
        "LOTTERY",
        "timestamp transaction_id user_id amount account_amount bonus_amount bonus_code currency "
        "deposit_amount exchange_rate origin status tickets",
    ),
    *[
        (
            "POST",
            f"/v2/integration/poker/{slug}",
            kind,
            "currency exchange_rate status timestamp user_id",
        )
        for slug, kind in [
            ("tournament-buy-in", "POKER_TOURNAMENT_BUY_IN_V2"),
            ("tournament-cash-out", "POKER_TOURNAMENT_CASH_OUT_V2"),
            ("cash-game-buy-in", "POKER_CASH_GAME_BUY_IN_V2"),
            ("cash-game-cash-out", "POKER_CASH_GAME_CASH_OUT_V2"),
        ]
    ],
    ("POST", "/v1/integration/user/device/link", "USER_DEVICE_LINK", ""),
    ("POST", "/v1/integration/user/device/unlink", "USER_DEVICE_UNLINK", ""),
]
# Section 11 of the facts file: GAME_ROUND's schema-required fields. FT does not publish its REST
# path; the path here is mock-ft's default (MOCK_FT_GAME_ROUND_PATH).
FACTS_SECTION_11 = [
    (
        "POST",
        "/v1/integration/game-round",
        "GAME_ROUND",
        "user_id round_id game_id game_name game_type vendor_id user_currency device_type "
        "timestamp origin",
    ),
]
FACTS_EVENTS = FACTS_TABLE_2_4 + FACTS_SECTION_11


def test_cover_every_event_of_table_2_4() -> None:
    """Each REST event of the facts file is in the contract with its method, path and type."""
    routes = {(r.method, r.path): r.event_type for r in integration_contract().routes}
    assert routes == {(m, p): t for m, p, t, _ in FACTS_EVENTS}


def test_mark_game_round_path_unpublished() -> None:
    """Only GAME_ROUND's REST path is mock-ft's own, moved by the game_round_path setting."""
    marked = {r.event_type: r.path_setting for r in integration_contract().routes if r.path_setting}
    assert marked == {"GAME_ROUND": "game_round_path"}


def test_move_unpublished_path_with_its_setting() -> None:
    """with_paths serves GAME_ROUND on the configured path, in routes and in the document."""
    contract = integration_contract().with_paths({"game_round_path": "/ft/game-round"})
    assert contract.by_type()["GAME_ROUND"].path == "/ft/game-round"
    assert "/ft/game-round" in contract.document["paths"]
    assert "/v1/integration/game-round" not in contract.document["paths"]
    assert integration_contract().by_type()["GAME_ROUND"].path == "/v1/integration/game-round"


def test_keep_contract_when_path_setting_is_default() -> None:
    """The default path changes nothing (the same contract object is used)."""
    contract = integration_contract()
    assert contract.with_paths({"game_round_path": "/v1/integration/game-round"}) is contract


def test_refuse_unpublished_path_on_an_ft_path() -> None:
    """GAME_ROUND cannot take a path FT already uses for another event."""
    with pytest.raises(ConfigError, match="not already an FT Integration API path"):
        integration_contract().with_paths({"game_round_path": "/v1/integration/payment"})


def test_serve_game_round_on_configured_path() -> None:
    """Over REST, GAME_ROUND answers on MOCK_FT_GAME_ROUND_PATH, also outside FT's prefixes."""
    settings = Settings(
        journal=":memory:", allowed_hosts=["testserver"], game_round_path="/operator/game-round"
    )
    example = integration_contract().by_type()["GAME_ROUND"].example
    with TestClient(create_app(settings)) as client:
        answer = client.post("/operator/game-round", json=example, headers=KEY_HEADERS)
        assert answer.status_code == 200, answer.text
        assert client.post("/v1/integration/game-round", json=example).status_code == 404
        assert "/operator/game-round" in client.get("/openapi.json").json()["paths"]


@pytest.mark.parametrize(("method", "path", "event_type", "required"), FACTS_EVENTS)
def test_match_schema_required_fields(
    method: str, path: str, event_type: str, required: str
) -> None:
    """The contract's required list is exactly FT's schema-required list."""
    route = integration_contract().by_method_path()[(method, path)]
    assert sorted(route.schema.get("required", [])) == sorted(required.split())


@pytest.mark.parametrize("name", ["integration-api.yaml", "asyncapi.yaml", "operator-api.yaml"])
def test_parse_contract_as_safe_load_does(name: str) -> None:
    """The fast (libyaml) parse of a shipped contract builds exactly what `yaml.safe_load` does."""
    text = (contracts_dir() / name).read_text(encoding="utf-8")
    assert parse_contract_yaml(text) == yaml.safe_load(text)


def test_parse_contracts_with_libyaml_where_pyyaml_has_it() -> None:
    """Every start parses the contracts: with libyaml that is a tenth of the pure-Python time."""
    if not yaml.__with_libyaml__:
        pytest.skip("this PyYAML was built without libyaml; the pure-Python parser is used")
    with pytest.raises(yaml.MarkedYAMLError) as caught:
        parse_contract_yaml("a: [1")
    assert caught.value.problem_mark is not None
    assert caught.value.problem_mark.buffer is None  # libyaml's marks carry no copy of the text


def test_load_contract_as_valid_openapi() -> None:
    """The contract file is itself a valid OpenAPI 3.1 document (Schemathesis validates it)."""
    document = yaml.safe_load((contracts_dir() / "integration-api.yaml").read_text())
    schema = schemathesis.openapi.from_dict(document)
    assert len(list(schema.get_all_operations())) == len(FACTS_EVENTS)


def test_serve_contract_operations_verbatim() -> None:
    """The app's /openapi.json carries each contract operation unchanged but for tags/security."""
    app = create_app(Settings(journal=":memory:", allowed_hosts=["testserver"]))
    served = app.openapi()
    contract = integration_contract().document
    for path, item in contract["paths"].items():
        for method, operation in item.items():
            mine = {
                k: v
                for k, v in served["paths"][path][method].items()
                if k not in ("tags", "security")
            }
            theirs = {k: v for k, v in operation.items() if k != "security"}
            assert mine == theirs, f"{method.upper()} {path} drifted from the contract"
    for name, schema in contract["components"]["schemas"].items():
        assert served["components"]["schemas"][name] == schema


def test_serve_configured_api_key_header_in_openapi() -> None:
    """A custom key header name shows in the served security scheme."""
    app = create_app(
        Settings(journal=":memory:", allowed_hosts=["testserver"], api_key_header="X-FT-Key")
    )
    scheme = app.openapi()["components"]["securitySchemes"]["ApiKeyAuth"]
    assert scheme["name"] == "X-FT-Key"


def test_drop_security_from_openapi_when_auth_off() -> None:
    """With auth off, ingest operations document no security and no 401."""
    app = create_app(Settings(journal=":memory:", allowed_hosts=["testserver"], auth_enabled=False))
    operation = app.openapi()["paths"]["/v1/integration/payment"]["post"]
    assert operation["security"] == []
    assert "401" not in operation["responses"]


def test_reject_contract_without_ingest_operations(tmp_path: Path) -> None:
    """A contract with no x-ft-event-type operation is refused with a clear error."""
    path = tmp_path / "empty.yaml"
    path.write_text("openapi: 3.1.0\npaths: {}\n")
    with pytest.raises(ContractError, match="declares no ingest operations"):
        load_integration_contract(path)


def test_reject_contract_with_dangling_ref(tmp_path: Path) -> None:
    """A $ref to nothing names the reference."""
    path = tmp_path / "bad.yaml"
    operation = {
        "x-ft-event-type": "X",
        "requestBody": {
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Nope"}}}
        },
    }
    path.write_text(yaml.safe_dump({"openapi": "3.1.0", "paths": {"/x": {"post": operation}}}))
    with pytest.raises(ContractError, match="#/components/schemas/Nope points nowhere"):
        load_integration_contract(path)


def test_reject_missing_contract_file(tmp_path: Path) -> None:
    """A missing contract file is a ContractError, not an OSError."""
    with pytest.raises(ContractError, match="cannot read"):
        load_integration_contract(tmp_path / "absent.yaml")
