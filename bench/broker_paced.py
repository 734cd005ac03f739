"""Sustained RabbitMQ rate: publish at a paced rate while a consumer takes the queue; time each
event from its publish to the moment the consumer has it.

The publisher sends the messages due every millisecond (publisher confirms on, awaited in the
background so they never hold the pace back; each confirm is timed too). For the mock, a tail
task in the same loop reads the journal file every `poll` seconds through its own read-only
SQLite connection, keyed by payment_id: latency = client publish, broker routing and persisting,
delivery, the mock's validation and group commit, plus up to one poll until it is seen. For the
bare consumer, it notes the receipt time of each message id itself (same monotonic clock).
"""

from __future__ import annotations

import asyncio
import functools
import time
from pathlib import Path
from typing import Any

from bench.broker_infra import JournalReader
from bench.broker_loads import (
    ROUTING_KEY,
    Payments,
    RabbitNames,
    due,
    latency_summary,
    rabbit_declare,
    rabbit_message,
)

__all__ = ["DRAIN_SECONDS", "WARMUP_EVENTS", "paced_figures", "paced_mock", "paced_publish"]

WARMUP_EVENTS = 200
DRAIN_SECONDS = 30.0  # after the last publish, how long the consumer may take to catch up


class Tail:
    """Notes when each payment id first shows in the journal."""

    def __init__(self, journal: Path, poll: float) -> None:
        self.reader = JournalReader(journal)
        self.poll = poll
        self.seen: dict[str, float] = {}
        self.last_id = 0

    def read(self) -> None:
        rows = self.reader.payments_after(self.last_id)
        now = time.perf_counter()
        for event_id, payment_id in rows:
            self.seen.setdefault(payment_id, now)
            self.last_id = event_id

    async def until(self, wanted: set[str], stop: float) -> None:
        while time.perf_counter() < stop:
            self.read()
            if wanted.issubset(self.seen):
                return
            await asyncio.sleep(self.poll)

    async def follow(self, goal: int, stop: float) -> None:
        """Keep reading while publishing, so each event is seen as soon as it lands."""
        while self.last_id < goal and time.perf_counter() < stop:
            self.read()
            await asyncio.sleep(self.poll)


Published = tuple[dict[str, float], dict[str, float], float]


async def _publish(
    exchange: Any, payments: Payments, first: int, total: int, rate: float
) -> Published:
    """Send payments first..first+total-1 at `rate`/s: when each was published and confirmed by
    the broker, and how long publishing took."""
    sent: dict[str, float] = {}
    confirmed: dict[str, float] = {}
    confirms: list[asyncio.Task[Any]] = []
    started = time.perf_counter()
    count = 0
    while count < total:
        target = due(time.perf_counter() - started, rate, total)
        while count < target:
            _, payment_id, body = payments.body(first + count)
            sent[payment_id] = time.perf_counter()
            message = rabbit_message(body, payment_id)
            task = asyncio.create_task(exchange.publish(message, routing_key=ROUTING_KEY))
            task.add_done_callback(functools.partial(_note, confirmed, payment_id))
            confirms.append(task)
            count += 1
        await asyncio.sleep(0.001)
    seconds = time.perf_counter() - started
    await asyncio.gather(*confirms)
    return sent, confirmed, seconds


def _note(times: dict[str, float], key: str, _: object) -> None:
    times[key] = time.perf_counter()


async def paced_publish(
    url: str,
    names: RabbitNames,
    payments: Payments,
    *,
    rate: float,
    seconds: float,
    tail: Tail | None = None,
) -> Published:
    """A warm-up (the consumer's first events pay for lazy set-up), then `rate`/s for `seconds`;
    with a tail, read the journal meanwhile and wait until it holds every event."""
    import aio_pika

    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await rabbit_declare(channel, names)
        warm, _, _ = await _publish(exchange, payments, 0, WARMUP_EVENTS, 1_000)
        if tail is None:
            await asyncio.sleep(1.0)
        else:
            await tail.until(set(warm), time.perf_counter() + DRAIN_SECONDS)
            if not set(warm).issubset(tail.seen):
                raise TimeoutError(f"the mock journaled no warm-up event in {DRAIN_SECONDS:.0f} s")
        total = int(rate * seconds)
        stop = time.perf_counter() + seconds + DRAIN_SECONDS
        following = (
            None if tail is None else asyncio.create_task(tail.follow(tail.last_id + total, stop))
        )
        published = await _publish(exchange, payments, WARMUP_EVENTS, total, rate)
        if tail is not None and following is not None:
            await following
            await tail.until(set(published[0]), stop)
    finally:
        await connection.close()
    return published


def paced_figures(published: Published, seen: dict[str, float], rate: float) -> dict[str, Any]:
    """Achieved rates and publish-to-consumer latencies (ms) of one paced run."""
    sent, confirmed, publish_seconds = published
    latencies = [(seen[p] - t) * 1000 for p, t in sent.items() if p in seen]
    confirm_ms = [(confirmed[p] - t) * 1000 for p, t in sent.items() if p in confirmed]
    seen_times = [seen[p] for p in sent if p in seen]
    span = (max(seen_times) - min(sent.values())) if seen_times else 0.0
    return {
        "published": len(sent),
        "consumed": len(latencies),
        "publish_rate": round(len(sent) / publish_seconds, 1),
        "consumed_rate": round(len(latencies) / span, 1) if span > 0 else 0.0,
        "warmup_events": WARMUP_EVENTS,
        **latency_summary(latencies),
        "confirm": latency_summary(confirm_ms),
        "target_rate": rate,
    }


async def paced_mock(
    url: str,
    names: RabbitNames,
    journal: Path,
    payments: Payments,
    *,
    rate: float,
    seconds: float,
    poll: float = 0.002,
) -> dict[str, Any]:
    """Publish to the mock's queue and time each event until its row is in the journal."""
    tail = Tail(journal, poll)
    try:
        published = await paced_publish(url, names, payments, rate=rate, seconds=seconds, tail=tail)
    finally:
        tail.reader.close()
    return paced_figures(published, tail.seen, rate) | {"poll_ms": poll * 1000}
