"""The event side's delivery guarantees, from the running mock's delivery report (`--ft-url`)."""

from __future__ import annotations

from typing import Any

import httpx

from mock_ft.terminal import human_ms
from mock_ft.verify.model import CheckResult

__all__ = ["check_delivery", "delivery_summary"]

STEP = "Event feed"


async def check_delivery(client: httpx.AsyncClient, ft_url: str) -> list[CheckResult]:
    """Nothing lost or accepted twice, Retry-After honoured, no hammering: as the mock saw it."""
    response = await client.get(f"{ft_url}/_mock/delivery")
    response.raise_for_status()
    report: dict[str, Any] = response.json()
    figures = delivery_summary(report)
    examples = report["examples"]
    retry_after = report["retry_after"]
    return [
        _check(
            "events FT refused are retried until accepted",
            [f"{report['lost']} event(s) never delivered after FT refused them"]
            if report["lost"]
            else [],
            figures,
            examples.get("lost"),
        ),
        _check(
            "each event is accepted once",
            [f"{report['duplicated']} event(s) accepted again after FT had answered 200"]
            if report["duplicated"]
            else [],
            f"{report['redelivered_after_lost_answer']} re-delivery(ies) after a lost answer, "
            "as FT expects",
            examples.get("duplicated"),
        ),
        _check(
            "retries wait as long as Retry-After asks",
            [f"{retry_after['ignored']} of {retry_after['asked']} retries came sooner"]
            if retry_after["ignored"]
            else [],
            f"{retry_after['honoured']} of {retry_after['asked']} honoured",
            examples.get("retry_after_ignored"),
        ),
        _check(
            "retries back off instead of hammering FT",
            [f"{report['hammering']} retries within {report['hammer_ms']:g} ms of a failure"]
            if report["hammering"]
            else [],
            f"retry gap min {_ms(report['retry_gap_ms']['min'])}, "
            f"p50 {_ms(report['retry_gap_ms']['p50'])}",
            examples.get("hammering"),
        ),
    ]


def delivery_summary(report: dict[str, Any]) -> str:
    """One line of the report's figures, for people."""
    return (
        f"{report['delivered']} event(s) delivered in {report['attempts']} attempt(s) "
        f"({report['faulted_attempts']} faulted), at most {report['max_attempts']} per event; "
        f"delivery latency p99 {_ms(report['latency_ms']['p99'])}, "
        f"max {_ms(report['latency_ms']['max'])}"
    )


def _ms(value: float | None) -> str:
    return human_ms(value)


def _check(name: str, problems: list[str], figures: str, keys: list[str] | None) -> CheckResult:
    if not problems:
        return CheckResult(STEP, name, True, f"as FT expects: {figures}")
    where = f" (e.g. {', '.join(keys[:3])})" if keys else ""
    return CheckResult(STEP, name, False, "; ".join(problems) + where)
