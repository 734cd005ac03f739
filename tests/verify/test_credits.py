"""Credits proven from given BONUS events: shown, echoed, of their amount, refused ones absent."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from mock_ft.verify.credits import check_credits
from mock_ft.verify.model import CheckResult, Credit

T0 = 1_000.0


def _bonus(
    ft_id: str | None, amount: float, user: str = "u1", bonus: str = "ub-1"
) -> dict[str, Any]:
    payload: dict[str, Any] = {"amount": amount, "user_bonus_id": bonus}
    if ft_id is not None:
        payload["fasttrack_references"] = {"id": ft_id, "action_id": 1, "trigger_hash": ft_id}
    return {"user_id": user, "received_at": T0 + 1, "payload": payload}


def _credit(ft_id: str, amount: float | None = None, valid: bool = True) -> Credit:
    endpoint = "bonus/credit/funds" if amount is not None else "bonus/credit"
    return Credit(ft_id, endpoint, "u1", T0, amount, valid, accepted=valid)


def _verdicts(
    events: list[dict[str, Any]], credits: list[Credit], repeated: list[str], wait: float = 5
) -> dict[str, str]:
    """The checks' verdicts on `events`; `wait` is a hang guard when every credit shows."""

    async def fetch(**_: Any) -> list[dict[str, Any]]:
        return events

    results: list[CheckResult] = asyncio.run(
        check_credits(fetch, credits, repeated, time.time() + wait)
    )
    return {r.name: ("pass" if r.passed else r.message) for r in results}


def test_pass_credits_shown_with_their_amount() -> None:
    verdicts = _verdicts(
        [_bonus("a", 10.0), _bonus("f", 1.37, bonus="ub-2")],
        [_credit("a"), _credit("f", 1.37), _credit("x", valid=False)],
        ["a"],
    )
    assert set(verdicts.values()) == {"pass"}
    assert len(verdicts) == 5


def test_fail_each_way_a_credit_can_be_wrong() -> None:
    """Not shown, shown without references, another amount, a refused one credited, twice."""
    events = [
        _bonus("f", 1.0),
        _bonus("x", 5.0),
        _bonus("r", 1.0, bonus="ub-1"),
        _bonus("r", 1.0, bonus="ub-2"),
        _bonus(None, 3.0),
    ]
    credits = [_credit("a"), _credit("f", 1.37), _credit("x", valid=False)]
    # "a" never shows, so the check waits for it until its deadline: these events are all
    # there will be, so the deadline is now (5 s would wait 5 s for the same verdicts).
    verdicts = _verdicts(events, credits, ["r"], wait=0)
    assert verdicts == {
        "a repeated X-Fasttrack-Id credits the bonus once": (
            "X-Fasttrack-Id r: 2 bonuses in BONUS events, not 1"
        ),
        "an accepted bonus credit shows as a BONUS event with its X-Fasttrack-Id": (
            "bonus/credit answered 2xx, no BONUS event carries a "
            "(1 BONUS event(s) since carry no fasttrack_references)"
        ),
        "BONUS events echo FT's X-Fasttrack-* headers in fasttrack_references": (
            "1 BONUS event(s) after FT's credits lack fasttrack_references"
        ),
        "bonus/credit/funds credits the amount FT sent": (
            "f: asked for 1.37, a BONUS event says 1.0"
        ),
        "an FT-invalid bonus credit credits nothing": (
            "bonus/credit x was FT-invalid, yet a BONUS event shows it"
        ),
    }


def test_skip_without_credits() -> None:
    assert _verdicts([], [], []) == {}
