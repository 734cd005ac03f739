"""The writes FT makes, proven: each change read before and after, and changed back.

A write checked by sending a value the user may already hold, then reading it back, proves
nothing. So a consent change sends the opposite of what GET shows, reads it again (the type it
names, the other types, another user, reconciliation), then restores the original. Bonus
credits cannot be undone through the Operator API: they carry a fresh X-Fasttrack-Id and a
fresh amount, and the event feed proves them (`credits.py`).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx

from mock_ft.verify.model import CheckResult, Exchange, VerifyOptions
from mock_ft.verify.operator import OperatorClient, body_of

__all__ = [
    "CHANGED_TYPE",
    "differs",
    "fresh_id",
    "ok",
    "post_consents",
    "prove_consent_change",
    "read_consents",
    "send_credit",
]

STEP = "Consents"
CHANGED_TYPE = "sms"  # FT's unsubscribe page changes email or sms (facts file, 3.5)
_RECONCILED = f"consent_{CHANGED_TYPE}"


def ok(exchange: Exchange) -> bool:
    """True when the operator answered 2xx."""
    return exchange.status is not None and 200 <= exchange.status < 300


def _result(name: str, problems: list[str], evidence: list[Exchange]) -> CheckResult:
    message = "; ".join(problems[:3]) if problems else "as FT expects"
    return CheckResult(STEP, name, not problems, message, evidence)


def _opted(response: httpx.Response | None) -> dict[str, Any] | None:
    body = body_of(response)
    if response is None or response.status_code != 200 or not isinstance(body, dict):
        return None
    consents = body.get("consents")
    items = [c for c in consents if isinstance(c, dict)] if isinstance(consents, list) else []
    return {str(c.get("type")): c.get("opted_in") for c in items}


async def read_consents(op: OperatorClient, user: str) -> tuple[dict[str, Any] | None, Exchange]:
    """The user's consents as {type: opted_in}, or None when GET did not answer them."""
    response, exchange = await op.call("GET", f"/userconsents/{user}", endpoint="userconsents")
    return _opted(response), exchange


async def post_consents(op: OperatorClient, user: str, changes: dict[str, Any]) -> Exchange:
    """POST /userconsents in FT's list form."""
    body = {"consents": [{"opted_in": v, "type": k} for k, v in changes.items()]}
    _, exchange = await op.call("POST", f"/userconsents/{user}", endpoint="userconsents", json=body)
    return exchange


def fresh_id(suffix: str = "") -> str:
    """An X-Fasttrack-Id never sent before."""
    return f"mockft-{uuid.uuid4().hex[:12]}{suffix}"


async def send_credit(
    op: OperatorClient, path: str, body: Any, ft_id: str
) -> tuple[httpx.Response | None, Exchange]:
    """POST a credit with the X-Fasttrack-* headers FT sends."""
    headers = {
        "X-Fasttrack-Id": ft_id,
        "X-Fasttrack-Actionid": "1",
        "X-Fasttrack-Triggerhash": ft_id,
    }
    return await op.call("POST", path, endpoint=path[1:], json=body, headers=headers)


async def _reconciled(op: OperatorClient) -> tuple[set[str] | None, Exchange]:
    response, exchange = await op.call(
        "POST", "/reconciliation", endpoint="reconciliation", json={"field": _RECONCILED}
    )
    body = body_of(response)
    users = body.get("users") if exchange.status == 200 and isinstance(body, dict) else None
    return (set(map(str, users)) if isinstance(users, list) else None), exchange


def differs(before: dict[str, Any], after: dict[str, Any] | None, skip: str = "") -> list[str]:
    after = after or {}
    return [
        f"{kind} opted_in {after.get(kind)} (was {value})"
        for kind, value in sorted(before.items())
        if kind != skip and after.get(kind) != value
    ]


async def prove_consent_change(
    op: OperatorClient, options: VerifyOptions
) -> tuple[list[CheckResult], list[tuple[str, float]]]:
    """Flip one consent, prove it (and only it) changed, flip it back. Returns the change made."""
    user, others = options.user_ids[0], options.user_ids[1:]
    before, first = await read_consents(op, user)
    name = "a consent change by POST /userconsents shows in GET, and changing it back restores it"
    if before is None or CHANGED_TYPE not in before:
        return [
            _result(name, [f"GET /userconsents/{user} answered no {CHANGED_TYPE}"], [first])
        ], []
    others_before = {other: (await read_consents(op, other))[0] for other in others}
    listed_before, _ = await _reconciled(op)
    target = not before[CHANGED_TYPE]
    posted_at = time.time()
    post = await post_consents(op, user, {CHANGED_TYPE: target})
    after, read_after = await read_consents(op, user)
    listed_after, reconciled = await _reconciled(op)
    others_after = {other: (await read_consents(op, other))[0] for other in others}
    restore = await post_consents(op, user, {CHANGED_TYPE: before[CHANGED_TYPE]})
    restored, read_restored = await read_consents(op, user)

    problems = []
    seen = (after or {}).get(CHANGED_TYPE)
    if not ok(post):
        problems.append(f"POST {CHANGED_TYPE} opted_in {target} answered {post.status}")
    elif seen != target:
        problems.append(f"after POSTing {CHANGED_TYPE} opted_in {target}, GET still shows {seen}")
    if not ok(restore):
        problems.append(f"POST {CHANGED_TYPE} back answered {restore.status}")
    elif restored != before:
        problems.append("after changing it back, GET shows " + ", ".join(differs(before, restored)))
    results = [_result(name, problems, [first, post, read_after, restore, read_restored])]

    spilled = differs(before, after, skip=CHANGED_TYPE) if after is not None else []
    name = "a consent change by POST /userconsents changes only the type it names"
    results.append(
        _result(
            name,
            [f"{CHANGED_TYPE} was changed, and so was " + ", ".join(spilled)] if spilled else [],
            [post, read_after],
        )
    )
    name = "a consent change by POST /userconsents leaves other users' consents alone"
    if not others:
        why = "not checked: pass a second --user-id"
        results.append(CheckResult(STEP, name, True, why, skipped=True))
    else:
        leaked = [
            f"{other}: " + ", ".join(differs(held, others_after[other]))
            for other, held in others_before.items()
            if held is not None and differs(held, others_after[other])
        ]
        results.append(_result(name, [f"changing {user} also changed {x}" for x in leaked], [post]))
    results.append(
        _follows(user, before[CHANGED_TYPE], seen, listed_before, listed_after, [post, reconciled])
    )
    return results, [(user, posted_at)] if ok(post) and seen == target else []


def _follows(
    user: str,
    held: Any,
    seen: Any,
    listed_before: set[str] | None,
    listed_after: set[str] | None,
    evidence: list[Exchange],
) -> CheckResult:
    """Reconciliation of the changed consent lists the user exactly when GET says opted in."""
    name = f"reconciliation of {_RECONCILED} follows a consent change"
    problems = []
    for when, listed, truth in (("before", listed_before, held), ("after", listed_after, seen)):
        if listed is None:
            problems.append(f"reconciliation of {_RECONCILED} {when} the change did not answer")
        elif (user in listed) != bool(truth):
            where = "lists" if user in listed else "leaves out"
            problems.append(
                f"{when} the change it {where} {user}, whose GET shows {CHANGED_TYPE} "
                f"opted_in {truth}"
            )
    return _result(name, problems, evidence)
