"""Value-level negatives derived from the Operator API contract, one broken constraint each."""

from __future__ import annotations

from typing import Any

from mock_ft.verify.model import Exchange
from mock_ft.verify.negatives import negatives, request_schema
from mock_ft.verify.refusals import is_ft_error, refusal_problem

CONSENTS = {"consents": [{"opted_in": True, "type": "sms"}, {"opted_in": False, "type": "email"}]}
FUNDS = {"user_id": "100001", "bonus_code": "WELCOME100", "amount": 1.37, "currency": "EUR"}


def test_derive_consent_breaks_from_contract() -> None:
    """Each constraint of POST /userconsents, broken in the last item of the list."""
    breaks = [n.breaks for n in negatives(request_schema("/userconsents/{user_id}"), CONSENTS)]
    assert breaks == [
        "a body without $.consents",
        "$.consents as an object, not an array ({})",
        "$.consents with fewer than 1 item(s)",
        "$.consents with more than 6 items",
        "a body without $.consents[1].opted_in",
        "a body without $.consents[1].type",
        "$.consents[1].opted_in as a string, not a boolean ('false')",
        "an unknown $.consents[1].type ('mockft-unknown')",
        "$.consents[1].type in another case ('EMAIL'; FT's enums are exact)",
    ]


def test_break_one_value_and_keep_the_rest() -> None:
    """The first item (a change if applied) stays; only the broken value differs."""
    cases = {
        n.breaks: n.body for n in negatives(request_schema("/userconsents/{user_id}"), CONSENTS)
    }
    unknown = cases["an unknown $.consents[1].type ('mockft-unknown')"]
    assert unknown == {
        "consents": [
            {"opted_in": True, "type": "sms"},
            {"opted_in": False, "type": "mockft-unknown"},
        ]
    }
    assert len(cases["$.consents with more than 6 items"]["consents"]) == 7
    assert CONSENTS["consents"][1] == {"opted_in": False, "type": "email"}  # not mutated


def test_derive_funds_breaks_from_contract() -> None:
    """A numeric user id as a number, a string amount, an amount below FT's minimum 0."""
    cases = {n.breaks: n.body for n in negatives(request_schema("/bonus/credit/funds"), FUNDS)}
    assert cases["$.user_id as a number, not a string (100001)"]["user_id"] == 100001
    assert cases["$.amount as a string, not a number ('1.37')"]["amount"] == "1.37"
    assert cases["$.amount below FT's minimum 0 (-1)"]["amount"] == -1
    assert cases["$.bonus_code shorter than FT's minLength 1 ('')"]["bonus_code"] == ""
    assert "amount" not in cases["a body without $.amount"]
    assert len(cases) == 11


def test_derive_bounds_the_contract_may_add() -> None:
    """maxLength, exclusive minimum, maximum-free numbers: what a future contract may state."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "code": {"type": "string", "maxLength": 3},
            "rate": {"type": "number", "exclusiveMinimum": 0},
            "tags": {"type": "array", "items": {"type": "string"}},
            "free": {},
        },
    }
    body = {"code": "abc", "rate": 1.5, "tags": [], "free": None}
    breaks = {n.breaks: n.body for n in negatives(schema, body)}
    assert breaks["$.code longer than FT's maxLength 3"]["code"] == "xxxx"
    assert breaks["$.rate at FT's exclusive minimum (0)"]["rate"] == 0
    assert breaks["$.tags as an object, not an array ({})"]["tags"] == {}
    assert len(breaks) == 5  # code: type, maxLength; rate: type, bound; tags: type


def _answer(status: int | None) -> Exchange:
    return Exchange("POST", "http://x/bonus/credit", {}, "{}", status, None, 1.0)


def test_count_only_4xx_but_credentials_as_refusals() -> None:
    assert refusal_problem(_answer(400)) is None
    assert refusal_problem(_answer(404)) is None  # an empty user_id: no such user
    assert refusal_problem(_answer(200)) == "accepted it (answered 200)"
    assert refusal_problem(_answer(401)) == (
        "answered 401: FT's credentials were refused, not the body"
    )
    assert refusal_problem(_answer(500)) == "answered 500, not a 4xx refusal"
    assert refusal_problem(_answer(None)) == "no answer"


def test_accept_only_fts_error_shape() -> None:
    assert is_ft_error({"error": "amount must be >= 0", "code": 400})
    assert not is_ft_error({"detail": [{"msg": "Field required"}]})
    assert not is_ft_error({"error": "x", "code": 400, "problems": []})
    assert not is_ft_error({"error": "x", "code": True})
    assert not is_ft_error([])
