"""Validation of every event type against the contract, with FT's verdicts."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_ft.contracts import EventRoute, IntegrationContract, integration_contract
from mock_ft.errors import ContractError
from mock_ft.ingest.validation import EventValidator, strict_schema

CONTRACT = integration_contract()
VALIDATOR = EventValidator(CONTRACT)
ROUTES = list(CONTRACT.routes)
ROUTE = CONTRACT.by_type()


def _ids(route: EventRoute) -> str:
    return route.event_type


def _codes(event_type: str, payload: Any) -> list[tuple[str, str]]:
    return [(p.path, p.code) for p in VALIDATOR.validate(event_type, payload).errors]


@pytest.mark.parametrize("route", ROUTES, ids=_ids)
def test_accept_contract_example(route: EventRoute) -> None:
    """The contract's sample of every event type is valid and raises no warning."""
    verdict = VALIDATOR.validate(route.event_type, route.example)
    assert verdict.errors == ()
    assert verdict.warnings == ()


REQUIRED_CASES = [
    (route, field)
    for route in ROUTES
    for field in route.schema.get("required", [])
    if field in route.example
]


@pytest.mark.parametrize(
    ("route", "field"), REQUIRED_CASES, ids=[f"{r.event_type}-{f}" for r, f in REQUIRED_CASES]
)
def test_reject_missing_schema_required_field(route: EventRoute, field: str) -> None:
    """Dropping any schema-required field is a hard error at that field's path."""
    payload = copy.deepcopy(route.example)
    del payload[field]
    assert _codes(route.event_type, payload) == [(f"$.{field}", "required")]


DOC_CASES = [(route, field) for route in ROUTES for field in route.doc_required]


@pytest.mark.parametrize(
    ("route", "field"), DOC_CASES, ids=[f"{r.event_type}-{f}" for r, f in DOC_CASES]
)
def test_warn_missing_doc_only_required_field(route: EventRoute, field: str) -> None:
    """A field only FT's docs require is accepted with a doc_required warning."""
    payload = copy.deepcopy(route.example)
    payload.pop(field, None)
    verdict = VALIDATOR.validate(route.event_type, payload)
    assert verdict.errors == ()
    assert [(w.path, w.code) for w in verdict.warnings] == [(f"$.{field}", "doc_required")]


TIMESTAMPED = [r for r in ROUTES if "timestamp" in r.example]


@pytest.mark.parametrize("route", TIMESTAMPED, ids=_ids)
@pytest.mark.parametrize("bad", ["20150302", "2015-03", 20150302, None, True])
def test_reject_invalid_timestamp(route: EventRoute, bad: Any) -> None:
    """FT's invalid timestamps (compact, partial, number, null, boolean) are rejected."""
    payload = {**route.example, "timestamp": bad}
    [(path, code)] = _codes(route.event_type, payload)
    assert path == "$.timestamp"
    assert code in ("format", "type")


@pytest.mark.parametrize("route", TIMESTAMPED, ids=_ids)
def test_accept_single_digit_hour_timestamp(route: EventRoute) -> None:
    """FT's own edge case 2015-03-02T8:27:58.721607Z is valid for every event."""
    payload = {**route.example, "timestamp": "2015-03-02T8:27:58.721607Z"}
    assert _codes(route.event_type, payload) == []


WITH_USER = [r for r in ROUTES if "user_id" in r.example]


@pytest.mark.parametrize("route", WITH_USER, ids=_ids)
@pytest.mark.parametrize(("bad", "code"), [("", "min_length"), (42, "type"), (None, "type")])
def test_reject_bad_user_id(route: EventRoute, bad: Any, code: str) -> None:
    """user_id must be a non-empty string."""
    assert _codes(route.event_type, {**route.example, "user_id": bad}) == [("$.user_id", code)]


@pytest.mark.parametrize("route", ROUTES, ids=_ids)
def test_accept_unknown_extra_fields(route: EventRoute) -> None:
    """FT's real-time schemas allow unknown fields."""
    payload = {**route.example, "brand_specific_extra": {"anything": [1, 2]}}
    assert _codes(route.event_type, payload) == []


def test_reject_wrong_enum_case_with_hint() -> None:
    """Enums are case-sensitive, and the message suggests the right spelling."""
    payload = {**ROUTE["PAYMENT"].example, "status": "approved"}
    [problem] = VALIDATOR.validate("PAYMENT", payload).errors
    assert (problem.path, problem.code) == ("$.status", "enum")
    assert "did you mean 'Approved'?" in problem.message


