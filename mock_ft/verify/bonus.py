"""The Bonus and session step: FT's dropdown, its credits (proven by the event feed), the sid."""

from __future__ import annotations

import time
import uuid
from typing import Any

from mock_ft.lookups.shapes import shape_problems
from mock_ft.verify.model import CheckResult, Credit, Exchange, VerifyOptions
from mock_ft.verify.operator import OperatorClient, body_of
from mock_ft.verify.refusals import fresh_amount
from mock_ft.verify.writes import fresh_id, ok, send_credit

__all__ = ["STEP", "check_bonus_and_session", "offered_codes"]

STEP = "Bonus and session"
# Codes of /bonus/list credited once each: all of a usual dropdown; of a long one, both ends
# (a retired code is often left at the end, a new one added there).
_LISTED_CREDITS = 10


def _result(name: str, problems: list[str], evidence: list[Exchange]) -> CheckResult:
    message = "; ".join(problems[:3]) if problems else "as FT expects"
    return CheckResult(STEP, name, not problems, message, evidence)


def offered_codes(body: Any) -> list[str]:
    """The bonus codes a /bonus/list answer offers (its `Data[].value`)."""
    data = body.get("Data") if isinstance(body, dict) else None
    items = data if isinstance(data, list) else []
    return [str(i["value"]) for i in items if isinstance(i, dict) and "value" in i]


async def check_bonus_and_session(
    op: OperatorClient, options: VerifyOptions
) -> tuple[list[CheckResult], str | None, list[Credit]]:
    """Bonus list and credits, sid validation. Returns the id sent twice and every credit."""
    results, credits = [], []
    response, exchange = await op.call("GET", "/bonus/list", endpoint="bonus/list")
    problems = [] if exchange.status == 200 else [f"answered {exchange.status}, FT needs 200"]
    problems += [f"{p.path}: {p.message}" for p in shape_problems("BonusList", body_of(response))]
    results.append(_result("bonus/list has FT's shape", problems, [exchange]))
    codes = offered_codes(body_of(response))
    code = options.bonus_code or (codes[0] if codes else "UNKNOWN")
    user = options.user_ids[0]

    async def credit(path: str, body: dict[str, Any], ft_id: str) -> Exchange:
        sent_at = time.time()
        _, exchange = await send_credit(op, path, body, ft_id)
        amount = body.get("amount")
        credits.append(Credit(ft_id, path[1:], user, sent_at, amount, True, ok(exchange)))
        return exchange

    ft_id = fresh_id()
    request = {"user_id": user, "bonus_code": code}
    evidence = [await credit("/bonus/credit", request, ft_id) for _ in range(2)]
    problems = [f"answered {e.status}, FT expects 200" for e in evidence if e.status != 200][:1]
    name = "bonus/credit accepts a valid request, and a repeat with the same X-Fasttrack-Id"
    results.append(_result(name, problems, evidence))
    refused = []
    ends = (
        codes
        if len(codes) <= 2 * _LISTED_CREDITS
        else codes[:_LISTED_CREDITS] + codes[-_LISTED_CREDITS:]
    )
    for listed in ends:
        sent = await credit("/bonus/credit", {"user_id": user, "bonus_code": listed}, fresh_id())
        if sent.status != 200:
            refused.append((listed, sent))
    problems = [f"{c!r} is offered, and bonus/credit answered {e.status}" for c, e in refused]
    name = "bonus/credit accepts every code bonus/list offers"
    results.append(_result(name, problems, [e for _, e in refused[:2]]))
    funds = {**request, "amount": fresh_amount(), "currency": await _currency(op, user)}
    sent = await credit("/bonus/credit/funds", funds, fresh_id("-funds"))
    problems = [] if sent.status == 200 else [f"answered {sent.status}, FT expects 200"]
    results.append(_result("bonus/credit/funds accepts a valid request", problems, [sent]))
    _, session = await op.call(
        "POST", "/authenticate", endpoint="authenticate", json={"sid": f"mockft-{uuid.uuid4()}"}
    )
    results.append(_result("authenticate refuses an invalid sid", _refusal(session), [session]))
    results += await _valid_sid(op, options)
    return results, ft_id, credits


def _refusal(session: Exchange) -> list[str]:
    """Problems of the answer to an invalid sid: FT needs a refusal, not a 200 nor silence."""
    if session.status is None:  # the exchange keeps why: a timeout, a dropped connection
        why = session.response_body or "no answer"
        return [f"an invalid sid got no answer ({why}); FT expects a 4xx refusal"]
    if session.status == 200:
        return ["an invalid sid answered 200; FT expects a 4xx refusal"]
    return []


async def _currency(op: OperatorClient, user: str) -> str:
    """The user's currency (from /userdetails), for a funds credit FT would send."""
    response, _ = await op.call("GET", f"/userdetails/{user}", endpoint="userdetails")
    body = body_of(response)
    currency = body.get("currency") if isinstance(body, dict) else None
    return currency if isinstance(currency, str) and currency else "EUR"


async def _valid_sid(op: OperatorClient, options: VerifyOptions) -> list[CheckResult]:
    name = "authenticate accepts a valid sid with its user_id"
    known = "authenticate answers the user_id of a player /userdetails knows"
    if options.sid is None:
        message = "not checked: pass --sid with the session id of a logged-in test user"
        return [CheckResult(STEP, n, True, message, skipped=True) for n in (name, known)]
    response, exchange = await op.call(
        "POST", "/authenticate", endpoint="authenticate", json={"sid": options.sid}
    )
    body = body_of(response)
    problems = []
    if exchange.status != 200:
        problems.append(f"a valid sid answered {exchange.status}, FT expects 200")
    elif not isinstance(body, dict) or "user_id" not in body:
        problems.append('the answer lacks FT\'s {"user_id": ...}')
    results = [_result(name, problems, [exchange])]
    if problems:
        return results
    user = str(body["user_id"])  # FT takes it as integer or string
    response, details = await op.call("GET", f"/userdetails/{user}", endpoint="userdetails")
    answered = body_of(response)
    problems = []
    if details.status != 200:
        problems.append(f"the sid's user_id {user} is unknown to /userdetails ({details.status})")
    elif not isinstance(answered, dict) or str(answered.get("user_id")) != user:
        problems.append(f"/userdetails/{user} answers another user_id")
    results.append(_result(known, problems, [exchange, details]))
    return results
