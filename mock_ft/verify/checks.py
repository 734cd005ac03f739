"""Operator-side checks, grouped by FT's integration steps; each name says what must hold."""

from __future__ import annotations

import time
import uuid
from typing import Any

from mock_ft.lookups.shapes import shape_problems
from mock_ft.verify.model import CheckResult, Exchange, VerifyOptions
from mock_ft.verify.operator import OperatorClient, body_of

__all__ = [
    "RECONCILIATION_FIELDS",
    "check_auth",
    "check_bonus_and_session",
    "check_consents",
    "check_reconciliation",
    "check_user_data",
]

RECONCILIATION_FIELDS = (
    "blocked",
    "excluded",
    "consent_email",
    "consent_sms",
    "consent_telephone",
    "consent_post_mail",
    "consent_site_notification",
    "consent_push_notification",
)
_CONSENT_FIELD = {
    "consent_email": "email",
    "consent_sms": "sms",
    "consent_telephone": "telephone",
    "consent_post_mail": "postMail",
    "consent_site_notification": "siteNotification",
    "consent_push_notification": "pushNotification",
}


def _result(step: str, name: str, problems: list[str], evidence: list[Exchange]) -> CheckResult:
    message = "; ".join(problems[:5]) if problems else "as FT expects"
    return CheckResult(step, name, not problems, message, evidence)


def _shape(component: str, status: int | None, body: Any) -> list[str]:
    if status != 200:
        return [f"answered {status}, FT needs 200"]
    return [f"{p.path}: {p.message}" for p in shape_problems(component, body)]


def _wrong_credentials(auth: str | None) -> dict[str, str]:
    """Headers with the right scheme but a wrong secret."""
    scheme = (auth or "").split(":", 1)[0]
    if scheme == "basic":
        return {"Authorization": "Basic bm9ib2R5Ondyb25n"}  # nobody:wrong
    if scheme == "oauth":
        return {"Authorization": "Bearer forged-token"}
    return {"X-Api-Key": "wrong-key"}


async def check_auth(op: OperatorClient, options: VerifyOptions) -> list[CheckResult]:
    """Each endpoint refuses missing and wrong credentials and accepts FT's."""
    user = options.user_ids[0]
    endpoints = [
        ("GET", f"/userdetails/{user}", "userdetails", None),
        ("GET", f"/userconsents/{user}", "userconsents", None),
        ("GET", f"/userblocks/{user}", "userblocks", None),
        ("POST", "/reconciliation", "reconciliation", {"field": "blocked"}),
        ("GET", "/bonus/list", "bonus/list", None),
    ]
    results = []
    for method, path, endpoint, body in endpoints:
        _, missing = await op.call(method, path, endpoint=endpoint, json=body, authenticated=False)
        _, wrong = await op.call(
            method,
            path,
            endpoint=endpoint,
            json=body,
            headers=_wrong_credentials(options.auth),
            authenticated=False,
        )
        _, right = await op.call(method, path, endpoint=endpoint, json=body)
        problems = []
        if missing.status not in (401, 403):
            problems.append(f"without credentials it answered {missing.status}, not 401")
        if wrong.status not in (401, 403):
            problems.append(f"with wrong credentials it answered {wrong.status}, not 401")
        if right.status is None or not 200 <= right.status < 300:
            problems.append(f"with FT's credentials it answered {right.status}")
        name = f"{endpoint} requires FT's credentials"
        results.append(_result("Authentication", name, problems, [missing, wrong, right]))
    return results


