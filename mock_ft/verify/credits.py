"""Bonus credits proven on the event side: what the BONUS events FT received say was credited.

The Operator API has no way to read a bonus back, so a credit is proven by its BONUS events,
which echo FT's X-Fasttrack-* headers in `fasttrack_references` (facts file, 3.8): each
accepted credit shows there with its own X-Fasttrack-Id and the amount FT asked for, a repeated
id is one bonus, and no FT-invalid credit shows at all.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from mock_ft.verify.model import CheckResult, Credit

__all__ = ["check_credits"]

STEP = "Event feed"
_SETTLE_SECONDS = 0.3  # how long a complete picture must hold before it is judged
_NO_BONUS_EVENT = (
    " (no BONUS event names it: publish BONUS when FT credits a bonus, with the X-Fasttrack-* "
    "headers in fasttrack_references)"
)
Events = Callable[..., Awaitable[list[dict[str, Any]]]]


def _check(name: str, problems: list[str], passed_message: str = "as FT expects") -> CheckResult:
    return CheckResult(STEP, name, not problems, "; ".join(problems[:3]) or passed_message)


async def _credited(events: Events, expected: set[str], deadline: float) -> list[dict[str, Any]]:
    """This run's BONUS events, once every expected id shows (and a moment more), or at deadline."""
    complete_since: float | None = None
    while True:
        bonuses = await events(type="BONUS", order="desc")  # this run's are the newest
        seen = {_ft_id(event["payload"] or {}) for event in bonuses}
        now = time.time()
        if expected <= seen:  # give second credits of one id, or refused ones, time to show
            complete_since = complete_since or now
        if (complete_since and now - complete_since >= _SETTLE_SECONDS) or now >= deadline:
            return bonuses
        await asyncio.sleep(0.1)


def _ft_id(payload: dict[str, Any]) -> str | None:
    references = payload.get("fasttrack_references")
    return references.get("id") if isinstance(references, dict) else None


async def check_credits(
    events: Events, credits: list[Credit], repeated: list[str], deadline: float
) -> list[CheckResult]:
    """One bonus per repeated id; each accepted credit shown, echoed, of its amount; no refused."""
    proven = [c for c in credits if c.valid and c.accepted]
    if not proven and not repeated:
        return []
    bonuses = await _credited(events, {c.ft_id for c in proven} | set(repeated), deadline)
    by_id: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in bonuses:
        payload = event["payload"] or {}
        by_id[str(_ft_id(payload))].append(payload)
    results = []
    if repeated:
        problems = [
            f"X-Fasttrack-Id {ft_id}: {n} bonuses in BONUS events, not 1"
            + ("" if n else _NO_BONUS_EVENT)
            for ft_id in repeated
            if (n := len({p.get("user_bonus_id") for p in by_id.get(ft_id, [])})) != 1
        ]
        results.append(_check("a repeated X-Fasttrack-Id credits the bonus once", problems))
    first_sent = min((c.sent_at for c in credits), default=time.time())
    users = {c.user_id for c in credits}
    bare = [
        e
        for e in bonuses
        if e["user_id"] in users
        and e["received_at"] >= first_sent
        and _ft_id(e["payload"] or {}) is None
    ]
    missing = [c for c in proven if c.ft_id not in by_id]
    why = f" ({len(bare)} BONUS event(s) since carry no fasttrack_references)" if bare else ""
    problems = [
        f"{c.endpoint} answered 2xx, no BONUS event carries {c.ft_id}{why}" for c in missing
    ]
    name = "an accepted bonus credit shows as a BONUS event with its X-Fasttrack-Id"
    results.append(_check(name, problems))
    problems = (
        [f"{len(bare)} BONUS event(s) after FT's credits lack fasttrack_references"] if bare else []
    )
    for credit in proven:
        for payload in by_id.get(credit.ft_id, [])[:1]:
            references = payload["fasttrack_references"]
            if references.get("trigger_hash") != credit.ft_id or references.get("action_id") != 1:
                problems.append(
                    f"{credit.ft_id}: fasttrack_references {references} lack the headers"
                )
    name = "BONUS events echo FT's X-Fasttrack-* headers in fasttrack_references"
    results.append(_check(name, problems))
    problems = [
        f"{c.ft_id}: asked for {c.amount:g}, a BONUS event says {p.get('amount')}"
        for c in proven
        if c.amount is not None
        for p in by_id.get(c.ft_id, [])[:1]
        if not isinstance(p.get("amount"), (int, float)) or abs(p["amount"] - c.amount) > 0.005
    ]
    results.append(_check("bonus/credit/funds credits the amount FT sent", problems))
    refused = [c for c in credits if not c.valid and c.ft_id in by_id]
    problems = [
        f"{c.endpoint} {c.ft_id} was FT-invalid, yet a BONUS event shows it" for c in refused
    ]
    name = "an FT-invalid bonus credit credits nothing"
    sent = sum(not c.valid for c in credits)
    results.append(_check(name, problems, f"none of {sent} shows in BONUS events"))
    return results
