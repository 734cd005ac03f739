"""An attempt a fault rule acts on, journaled the same way whichever transport brought it.

The transports differ only in how they carry the rule out afterwards (an HTTP status, no answer,
a dropped connection; a requeue, a closed channel, a pause): `under_rule` decides what the journal
records and what the `Outcome` says, once for all of them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from mock_ft.faults import FaultRule
from mock_ft.ingest.attempts import Attempt, Outcome
from mock_ft.ingest.pipeline import Pipeline

__all__ = ["TAKES_EVENT", "under_rule"]

# Actions after which FT has the event as usual: only the answer (or the ack) suffers.
TAKES_EVENT = frozenset({"delay", "drop_answer"})
# What an action does instead of answering, in the words the journal and the publisher see.
_EFFECT = {
    "nack": "put the message back",
    "close_channel": "closed the channel before the ack",
    "pause": "paused consumption and put the message back",
}


async def under_rule(
    pipeline: Pipeline,
    attempt: Attempt,
    rule: FaultRule,
    take: Callable[[], Awaitable[Outcome]],
) -> Outcome:
    """Journal `attempt` with the rule that hit it: taken by `take()` (the transport's usual way
    in) for `delay` and `drop_answer`; otherwise refused as `faulted` with the rule's answer
    (its status and Retry-After; status 0 when nothing is answered)."""
    attempt.fault = rule.describe()
    if rule.action in TAKES_EVENT:
        return await take()
    status = rule.status if rule.action == "status" else 0
    effect = _EFFECT.get(rule.action) or (
        f"answers {status}" if status else f"answers nothing ({rule.action})"
    )
    message = f"fault rule #{rule.id} {effect} (set through /_mock/faults)"
    return await pipeline.fault(attempt, status, message, rule.retry_after if status else None)