@pytest.mark.parametrize("field", ["amount", "exchange_rate", "fee_amount"])
def test_reject_negative_amount(field: str) -> None:
    """Amounts and rates are >= 0; zero is allowed."""
    payload = {**ROUTE["PAYMENT"].example, field: -0.01}
    assert _codes("PAYMENT", payload) == [(f"$.{field}", "minimum")]
    assert _codes("PAYMENT", {**ROUTE["PAYMENT"].example, field: 0}) == []


def test_reject_null_amount() -> None:
    """Null is not an amount."""
    assert _codes("PAYMENT", {**ROUTE["PAYMENT"].example, "amount": None}) == [("$.amount", "type")]


def _warnings(event_type: str, payload: Any) -> list[tuple[str, str]]:
    verdict = VALIDATOR.validate(event_type, payload)
    assert verdict.errors == ()
    return [(w.path, w.code) for w in verdict.warnings]


@pytest.mark.parametrize("currency", ["eur", "EURO", "", "eu"])
def test_warn_currency_outside_iso_4217_upper_case(currency: str) -> None:
    """FT's schema takes any currency string; a non ISO 4217 upper-case one is only a warning."""
    payload = {**ROUTE["PAYMENT"].example, "currency": currency}
    assert _warnings("PAYMENT", payload) == [("$.currency", "doc_pattern")]


def test_give_reason_in_doc_rule_warning() -> None:
    """A docs-only rule's warning says what is wrong and why, from the contract's reason."""
    payload = {**ROUTE["PAYMENT"].example, "currency": "eur"}
    [warning] = VALIDATOR.validate("PAYMENT", payload).warnings
    assert "'eur' does not match" in warning.message
    assert "ISO 4217" in warning.message


@pytest.mark.parametrize("event_type", ["PAYMENT", "CASINO"])
def test_reject_empty_origin_where_schema_requires_it(event_type: str) -> None:
    """Only PAYMENT and CASINO have minLength 1 on origin in FT's schema."""
    payload = {**ROUTE[event_type].example, "origin": ""}
    assert _codes(event_type, payload) == [("$.origin", "min_length")]


@pytest.mark.parametrize(
    "event_type", ["USER_CREATE_V2", "LOGIN_V2", "BONUS", "LOTTERY", "CUSTOM", "GAME_ROUND"]
)
def test_warn_empty_origin_elsewhere(event_type: str) -> None:
    """Elsewhere an empty origin passes FT's schema: a warning."""
    payload = {**ROUTE[event_type].example, "origin": ""}
    assert _warnings(event_type, payload) == [("$.origin", "doc_min_length")]


@pytest.mark.parametrize(
    ("event_type", "field"),
    [
        ("PAYMENT", "payment_id"),
        ("PAYMENT", "vendor_id"),
        ("CASINO", "activity_id"),
        ("CASINO", "game_id"),
        ("CASINO", "vendor_id"),
        ("LOTTERY", "transaction_id"),
        ("GAME", "game_id"),
    ],
)
def test_warn_empty_id(event_type: str, field: str) -> None:
    """FT's schema sets no minLength on ids: an empty one is a warning."""
    payload = {**ROUTE[event_type].example, field: ""}
    assert _warnings(event_type, payload) == [(f"$.{field}", "doc_min_length")]


@pytest.mark.parametrize("field", ["account_amount", "bonus_amount", "deposit_amount"])
def test_warn_negative_lottery_v1_sub_amount(field: str) -> None:
    """Lottery v1 sub-amounts are plain numbers in FT's schema: negative is a warning."""
    payload = {**ROUTE["LOTTERY"].example, field: -1}
    assert _warnings("LOTTERY", payload) == [(f"$.{field}", "doc_minimum")]


def test_reject_negative_numeric_payment_vendor_id() -> None:
    """PAYMENT.vendor_id has minimum 0 for numbers in FT's schema; strings stay free."""
    assert _codes("PAYMENT", {**ROUTE["PAYMENT"].example, "vendor_id": -1}) == [
        ("$.vendor_id", "minimum")
    ]
    assert _codes("PAYMENT", {**ROUTE["PAYMENT"].example, "vendor_id": "-1"}) == []


