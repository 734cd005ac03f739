"""Resilience: FT's calls as they really arrive, and the operator consistent after each.

FT repeats a POST it is not sure landed, lets an OAuth token run out mid-run, and gives up on a
call that is slow to answer, then sends it again. Whether a repeated credit was credited once
shows only in the BONUS events, so the X-Fasttrack-Ids sent twice go to the event-feed step.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from typing import Any

import httpx

from mock_ft.authspec import AuthSpec, parse_operator_auth
from mock_ft.lookups.auth import TokenError
from mock_ft.verify.model import CheckResult, Exchange, VerifyOptions
from mock_ft.verify.operator import OperatorClient, body_of
from mock_ft.verify.writes import post_consents, read_consents

__all__ = ["EXPIRY_CHECK", "STEP", "check_resilience"]

STEP = "Resilience"
EXPIRY_CHECK = "an expired OAuth token is refused with 401 and a fresh one accepted"
# FT's client gives up this long after sending: a fast operator has done the work by then (only
# its answer is lost), a slow one is still at it when the same call comes again.
_ABANDON_AFTER_SECONDS = 0.02
_EXPIRY_MARGIN_SECONDS = 1.0  # waited past expires_in, for operators counting whole seconds
_SMS = "sms"  # the channel FT's unsubscribe page changes most


async def _abandon(name: str, _info: dict[str, Any]) -> None:
    """httpcore trace hook: once the request is out, give up as FT's client timeout does."""
    if name.endswith("receive_response_headers.started"):
        await asyncio.sleep(_ABANDON_AFTER_SECONDS)
        msg = "abandoned by mock-ft once the request was sent"
        raise httpx.ReadTimeout(msg)


_ABANDON = {"trace": _abandon}


def _ok(exchange: Exchange) -> bool:
    return exchange.status is not None and 200 <= exchange.status < 300


def _result(
    name: str, problems: list[str], evidence: list[Exchange], passed_message: str = ""
) -> CheckResult:
    message = "; ".join(problems) if problems else passed_message or "as FT expects"
    return CheckResult(STEP, name, not problems, message, evidence)


def _event_side(options: VerifyOptions) -> str:
    if options.ft_url is None:
        return "accepted; that it was credited once shows in BONUS events (pass --ft-url)"
    return "accepted; the event feed checks it was credited once"


async def check_resilience(
    op: OperatorClient, options: VerifyOptions
) -> tuple[list[CheckResult], list[str]]:
    """Repeated, expired-token and abandoned calls. Returns the X-Fasttrack-Ids sent twice."""
    user = options.user_ids[0]
    results = [await _token_expiry(op, options, user), await _repeated_consent(op, user)]
    lookup, details = await _abandoned_lookup(op, user)
    results.append(lookup)
    currency = details.get("currency") if isinstance(details, dict) else None
    credit = {"user_id": user, "bonus_code": await _bonus_code(op, options)}
    funds = {**credit, "amount": 1, "currency": currency if isinstance(currency, str) else "EUR"}
    funds_id = f"mockft-{uuid.uuid4().hex[:12]}-funds"
    evidence = [await _credit(op, "/bonus/credit/funds", funds, funds_id) for _ in range(2)]
    problems = [f"answered {e.status}, FT expects 2xx" for e in evidence if not _ok(e)][:1]
    name = "bonus/credit/funds sent twice with one X-Fasttrack-Id is accepted both times"
    results.append(_result(name, problems, evidence, _event_side(options)))
    resent_id = f"mockft-{uuid.uuid4().hex[:12]}-resent"
    evidence = [await _credit(op, "/bonus/credit", credit, resent_id, _ABANDON)]
    evidence.append(await _credit(op, "/bonus/credit", credit, resent_id))  # as FT retries
    problems = [] if _ok(evidence[1]) else [f"sent again it answered {evidence[1].status}"]
    name = "a bonus/credit FT gave up on and sent again is accepted"
    results.append(_result(name, problems, evidence, _event_side(options)))
    return results, [funds_id, resent_id]


async def _credit(
    op: OperatorClient,
    path: str,
    request: dict[str, Any],
    ft_id: str,
    extensions: dict[str, Any] | None = None,
) -> Exchange:
    headers = {
        "X-Fasttrack-Id": ft_id,
        "X-Fasttrack-Actionid": "1",
        "X-Fasttrack-Triggerhash": ft_id,
    }
    _, exchange = await op.call(
        "POST", path, endpoint=path[1:], json=request, headers=headers, extensions=extensions
    )
    return exchange


async def _bonus_code(op: OperatorClient, options: VerifyOptions) -> str:
    if options.bonus_code is not None:
        return options.bonus_code
    response, _ = await op.call("GET", "/bonus/list", endpoint="bonus/list")
    body = body_of(response)
    offered = body.get("Data") if isinstance(body, dict) else None
    if isinstance(offered, list) and offered and isinstance(offered[0], dict):
        return str(offered[0].get("value"))
    return "UNKNOWN"  # the credits then fail, and the operator's answer says why


