"""RabbitMQ deliveries taken in batches: what has arrived is journaled as one group commit, then
acknowledged with one `multiple=True` ack.

Handled one by one, each delivery paid for its own tasks, its own journal wait and its own ack
frame (a write and a drain); at a steady rate aiormq hands deliveries over a few at a time, so
the journal committed 3-4 events per transaction. Here the consume callback only queues the
message; one runner takes what is queued (up to a quarter of the prefetch window, so the broker
keeps sending meanwhile), journals it (one group commit), then settles it, while the next
deliveries queue up behind.

`multiple=True` acks every unacked delivery of the channel up to its tag, so it must cover only
what is durable and meant to be acked:
- refusals (dead-letter, requeue, pause) are sent one by one before the batch's ack;
- a message whose settling waits (a `delay` rule) or whose journaling failed is *held*: while it
  is, acks of later tags on its channel go one by one, never `multiple`;
- a batch with a `close_channel` hit settles nothing: the channel closes and the broker sends it
  all again (redeliveries the journal holds are acked without a second entry).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import weakref
from contextlib import suppress
from typing import Any, Protocol

from aio_pika.abc import AbstractIncomingMessage

from mock_ft.brokers.common import BrokerStatus, Settle, decide, settle, settle_rule
from mock_ft.faults import FaultInjector
from mock_ft.ingest.attempts import Attempt, mask_headers
from mock_ft.ingest.pipeline import Pipeline

__all__ = ["Batches", "Channel", "attempt_of"]

log = logging.getLogger("mock_ft.brokers.rabbitmq")


class Channel(Protocol):
    """What a batch needs from its consumer: fault actions on the channel, and whether a
    message's channel was closed by a fault rule."""

    status: BrokerStatus

    async def pause(self, message: AbstractIncomingMessage, done: Settle) -> None: ...

    async def close(self) -> None: ...

    def gone(self, message: AbstractIncomingMessage) -> bool: ...


