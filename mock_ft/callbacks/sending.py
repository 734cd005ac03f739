"""One callback request as FT sends it: the X-Fasttrack-* headers, one attempt, and whether and
when to try again."""

from __future__ import annotations

import hashlib
import time
import uuid

import httpx

from mock_ft.callbacks.rules import Rule
from mock_ft.journal.callbacks import CallAttempt

__all__ = ["MAX_BACKOFF", "ft_headers", "send_once"]

MAX_BACKOFF = 5.0
_ID_SPACE = uuid.UUID("5b0f0c2e-7a53-4d7e-9a3c-3c1f6f0f7f11")


async def send_once(
    client: httpx.AsyncClient, rule: Rule, url: str, headers: dict[str, str], content: bytes | None
) -> tuple[CallAttempt, httpx.Response | None, float | None]:
    """One request; the wait before a retry (-1: the back-off; None: do not retry)."""
    attempt = CallAttempt(time.time())
    started = time.perf_counter()
    timeout = rule.spec.timeout_seconds
    try:
        response = await client.request(
            rule.spec.request.method, url, headers=headers, content=content, timeout=timeout
        )
    except httpx.TimeoutException:
        attempt.error = f"no answer within {timeout:g} s (the rule's timeout_seconds)"
    except httpx.HTTPError as exc:
        attempt.error = _describe(exc)
    else:
        attempt.status_code = response.status_code
        attempt.latency_ms = round((time.perf_counter() - started) * 1000, 3)
        if response.is_success:
            return attempt, response, None
        attempt.error = f"answered {response.status_code}"
        if response.status_code == 401:
            attempt.error += "; check the rule's api_key (or MOCK_FT_CALLBACK_API_KEY)"
        if response.status_code == 429:
            return attempt, response, _retry_after(response)
        return attempt, response, (-1.0 if response.status_code >= 500 else None)
    attempt.latency_ms = round((time.perf_counter() - started) * 1000, 3)
    return attempt, None, -1.0


def ft_headers(rule: Rule, event_id: int, user_id: str) -> dict[str, str]:
    """FT's X-Fasttrack-* headers (facts file 3.8), the same on every attempt, and x-api-key."""
    spec = rule.spec
    trigger = f"{spec.activity_id}:{spec.action_id}:{user_id}:{event_id}"
    headers = {
        "X-Fasttrack-Id": str(uuid.uuid5(_ID_SPACE, f"{rule.id}:{trigger}")),
        "X-Fasttrack-Activityid": str(spec.activity_id),
        "X-Fasttrack-Actionid": str(spec.action_id),
        "X-Fasttrack-Actiongroupid": str(spec.action_group_id),
        "X-Fasttrack-Actioncommunicationprofileid": str(spec.action_communication_profile_id),
        "X-Fasttrack-Triggerhash": hashlib.sha256(trigger.encode()).hexdigest()[:32],
    }
    if rule.api_key:
        headers["x-api-key"] = rule.api_key
    return headers


def _retry_after(response: httpx.Response) -> float:
    value = response.headers.get("retry-after", "")
    return min(float(value), MAX_BACKOFF) if value.isdigit() else -1.0


def _describe(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "cannot connect to the receiver; check the rule's url and that it is up"
    return f"{type(exc).__name__}: {exc}"
