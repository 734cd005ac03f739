"""The event side as a running mock saw it (`--ft-url`)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from mock_ft.verify.credits import check_credits
from mock_ft.verify.delivery import check_delivery
from mock_ft.verify.model import CheckResult, Credit, VerifyOptions

__all__ = ["MANDATORY_EVENTS", "check_event_feed"]

# FT's minimum viable feed: registrations, logins and (approved) payments.
MANDATORY_EVENTS = ("USER_CREATE_V2", "LOGIN_V2", "PAYMENT")
_GAP_WARNINGS = ("unregistered_user", "payment_transition", "orphan_outcome")
# What a test user does on the operator's platform so that each mandatory event is published.
_HOW_TO_PUBLISH = {
    "USER_CREATE_V2": "register the test user on your platform",
    "LOGIN_V2": "log the test user in on your platform",
    "PAYMENT": "make an approved deposit as the test user on your platform",
}


async def _events(client: httpx.AsyncClient, ft_url: str, **params: Any) -> list[dict[str, Any]]:
    response = await client.get(f"{ft_url}/_mock/events", params={"limit": 1000, **params})
    response.raise_for_status()
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def check_event_feed(
    client: httpx.AsyncClient,
    options: VerifyOptions,
    opt_outs: list[tuple[str, float]],
    repeated_ft_ids: list[str],
    credits: list[Credit] | None = None,
) -> list[CheckResult]:
    """What the mock received: mandatory types valid, on time, once, nothing lost; credits."""
    credits = credits or []
    assert options.ft_url is not None  # noqa: S101 - only called with --ft-url
    ft_url = options.ft_url.rstrip("/")
    deadline = time.time() + options.event_wait_seconds
    results = []
    for user, posted_at in opt_outs:  # FT expects the event within 1 s of the change
        arrived: list[dict[str, Any]] = []
        while not arrived and time.time() < deadline:
            events = await _events(client, ft_url, type="USER_CONSENTS_V2", user_id=user)
            arrived = [e for e in events if e["received_at"] >= posted_at]
            if not arrived:
                await _pause()
        problems = (
            []
            if arrived
            else [
                f"no USER_CONSENTS_V2 of user {user} reached FT within 1 s of the change: "
                "publish USER_CONSENTS_V2 whenever consents change, also when FT changes them "
                "through POST /userconsents"
            ]
        )
        name = "a consent change by POST /userconsents is published as USER_CONSENTS_V2"
        results.append(_check(name, problems))
    events = await _events(client, ft_url)
    for event_type in MANDATORY_EVENTS:
        mine = [e for e in events if e["event_type"] == event_type]
        problems = _missing(event_type, mine, options)
        results.append(_check(f"{event_type} events reach FT valid", problems))
    rejected = [e for e in events if e["verdict"] == "rejected"]
    problems = [_rejection(e) for e in rejected[:5]]
    if len(rejected) > 5:
        problems.append(f"{len(rejected) - 5} more at {ft_url}/_mock/events?verdict=rejected")
    results.append(_check("every event passes FT's validation", problems))
    late = [e for e in events if any(w["code"] == "late_delivery" for w in e["warnings"])]
    problems = [f"{len(late)} event(s) arrived more than 1 s after their timestamp"] if late else []
    results.append(_check("events arrive within FT's 1-second target", problems))
    gaps = [w["code"] for e in events for w in e["warnings"] if w["code"] in _GAP_WARNINGS]
    problems = (
        [f"{len(gaps)} gap(s) in the stream ({', '.join(sorted(set(gaps)))})"] if gaps else []
    )
    results.append(_check("no event is missing from the stream", problems))
    results += await check_delivery(client, ft_url)  # lost, duplicated, Retry-After, back-off
    results.append(await _lookups(client, ft_url))

    async def fetch(**params: Any) -> list[dict[str, Any]]:
        return await _events(client, ft_url, **params)

    results += await check_credits(fetch, credits, repeated_ft_ids, deadline)
    return results


def _rejection(event: dict[str, Any]) -> str:
    """`#73 POST /v2/integration/logn: unknown_endpoint`: what was refused, and why."""
    what = event["event_type"] or " ".join(
        str(part) for part in (event.get("method"), event.get("path")) if part
    )
    why = "; ".join(f"{p['path']} {p['message']}" for p in event["errors"])
    return f"#{event['id']} {what or event['transport']}: {why or event['error_code']}"


def _missing(event_type: str, mine: list[dict[str, Any]], options: VerifyOptions) -> list[str]:
    """Nothing when one arrived valid; else what is missing and what to do about it."""
    if any(e["verdict"] == "accepted" for e in mine):
        return []
    users = ", ".join(options.user_ids)
    if mine:
        return [
            f"{len(mine)} {event_type} arrived, none valid: fix what "
            "'every event passes FT's validation' lists, then rerun"
        ]
    return [
        f"no {event_type} has reached the mock yet (test users {users}): "
        f"{_HOW_TO_PUBLISH[event_type]}, publishing to {options.ft_url}, then rerun"
    ]


async def _lookups(client: httpx.AsyncClient, ft_url: str) -> CheckResult:
    """The mock's own FT-style lookups of this operator (when it was given --operator-url)."""
    response = await client.get(f"{ft_url}/_mock/lookups", params={"ok": "false", "limit": 5})
    response.raise_for_status()
    failed = response.json()["data"]
    name = "the mock's FT-style lookups of the operator succeed"
    if not failed:
        return _check(name, [])
    first = failed[0]
    why = first["error"] or "; ".join(f"{p['path']} {p['message']}" for p in first["problems"][:2])
    return _check(name, [f"{first['endpoint']} for user {first['user_id']}: {why}"])


def _check(name: str, problems: list[str]) -> CheckResult:
    message = "; ".join(problems) if problems else "as FT expects"
    return CheckResult("Event feed", name, not problems, message)


async def _pause() -> None:
    await asyncio.sleep(0.1)