def test_refuse_enriched_shape_with_hint() -> None:
    """FT's internal enriched spelling (`deposit`, `approved`) is refused, saying what it is."""
    payload = {**ROUTE["PAYMENT"].example, "type": "deposit", "status": "approved"}
    problems = VALIDATOR.validate("PAYMENT", payload).errors
    assert [(p.path, p.code) for p in problems] == [("$.status", "enum"), ("$.type", "enum")]
    assert all("FT's internal enriched events" in p.message for p in problems)


def test_reject_nested_problem_with_its_path() -> None:
    """A problem inside an array is reported with its full JSON path."""
    payload = copy.deepcopy(ROUTE["SPORTSBOOK"].example)
    payload["bets"][0]["odds"] = "2.5"
    del payload["bets"][0]["outcomes"][0]["outcome_label"]
    assert _codes("SPORTSBOOK", payload) == [
        ("$.bets[0].odds", "type"),
        ("$.bets[0].outcomes[0].outcome_label", "required"),
    ]


def test_reject_balances_with_unknown_key() -> None:
    """Wallet keys are an enum."""
    payload = copy.deepcopy(ROUTE["USER_BALANCES_UPDATE"].example)
    payload["balances"][1]["key"] = "Bonus_Money"
    assert _codes("USER_BALANCES_UPDATE", payload) == [("$.balances[1].key", "enum")]


def test_warn_empty_balances() -> None:
    """FT's schema has no minItems on balances; its docs want the wallets: a warning."""
    payload = {**ROUTE["USER_BALANCES_UPDATE"].example, "balances": []}
    assert _warnings("USER_BALANCES_UPDATE", payload) == [("$.balances", "doc_min_items")]


def test_accept_payment_id_as_number() -> None:
    """payment_id and vendor_id may be numbers."""
    payload = {**ROUTE["PAYMENT"].example, "payment_id": 991, "vendor_id": 3}
    assert _codes("PAYMENT", payload) == []


def test_warn_payment_type_outside_docs() -> None:
    """Authorization/Capture/Void pass FT's schema but not its docs: a warning."""
    verdict = VALIDATOR.validate("PAYMENT", {**ROUTE["PAYMENT"].example, "type": "Capture"})
    assert verdict.errors == ()
    assert [(w.path, w.code) for w in verdict.warnings] == [("$.type", "doc_enum")]


@pytest.mark.parametrize("body", [[], "text", 3, None, True])
def test_reject_non_object_body(body: Any) -> None:
    """The event must be a JSON object."""
    assert _codes("LOGIN_V2", body) == [("$", "type")]


def test_accept_game_origin_as_string_or_array() -> None:
    """GAME origin: docs say array, schema says string; both are accepted."""
    example = ROUTE["GAME"].example
    assert _codes("GAME", {**example, "origin": "sub.example.com"}) == []
    assert _codes("GAME", {**example, "origin": ["a", "b"]}) == []


@given(st.dictionaries(st.text(max_size=8), st.none() | st.booleans() | st.integers() | st.text()))
def test_validate_never_raises_on_arbitrary_objects(payload: dict[str, Any]) -> None:
    """Any JSON object yields a verdict (possibly with errors), never an exception."""
    for route in ROUTES:
        verdict = VALIDATOR.validate(route.event_type, payload)
        assert all(p.path.startswith("$") for p in verdict.errors)


def test_refuse_unknown_docs_only_rule() -> None:
    """A contract that marks a docs-only rule the validator cannot enforce is refused."""
    with pytest.raises(ContractError, match="unknown docs-only rule 'x-ft-doc-maxLength'"):
        strict_schema({"properties": {"a": {"type": "string", "x-ft-doc-maxLength": 3}}})


def test_merge_doc_required_into_strict_required() -> None:
    """The strict schema requires the schema's fields and the docs' fields."""
    schema = strict_schema({"required": ["a"], "x-ft-doc-required": ["b"]})
    assert schema["required"] == ["a", "b"]


def test_describe_other_schema_errors_by_keyword() -> None:
    """Keywords FT's event schemas rarely use still give a coded problem with its path."""
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "string", "maxLength": 2},
            "b": {"type": "array", "minItems": 1},
        },
    }
    route = EventRoute("X", "POST", "/x", "x", schema, (), (), {})
    validator = EventValidator(IntegrationContract(document={}, routes=(route,)))
    problems = validator.validate("X", {"a": "long", "b": []}).errors
    assert [(p.path, p.code) for p in problems] == [("$.a", "maxlength"), ("$.b", "min_items")]
