"""Operator-side checks, grouped by FT's integration steps; each name says what must hold."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from mock_ft.authspec import parse_operator_auth
from mock_ft.lookups.shapes import shape_problems
from mock_ft.verify.model import CheckResult, Exchange, VerifyOptions
from mock_ft.verify.operator import OperatorClient, body_of
from mock_ft.verify.writes import prove_consent_change

__all__ = [
    "RECONCILIATION_FIELDS",
    "check_auth",
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
    results.append(await _token_refuses_wrong_secret(op, options))
    return results


async def _token_refuses_wrong_secret(op: OperatorClient, options: VerifyOptions) -> CheckResult:
    """FT's client id with a wrong secret gets no token (else anyone could get one)."""
    name = "the OAuth2 token endpoint refuses a wrong client secret"
    spec = parse_operator_auth(options.auth) if options.auth else None
    if spec is None or spec.scheme != "oauth":
        why = f"--auth is {spec.scheme}" if spec else "no --auth"
        message = f"not checked: only OAuth2 has a token endpoint ({why})"
        return CheckResult("Authentication", name, True, message, skipped=True)
    params = {
        "grant_type": "client_credentials",
        "client_id": spec.client_id,
        "client_secret": f"mockft-wrong-{uuid.uuid4().hex[:8]}",
    }
    try:
        if options.oauth_method == "get":
            response = await op.client.get(spec.user_or_url, params=params)
        else:
            response = await op.client.post(spec.user_or_url, json=params)
    except httpx.HTTPError as exc:
        problem = f"the token endpoint failed: {type(exc).__name__}"
        return _result("Authentication", name, [problem], [])
    body = body_of(response)
    problems = []
    if isinstance(body, dict) and body.get("access_token"):
        problems.append(f"a wrong client secret got an access token ({response.status_code})")
    elif 200 <= response.status_code < 300:
        problems.append(f"a wrong client secret answered {response.status_code}, not 401")
    return _result("Authentication", name, problems, [])


async def check_user_data(op: OperatorClient, options: VerifyOptions) -> list[CheckResult]:
    """Known users' details and blocks conform; an unknown user is a 404 in FT's error shape."""
    results, others = [], []
    for user in options.user_ids:
        response, exchange = await op.call("GET", f"/userdetails/{user}", endpoint="userdetails")
        body = body_of(response)
        problems = _shape("UserDetails", exchange.status, body)
        name = f"userdetails of {user} has FT's 25 keys and types"
        results.append(_result("User data", name, problems, [exchange]))
        answered = body.get("user_id") if isinstance(body, dict) else None
        if exchange.status == 200 and str(answered) != user:
            others.append((f"/userdetails/{user} answered user_id {answered!r}", exchange))
        response, exchange = await op.call("GET", f"/userblocks/{user}", endpoint="userblocks")
        problems = _shape("UserBlocks", exchange.status, body_of(response))
        name = f"userblocks of {user} has exactly two blocks in FT's shape"
        results.append(_result("Blocks and reconciliation", name, problems, [exchange]))
    name = "userdetails answers each user's own details (user_id as asked)"
    results.append(_result("User data", name, [p for p, _ in others], [e for _, e in others]))
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
    """All six consent types; a change by POST proven and undone. Returns the change made."""
    results = []
    for user in options.user_ids:
        response, exchange = await op.call("GET", f"/userconsents/{user}", endpoint="userconsents")
        problems = _shape("UserConsents", exchange.status, body_of(response))
        name = f"userconsents of {user} lists all six types in FT's shape"
        results.append(_result("Consents", name, problems, [exchange]))
    proofs, changes = await prove_consent_change(op, options)
    return results + proofs, changes


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