async def _repeated_consent(op: OperatorClient, user: str) -> CheckResult:
    """The opposite of the held consent POSTed twice: each 2xx, GET shows one change; undone."""
    path = f"/userconsents/{user}"
    expected, before = await read_consents(op, user)
    evidence, problems = [before], []
    if expected is None or _SMS not in expected:
        problems.append(f"GET {path} answered {before.status} without {_SMS}")
    else:
        held = expected[_SMS]
        expected = {**expected, _SMS: not held}
        for attempt in ("first", "second"):
            post = await post_consents(op, user, {_SMS: not held})
            seen, after = await read_consents(op, user)
            evidence += [post, after]
            if not _ok(post):
                problems.append(f"the {attempt} POST answered {post.status}, FT expects 2xx")
            elif seen != expected:
                wrong = sorted(k for k in expected if (seen or {}).get(k) != expected[k])
                shown = ", ".join(f"{k} opted_in {(seen or {}).get(k)}" for k in wrong)
                problems.append(f"after the {attempt} identical POST, GET shows {shown}")
        await post_consents(op, user, {_SMS: held})  # as it was
    name = "an identical consent POST sent twice leaves the state of one"
    return _result(name, problems[:1], evidence)


async def _abandoned_lookup(op: OperatorClient, user: str) -> tuple[CheckResult, Any]:
    """A lookup given up on once sent; the same lookup then answers as it did before."""
    path = f"/userdetails/{user}"
    response, first = await op.call("GET", path, endpoint="userdetails")
    details = body_of(response)
    _, abandoned = await op.call("GET", path, endpoint="userdetails", extensions=_ABANDON)
    response, again = await op.call("GET", path, endpoint="userdetails")
    problems = []
    if first.status != 200:
        problems.append(f"the lookup answered {first.status}, FT needs 200")
    elif again.status != 200:
        problems.append(f"after one was abandoned, the lookup answered {again.status}")
    elif body_of(response) != details:
        problems.append("after one was abandoned, the lookup answered a different body")
    name = "a lookup FT gave up on leaves the next one answering as before"
    return _result(name, problems, [first, abandoned, again]), details


async def _token(client: httpx.AsyncClient, spec: AuthSpec, method: str) -> tuple[str, float]:
    """A new access token and its expires_in; TokenError (never with a secret) if none came."""
    params = {
        "grant_type": "client_credentials",
        "client_id": spec.client_id,
        "client_secret": spec.secret,
    }
    try:
        if method == "get":
            response = await client.get(spec.user_or_url, params=params)
        else:
            response = await client.post(spec.user_or_url, json=params)
    except httpx.HTTPError as exc:  # its text may hold the query: only the kind is shown
        msg = f"the token endpoint failed: {type(exc).__name__}"
        raise TokenError(msg) from None
    try:
        body = response.json()
        return str(body["access_token"]), float(body["expires_in"])
    except (ValueError, KeyError, TypeError):
        msg = f"the token endpoint answered {response.status_code} without a token and expires_in"
        raise TokenError(msg) from None


async def _token_expiry(op: OperatorClient, options: VerifyOptions, user: str) -> CheckResult:
    """A token used past its expires_in is refused with 401; a new one then works."""
    spec = parse_operator_auth(options.auth) if options.auth else None
    if spec is None or spec.scheme != "oauth":
        why = f"--auth is {spec.scheme}" if spec else "no --auth"
        message = f"not checked: only OAuth2 tokens expire ({why})"
        return CheckResult(STEP, EXPIRY_CHECK, True, message, skipped=True)
    path, budget = f"/userdetails/{user}", options.token_expiry_wait_seconds
    evidence: list[Exchange] = []
    try:
        token, lifetime = await _token(op.client, spec, options.oauth_method)
        expired_at = time.monotonic() + lifetime + _EXPIRY_MARGIN_SECONDS
        if lifetime > budget:
            message = (
                f"not checked: tokens live {lifetime:g} s, longer than the {budget:g} s "
                f"--token-expiry-wait; pass --token-expiry-wait {math.ceil(lifetime)} "
                "(or give FT's test client shorter-lived tokens) to check it"
            )
            return CheckResult(STEP, EXPIRY_CHECK, True, message, skipped=True)
        evidence.append(await _bearer(op, path, token))
        if evidence[0].status != 200:
            problems = [f"a fresh token answered {evidence[0].status}, FT needs 200"]
            return _result(EXPIRY_CHECK, problems, evidence)
        await asyncio.sleep(max(0.0, expired_at - time.monotonic()))
        evidence.append(await _bearer(op, path, token))
        token, _ = await _token(op.client, spec, options.oauth_method)
        evidence.append(await _bearer(op, path, token))
    except TokenError as exc:
        return _result(EXPIRY_CHECK, [str(exc)], evidence)
    expired, renewed = evidence[1].status, evidence[2].status
    problems = []
    if expired == 200:
        problems.append(f"a token was still accepted after its expires_in of {lifetime:g} s")
    elif expired != 401:
        problems.append(f"an expired token answered {expired}; FT expects 401 to fetch anew")
    elif renewed != 200:
        problems.append(f"after expiry a new token answered {renewed}, FT needs 200")
    return _result(EXPIRY_CHECK, problems, evidence)


async def _bearer(op: OperatorClient, path: str, token: str) -> Exchange:
    """A lookup with this token rather than the client's own (masked in the evidence)."""
    headers = {"Authorization": f"Bearer {token}"}
    _, exchange = await op.call(
        "GET", path, endpoint="userdetails", headers=headers, authenticated=False
    )
    return exchange