async def check_user_data(op: OperatorClient, options: VerifyOptions) -> list[CheckResult]:
    """Known users' details and blocks conform; an unknown user is a 404 in FT's error shape."""
    results = []
    for user in options.user_ids:
        response, exchange = await op.call("GET", f"/userdetails/{user}", endpoint="userdetails")
        problems = _shape("UserDetails", exchange.status, body_of(response))
        name = f"userdetails of {user} has FT's 25 keys and types"
        results.append(_result("User data", name, problems, [exchange]))
        response, exchange = await op.call("GET", f"/userblocks/{user}", endpoint="userblocks")
        problems = _shape("UserBlocks", exchange.status, body_of(response))
        name = f"userblocks of {user} has exactly two blocks in FT's shape"
        results.append(_result("Blocks and reconciliation", name, problems, [exchange]))
    unknown = f"mockft-unknown-{uuid.uuid4().hex[:8]}"
    response, exchange = await op.call("GET", f"/userdetails/{unknown}", endpoint="userdetails")
    body = body_of(response)
    problems = []
    if exchange.status != 404:
        problems.append(f"an unknown user answered {exchange.status}, FT expects 404")
    elif not (isinstance(body, dict) and set(body) == {"error", "code"}):
        problems.append('the 404 body is not FT\'s {"error": ..., "code": ...}')
    name = "unknown user answers 404 with FT's error body"
    results.append(_result("User data", name, problems, [exchange]))
    return results


async def check_consents(
    op: OperatorClient, options: VerifyOptions
) -> tuple[list[CheckResult], list[tuple[str, float]]]:
    """All six consent types; an opt-out by POST shows in GET. Returns the opt-outs made."""
    results, opt_outs = [], []
    for user in options.user_ids:
        response, exchange = await op.call("GET", f"/userconsents/{user}", endpoint="userconsents")
        before = body_of(response)
        problems = _shape("UserConsents", exchange.status, before)
        name = f"userconsents of {user} lists all six types in FT's shape"
        results.append(_result("Consents", name, problems, [exchange]))
    user = options.user_ids[0]
    change = {"consents": [{"opted_in": False, "type": "sms"}]}
    posted_at = time.time()
    _, post = await op.call("POST", f"/userconsents/{user}", endpoint="userconsents", json=change)
    response, after = await op.call("GET", f"/userconsents/{user}", endpoint="userconsents")
    consents = (body_of(response) or {}).get("consents", []) if response is not None else []
    sms = [c.get("opted_in") for c in consents if isinstance(c, dict) and c.get("type") == "sms"]
    problems = []
    if post.status != 200:
        problems.append(f"POST /userconsents answered {post.status}, FT expects 200")
    elif sms != [False]:
        problems.append(f"after opting out of sms, GET shows sms opted_in {sms or 'missing'}")
    else:
        opt_outs.append((user, posted_at))
    name = "a consent opt-out by POST shows in GET /userconsents"
    results.append(_result("Consents", name, problems, [post, after]))
    return results, opt_outs


async def check_reconciliation(op: OperatorClient, options: VerifyOptions) -> list[CheckResult]:
    """Every documented field answers FT's shape and agrees with the users' own endpoints."""
    results = []
    listed: dict[str, set[str]] = {}
    for field in RECONCILIATION_FIELDS:
        response, exchange = await op.call(
            "POST", "/reconciliation", endpoint="reconciliation", json={"field": field}
        )
        body = body_of(response)
        problems = _shape("ReconciliationResult", exchange.status, body)
        if not problems:
            listed[field] = set(body["users"])
        name = f"reconciliation of {field} answers FT's shape"
        results.append(_result("Blocks and reconciliation", name, problems, [exchange]))
    _, exchange = await op.call(
        "POST", "/reconciliation", endpoint="reconciliation", json={"field": "mockft_unknown"}
    )
    problems = [] if exchange.status == 501 else [f"answered {exchange.status}, FT expects 501"]
    name = "reconciliation of an unknown field answers 501"
    results.append(_result("Blocks and reconciliation", name, problems, [exchange]))
    results.append(await _reconciliation_agrees(op, options, listed))
    return results


