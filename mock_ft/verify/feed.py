"""Latency budgets, and the event side as a running mock saw it (`--ft-url`)."""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

import httpx

from mock_ft.verify.delivery import check_delivery
from mock_ft.verify.model import CheckResult, VerifyOptions

__all__ = ["MANDATORY_EVENTS", "check_event_feed", "check_latency", "percentile"]

# FT's minimum viable feed: registrations, logins and (approved) payments.
MANDATORY_EVENTS = ("USER_CREATE_V2", "LOGIN_V2", "PAYMENT")
_SETTLE_SECONDS = 0.3  # how long a complete picture must hold before it is judged
_GAP_WARNINGS = ("unregistered_user", "payment_transition", "orphan_outcome")
# What a test user does on the operator's platform so that each mandatory event is published.
_HOW_TO_PUBLISH = {
    "USER_CREATE_V2": "register the test user on your platform",
    "LOGIN_V2": "log the test user in on your platform",
    "PAYMENT": "make an approved deposit as the test user on your platform",
}


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def check_latency(latencies: dict[str, list[float]], options: VerifyOptions) -> list[CheckResult]:
    """p95 of each endpoint within the budget (p50 and p99 reported)."""
    results = []
    for endpoint, values in sorted(latencies.items()):
        p50, p95, p99 = (percentile(values, q) for q in (0.5, 0.95, 0.99))
        passed = p95 <= options.p95_budget_ms
        message = (
            f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms over {len(values)} call(s); "
            f"budget p95 {options.p95_budget_ms:g} ms"
        )
        name = f"{endpoint} answers within the latency budget"
        results.append(CheckResult("Latency", name, passed, message))
    return results


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
) -> list[CheckResult]:
    """What the mock received: mandatory types valid, on time, once, nothing lost."""
    assert options.ft_url is not None  # noqa: S101 - only called with --ft-url
    ft_url = options.ft_url.rstrip("/")
    deadline = time.time() + 1.5
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
                f"no USER_CONSENTS_V2 of user {user} reached FT within 1 s of the opt-out: "
                "publish USER_CONSENTS_V2 whenever consents change, also when FT changes them "
                "through POST /userconsents"
            ]
        )
        results.append(_check("a consent opt-out is published as USER_CONSENTS_V2", problems))
    events = await _events(client, ft_url)
    for event_type in MANDATORY_EVENTS:
        mine = [e for e in events if e["event_type"] == event_type]
        problems = _missing(event_type, mine, options)
        results.append(_check(f"{event_type} events reach FT valid", problems))
    rejected = [e for e in events if e["verdict"] == "rejected"]
    problems = [
        f"#{e['id']} {e['event_type']}: "
        + "; ".join(f"{p['path']} {p['message']}" for p in e["errors"][:2])
        for e in rejected[:5]
    ]
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
    complete_since: float | None = None
    while repeated_ft_ids:  # one bonus (user_bonus_id) each, however many BONUS events tell it
        bonuses = await _events(client, ft_url, type="BONUS", order="desc")  # this run's: newest
        credited: dict[str, set[Any]] = {ft_id: set() for ft_id in repeated_ft_ids}
        for event in bonuses:
            payload = event["payload"] or {}
            ft_id = payload.get("fasttrack_references", {}).get("id")
            if ft_id in credited:
                credited[ft_id].add(payload.get("user_bonus_id"))
        now = time.time()
        if all(credited.values()):
            # Every id credited: give a second credit of the same id a moment to arrive too.
            complete_since = complete_since or now
        if (complete_since and now - complete_since >= _SETTLE_SECONDS) or now >= deadline:
            problems = [
                f"X-Fasttrack-Id {ft_id}: {len(ids)} bonuses in BONUS events, not 1"
                + (_NO_BONUS_EVENT if not ids else "")
                for ft_id, ids in credited.items()
                if len(ids) != 1
            ]
            results.append(_check("a repeated X-Fasttrack-Id credits the bonus once", problems))
            break
        await _pause()  # the last credits may still be on their way
    return results


_NO_BONUS_EVENT = (
    " (no BONUS event names it: publish BONUS when FT credits a bonus, with the X-Fasttrack-* "
    "headers in fasttrack_references)"
)


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