class Batches:
    """Queues deliveries (`take`) and journals and settles them a batch at a time."""

    def __init__(
        self,
        pipeline: Pipeline,
        faults: FaultInjector,
        channel: Channel,
        secret_header: str,
        prefetch: int,
    ) -> None:
        # A batch of the whole prefetch window would leave the broker nothing to send while it is
        # journaled: a quarter keeps deliveries flowing behind the batch in hand.
        self.most = max(1, prefetch // 4)
        self.pipeline = pipeline
        self.faults = faults
        self.channel = channel
        self.secret_header = secret_header
        self._waiting: list[AbstractIncomingMessage] = []
        self._arrived = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._runner: asyncio.Task[None] | None = None
        self._holds: set[asyncio.Task[None]] = set()
        # Per aiormq channel, the delivery tags a `multiple` ack must not cover yet.
        self._held: weakref.WeakKeyDictionary[Any, set[int]] = weakref.WeakKeyDictionary()

    async def take(self, message: AbstractIncomingMessage) -> None:
        """The consume callback: queue the delivery for the next batch."""
        self._waiting.append(message)
        self._idle.clear()
        self._arrived.set()
        if self._runner is None:
            self._runner = asyncio.create_task(self._run())

    async def finish(self, grace: float) -> None:
        """Journal and settle what has arrived (up to `grace` seconds), then stop.

        Holds of `delay` rules are not waited out: a hold may be minutes long, and a message
        left unacked is one the broker delivers again, which the journal recognises (its
        `broker_ref`) and acks without a second entry. Nothing journaled is lost."""
        with suppress(TimeoutError):
            async with asyncio.timeout(grace):
                await self._idle.wait()
        tasks = [*self._holds, *([self._runner] if self._runner else [])]
        self._runner = None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            await self._arrived.wait()
            await asyncio.sleep(0)  # the callbacks of deliveries read with this one run first
            batch, self._waiting = self._waiting[: self.most], self._waiting[self.most :]
            if not self._waiting:
                self._arrived.clear()
            try:
                await self._settle_batch(batch)
            except Exception:  # a channel closed under us: the broker redelivers, nothing is lost
                log.debug("rabbitmq: could not settle a batch", exc_info=True)
            if not self._waiting:
                self._idle.set()

    async def _settle_batch(self, batch: list[AbstractIncomingMessage]) -> None:
        live = [m for m in batch if not self.channel.gone(m)]
        if not live:
            return
        status = self.channel.status
        status.consumed += len(live)
        status.batches += 1
        attempts = [attempt_of(m, self.secret_header) for m in live]
        known = await self._journaled(live, attempts)
        acks: list[AbstractIncomingMessage] = []
        jobs: list[tuple[AbstractIncomingMessage, Any]] = []
        for message, attempt, seen in zip(live, attempts, known, strict=True):
            if seen:
                status.redeliveries_skipped += 1
                acks.append(message)
                continue
            rule = await decide(self.faults, attempt)
            work = (
                settle(self.pipeline, attempt)
                if rule is None
                else settle_rule(self.pipeline, attempt, rule)
            )
            jobs.append((message, work))
        # Tasks start in order: journal order = delivery order, all in one group commit.
        results = await asyncio.gather(*(work for _, work in jobs), return_exceptions=True)
        outcomes = [(m, r) for (m, _), r in zip(jobs, results, strict=True)]
        status.redeliveries_skipped += sum(
            isinstance(r, Settle) and r.outcome.already for r in results
        )
        if any(isinstance(r, Settle) and r.action == "close" for _, r in outcomes):
            await self.channel.close()
            return
        await self._settle(outcomes, acks)

    async def _journaled(
        self, messages: list[AbstractIncomingMessage], attempts: list[Attempt]
    ) -> list[bool]:
        """Which deliveries are redeliveries of what the journal already holds: they are acked
        before any fault rule sees them. A redelivery whose first delivery another instance is
        still journaling is not found here; the journal's transaction finds it (pipeline._already,
        under a lock its first delivery's batch holds until it ends)."""
        redelivered = [
            i for i, m in enumerate(messages) if m.redelivered and attempts[i].broker_ref
        ]
        known = [False] * len(messages)
        if redelivered:
            ids = await asyncio.gather(
                *(self.pipeline.journaled_as(attempts[i].broker_ref or "") for i in redelivered)
            )
            for i, event_id in zip(redelivered, ids, strict=True):
                known[i] = event_id is not None
        return known

    async def _settle(
        self,
        outcomes: list[tuple[AbstractIncomingMessage, Settle | BaseException]],
        acks: list[AbstractIncomingMessage],
    ) -> None:
        """Refusals one by one, holds aside, then one `multiple` ack per channel."""
        for message, done in outcomes:
            if isinstance(done, BaseException):
                log.debug("rabbitmq: could not journal a message", exc_info=done)
                self._hold(message)  # never acked on this channel; redelivered when it closes
            elif done.hold and done.action in ("ack", "dead_letter"):
                self._hold(message, done)
            elif done.action == "ack":
                acks.append(message)
            elif done.action == "dead_letter":  # to the dead-letter exchange; the journal says why
                await message.reject(requeue=False)
            elif done.action == "requeue":
                await message.nack(requeue=True)
            else:  # pause
                await self.channel.pause(message, done)
        await self._ack(acks)

    async def _ack(self, messages: list[AbstractIncomingMessage]) -> None:
        by_channel: dict[Any, list[AbstractIncomingMessage]] = {}
        for message in messages:
            if not self.channel.gone(message):
                by_channel.setdefault(message.channel, []).append(message)
        for channel, taken in by_channel.items():
            taken.sort(key=_tag)
            held = self._held.get(channel)
            floor = min(held) if held else None
            below = [m for m in taken if floor is None or _tag(m) < floor]
            if below:
                await below[-1].ack(multiple=True)
            for message in taken[len(below) :]:  # above a held tag: one by one
                await message.ack()

    def _hold(self, message: AbstractIncomingMessage, done: Settle | None = None) -> None:
        self._held.setdefault(message.channel, set()).add(_tag(message))
        if done is not None:
            task = asyncio.create_task(self._release(message, done))
            self._holds.add(task)
            task.add_done_callback(self._holds.discard)

    async def _release(self, message: AbstractIncomingMessage, done: Settle) -> None:
        """A `delay` rule: settle the message alone after its hold."""
        channel = message.channel
        try:
            await asyncio.sleep(done.hold)
            if self.channel.gone(message):
                return
            if done.action == "ack":
                await message.ack()
            else:
                await message.reject(requeue=False)
        except Exception:
            log.debug("rabbitmq: could not settle a held message", exc_info=True)
        finally:
            held = self._held.get(channel)
            if held is not None:
                held.discard(_tag(message))


def _tag(message: AbstractIncomingMessage) -> int:
    return message.delivery_tag or 0


def attempt_of(message: AbstractIncomingMessage, secret_header: str) -> Attempt:
    """The pipeline's view of a delivery; its identity (message id, type, body) finds its
    redeliveries in the journal."""
    body = message.body
    event_type = message.type or None
    headers: dict[str, str] = {
        "amqp.exchange": message.exchange or "",
        "amqp.routing_key": message.routing_key or "",
        "amqp.redelivered": "true" if message.redelivered else "false",
    }
    for name in ("type", "message_id", "content_type", "app_id", "correlation_id"):
        value = getattr(message, name)
        if value:
            headers[f"amqp.{name}"] = str(value)
    extra = {f"header.{k}": str(v) for k, v in (message.headers or {}).items()}
    headers.update(mask_headers(extra, secret_header))
    identity = hashlib.blake2b(digest_size=16)
    for part in (message.message_id or "", event_type or ""):
        identity.update(part.encode() + b"\0")
    identity.update(body)
    return Attempt(
        transport="rabbitmq",
        received_at=time.time(),
        body=body,
        event_type=event_type,
        headers=headers,
        broker_ref="amqp:" + identity.hexdigest(),
        redelivered=bool(message.redelivered),
    )