async def _reconciliation_agrees(
    op: OperatorClient, options: VerifyOptions, listed: dict[str, set[str]]
) -> CheckResult:
    problems, evidence = [], []
    for user in options.user_ids:
        blocks_response, blocks = await op.call("GET", f"/userblocks/{user}", endpoint="userblocks")
        consents_response, consents = await op.call(
            "GET", f"/userconsents/{user}", endpoint="userconsents"
        )
        evidence += [blocks, consents]
        truth: dict[str, bool] = {}
        for block in (body_of(blocks_response) or {}).get("blocks", []):
            if isinstance(block, dict) and block.get("type") in ("Blocked", "Excluded"):
                truth[str(block["type"]).lower()] = bool(block.get("active"))
        opted = {
            c.get("type"): bool(c.get("opted_in"))
            for c in (body_of(consents_response) or {}).get("consents", [])
            if isinstance(c, dict)
        }
        for field, kind in _CONSENT_FIELD.items():
            if kind in opted:
                truth[field] = opted[kind]
        for field, value in truth.items():
            if field in listed and (user in listed[field]) != value:
                where = "lists" if user in listed[field] else "leaves out"
                problems.append(
                    f"reconciliation of {field} {where} {user}, its own endpoints disagree"
                )
    name = "reconciliation agrees with each user's blocks and consents"
    return _result("Blocks and reconciliation", name, problems, evidence[:4])


async def check_bonus_and_session(
    op: OperatorClient, options: VerifyOptions
) -> tuple[list[CheckResult], str | None]:
    """Bonus list shape, crediting, and sid validation. Returns the X-Fasttrack-Id used twice."""
    results = []
    response, exchange = await op.call("GET", "/bonus/list", endpoint="bonus/list")
    body = body_of(response)
    problems = _shape("BonusList", exchange.status, body)
    results.append(_result("Bonus and session", "bonus/list has FT's shape", problems, [exchange]))
    code = options.bonus_code
    if code is None and not problems and body["Data"]:
        code = str(body["Data"][0]["value"])
    user = options.user_ids[0]
    ft_id = f"mockft-{uuid.uuid4().hex[:12]}"
    headers = {
        "X-Fasttrack-Id": ft_id,
        "X-Fasttrack-Actionid": "1",
        "X-Fasttrack-Triggerhash": ft_id,
    }
    request = {"user_id": user, "bonus_code": code or "UNKNOWN"}
    evidence = []
    for _ in range(2):
        _, credit = await op.call(
            "POST", "/bonus/credit", endpoint="bonus/credit", json=request, headers=headers
        )
        evidence.append(credit)
    problems = [f"answered {e.status}, FT expects 200" for e in evidence if e.status != 200][:1]
    name = "bonus/credit accepts a valid request, and a repeat with the same X-Fasttrack-Id"
    results.append(_result("Bonus and session", name, problems, evidence))
    funds = {**request, "amount": 1, "currency": "EUR"}
    headers = {**headers, "X-Fasttrack-Id": f"{ft_id}-funds"}
    _, credit = await op.call(
        "POST", "/bonus/credit/funds", endpoint="bonus/credit/funds", json=funds, headers=headers
    )
    problems = [] if credit.status == 200 else [f"answered {credit.status}, FT expects 200"]
    name = "bonus/credit/funds accepts a valid request"
    results.append(_result("Bonus and session", name, problems, [credit]))
    _, session = await op.call(
        "POST", "/authenticate", endpoint="authenticate", json={"sid": f"mockft-{uuid.uuid4()}"}
    )
    problems = [] if session.status not in (200, None) else ["an invalid sid answered 200"]
    name = "authenticate refuses an invalid sid"
    results.append(_result("Bonus and session", name, problems, [session]))
    results.append(await _valid_sid(op, options))
    return results, ft_id


async def _valid_sid(op: OperatorClient, options: VerifyOptions) -> CheckResult:
    name = "authenticate accepts a valid sid with its user_id"
    if options.sid is None:
        message = "not checked: pass --sid with the session id of a logged-in test user"
        return CheckResult("Bonus and session", name, True, message, skipped=True)
    response, exchange = await op.call(
        "POST", "/authenticate", endpoint="authenticate", json={"sid": options.sid}
    )
    body = body_of(response)
    problems = []
    if exchange.status != 200:
        problems.append(f"a valid sid answered {exchange.status}, FT expects 200")
    elif not isinstance(body, dict) or "user_id" not in body:
        problems.append('the answer lacks FT\'s {"user_id": ...}')
    return _result("Bonus and session", name, problems, [exchange])
