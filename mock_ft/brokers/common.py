"""What the broker transports share: how a message is settled, and how a consumer reports itself.

A broker transport only decodes a message into an `Attempt` and carries out the `Settle` it gets
back: ack, dead-letter, or (by a fault rule) requeue, close its channel, or pause. Everything else
(validation, journal, stream checks, lookups) is the one pipeline REST uses too.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from mock_ft.faults import FaultInjector, FaultRule
from mock_ft.ingest.attempts import Attempt, Outcome
from mock_ft.ingest.faulting import under_rule
from mock_ft.ingest.pipeline import Pipeline

__all__ = [
    "BrokerStatus",
    "Settle",
    "decide",
    "describe",
    "hold_pause",
    "retry_forever",
    "settle",
    "settle_rule",
]

log = logging.getLogger("mock_ft.brokers")

SettleAction = Literal["ack", "dead_letter", "requeue", "close", "pause"]
_BY_RULE: dict[str, SettleAction] = {
    "nack": "requeue",
    "close_channel": "close",
    "pause": "pause",
}


@dataclass(slots=True)
class Settle:
    """What to do with a message: the action, the pipeline's outcome, and a hold in seconds
    (wait that long before acking for `delay`; stop consuming that long for `pause`)."""

    action: SettleAction
    outcome: Outcome
    hold: float = 0.0
    rule_id: int | None = None  # the fault rule that decided it, if any


async def hold_pause(faults: FaultInjector, done: Settle) -> None:
    """Wait out a `pause`: its hold, or less if its rule is removed first (DELETE
    /_mock/faults ends a pause in progress, so nobody has to wait out a long one)."""
    loop = asyncio.get_running_loop()
    ended = asyncio.Event()

    def removed(ids: frozenset[int]) -> None:
        if done.rule_id in ids:
            loop.call_soon_threadsafe(ended.set)

    stop_watching = faults.watch_removals(removed)
    if all(rule.id != done.rule_id for rule in faults.rules()):
        ended.set()  # removed before we started watching
    try:
        async with asyncio.timeout(done.hold):
            await ended.wait()
    except TimeoutError:
        pass
    finally:
        stop_watching()


async def decide(faults: FaultInjector, attempt: Attempt) -> FaultRule | None:
    """The fault rule acting on this message, if any (counted as a hit)."""
    if not faults.active:  # the common case: no rules, no work
        return None
    return await faults.decide(attempt.transport, None, attempt.event_type, attempt.body)


async def settle(pipeline: Pipeline, attempt: Attempt) -> Settle:
    """Run the message through the pipeline: ack what FT accepts, dead-letter what it rejects."""
    outcome = await pipeline.ingest(attempt)
    return Settle("ack" if outcome.accepted else "dead_letter", outcome)


async def settle_rule(pipeline: Pipeline, attempt: Attempt, rule: FaultRule) -> Settle:
    """Do what a fault rule says to a message, journaling the rule with the attempt."""
    outcome = await under_rule(pipeline, attempt, rule, lambda: pipeline.ingest(attempt))
    if rule.action == "delay":  # FT takes it as usual; only the ack is late
        return Settle("ack" if outcome.accepted else "dead_letter", outcome, rule.hold_seconds())
    return Settle(_BY_RULE[rule.action], outcome, rule.hold_seconds(), rule.id)


@dataclass(slots=True)
class BrokerStatus:
    """How a consumer is doing, for /_mock/health."""

    transport: str
    target: str  # where it consumes from, without credentials
    state: Literal["starting", "connected", "reconnecting", "paused", "stopped"] = "starting"
    error: str | None = None
    consumed: int = 0
    redeliveries_skipped: int = 0
    batches: int = 0  # RabbitMQ deliveries / Kafka fetches journaled, one group commit each
    partitions: list[str] = dataclasses.field(default_factory=list)  # Kafka: `topic:partition`

    def public(self) -> dict[str, object]:
        return dataclasses.asdict(self)


async def retry_forever(
    status: BrokerStatus,
    connect: Callable[[], Awaitable[None]],
    *,
    secret: str | None = None,
    cap: float = 5.0,
) -> None:
    """Call `connect()` until it works, backing off to `cap` seconds; record why it failed
    (with `secret`, e.g. the URL's password, blanked out of the message)."""
    delay = 0.2
    while True:
        try:
            await connect()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            status.state = "reconnecting"
            error = describe(exc)
            error = error.replace(secret, "***") if secret else error
            if error != status.error:  # once per distinct failure, not once per retry
                log.warning(
                    "%s: cannot consume from %s (%s); retrying",
                    status.transport,
                    status.target,
                    error,
                )
            status.error = error
            await asyncio.sleep(delay)
            delay = min(cap, delay * 2)
        else:
            status.state, status.error = "connected", None
            return


def describe(exc: BaseException) -> str:
    """`Type: message`, without the type twice when the message already starts with it."""
    name, text = type(exc).__name__, str(exc)
    return text if text.startswith(name) else f"{name}: {text}" if text else name
