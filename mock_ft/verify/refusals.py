"""The Refusals step: FT-invalid values for a known user, each refused, nothing changed.

For each write endpoint a known user gets bodies that break one of FT's constraints at a time
(`negatives.py`, from the contract), plus a bonus_code /bonus/list does not offer. A refusal
is any 4xx but 401/403 (those say FT's credentials failed), in FT's error shape `{"error":
string, "code": integer}`. Consents are read back after each; a refused credit that credited
anyway shows in the event feed (`credits.py`, with --ft-url).
"""

from __future__ import annotations

import random
import time
from typing import Any

from mock_ft.verify.model import CheckResult, Credit, Exchange, VerifyOptions
from mock_ft.verify.negatives import Negative, negatives, request_schema
from mock_ft.verify.operator import OperatorClient, body_of
from mock_ft.verify.writes import (
    CHANGED_TYPE,
    differs,
    fresh_id,
    ok,
    post_consents,
    read_consents,
    send_credit,
)

__all__ = ["STEP", "check_refusals", "fresh_amount", "is_ft_error", "refusal_problem"]

STEP = "Refusals"
_CREDIT_PATHS = ("/bonus/credit", "/bonus/credit/funds")
_OTHER_TYPE = "email"  # a second consent in the base body: broken last, after CHANGED_TYPE


def fresh_amount() -> float:
    """An amount with cents (never whole), unlikely to be credited already: proves the credit."""
    cents = random.choice([c for c in range(101, 1000) if c % 100])  # noqa: S311 - no secret
    return cents / 100


def is_ft_error(body: Any) -> bool:
    """True for FT's generic error shape: exactly a string `error` and an integer `code`."""
    return (
        isinstance(body, dict)
        and set(body) == {"error", "code"}
        and isinstance(body["error"], str)
        and isinstance(body["code"], int)
        and not isinstance(body["code"], bool)
    )


def refusal_problem(exchange: Exchange) -> str | None:
    """Why this answer is not a refusal of a bad body, or None when it is one."""
    status = exchange.status
    if status is None:
        return "no answer"
    if 200 <= status < 300:
        return f"accepted it (answered {status})"
    if status in (401, 403):
        return f"answered {status}: FT's credentials were refused, not the body"
    if not 400 <= status < 500:
        return f"answered {status}, not a 4xx refusal"
    return None


def _shape_check(endpoint: str, refused: list[tuple[Exchange, Any]]) -> CheckResult:
    wrong = [(e, b) for e, b in refused if not is_ft_error(b)]
    problems = [
        f"a refusal answered {e.status} {(e.response_body or '')[:120]}, not "
        '{"error": string, "code": integer}'
        for e, _ in wrong[:1]
    ]
    if wrong:
        problems.append(f"{len(wrong)} of {len(refused)} refusal(s) so")
    name = f"{endpoint} answers each refusal in FT's error shape"
    message = "; ".join(problems) or f"{len(refused)} refusal(s), each in FT's error shape"
    return CheckResult(STEP, name, not problems, message, [e for e, _ in wrong[:2]])


async def check_refusals(
    op: OperatorClient, options: VerifyOptions, bonus_code: str, currency: str
) -> tuple[list[CheckResult], list[Credit]]:
    """Every write endpoint refuses each FT-invalid body. Returns the credits sent."""
    results = await _consent_refusals(op, options)
    credits: list[Credit] = []
    user = options.user_ids[0]
    unknown = fresh_id().upper()
    for path in _CREDIT_PATHS:
        base: dict[str, Any] = {"user_id": user, "bonus_code": bonus_code}
        amount = None
        if path.endswith("funds"):
            amount = fresh_amount()
            base |= {"amount": amount, "currency": currency}
        cases = negatives(request_schema(path), base)
        offered = f"a $.bonus_code /bonus/list does not offer ({unknown!r})"
        cases.append(Negative(offered, {**base, "bonus_code": unknown}))
        refused: list[tuple[Exchange, Any]] = []
        for case in cases:
            ft_id, sent_at = fresh_id("-refused"), time.time()
            response, exchange = await send_credit(op, path, case.body, ft_id)
            credits.append(Credit(ft_id, path[1:], user, sent_at, amount, False, ok(exchange)))
            problem = refusal_problem(exchange)
            if problem is None:
                refused.append((exchange, body_of(response)))
            results.append(_refuses(f"POST {path}", case, problem, exchange))
        results.append(_shape_check(f"POST {path}", refused))
    return results, credits


def _refuses(endpoint: str, case: Negative, problem: str | None, exchange: Exchange) -> CheckResult:
    message = problem or f"refused with {exchange.status}"
    return CheckResult(
        STEP, f"{endpoint} refuses {case.breaks}", problem is None, message, [exchange]
    )


async def _consent_refusals(op: OperatorClient, options: VerifyOptions) -> list[CheckResult]:
    user = options.user_ids[0]
    before, first = await read_consents(op, user)
    if before is None or not {CHANGED_TYPE, _OTHER_TYPE} <= set(before):
        name = "POST /userconsents refuses FT-invalid bodies"
        why = f"GET /userconsents/{user} answered {first.status} without the consents to flip"
        return [CheckResult(STEP, name, False, why, [first])]
    # Valid, and a change if accepted: each consent the opposite of what the user holds.
    base = {
        "consents": [{"opted_in": not before[k], "type": k} for k in (CHANGED_TYPE, _OTHER_TYPE)]
    }
    results, refused, changed, evidence = [], [], [], []
    for case in negatives(request_schema("/userconsents/{user_id}"), base):
        response, exchange = await op.call(
            "POST", f"/userconsents/{user}", endpoint="userconsents", json=case.body
        )
        problem = refusal_problem(exchange)
        if problem is None:
            refused.append((exchange, body_of(response)))
        results.append(_refuses("POST /userconsents", case, problem, exchange))
        after, read = await read_consents(op, user)
        if after != before:
            changed.append(f"after {case.breaks}: " + ", ".join(differs(before, after)))
            evidence += [exchange, read]
            await post_consents(op, user, before)  # put it back for the next case
    results.append(_shape_check("POST /userconsents", refused))
    name = "an FT-invalid POST /userconsents leaves the consents unchanged"
    message = "; ".join(changed[:2]) or "GET /userconsents unchanged after each"
    results.append(CheckResult(STEP, name, not changed, message, evidence[:4]))
    return results
