"""The broker benchmark's baselines: bare consumers that take and acknowledge, nothing else.

`python -m bench.broker_baseline rabbitmq URL QUEUE COUNT PREFETCH` or
`python -m bench.broker_baseline kafka BOOTSTRAP TOPIC GROUP COUNT`; run by bench.brokers pinned to
the mock's core, on uvloop like the mock. Prints one JSON line: the drain window and its rate.
With `--times FILE` (RabbitMQ, paced runs) it records when each message id arrived.
RabbitMQ: aio-pika (the mock's client), robust connection, the mock's prefetch, each message
acked. Kafka: aiokafka in a group with the mock's settings, offsets committed after each batch.
The window starts when the first message is in hand; messages of that first delivery (RabbitMQ:
the first message; Kafka: the first fetched batch) are left out of the count, as the mock's
window leaves out what its journal held when it started.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any

import uvloop

__all__ = ["main"]

TIMEOUT_SECONDS = 600.0


async def drain_rabbitmq(
    url: str, queue_name: str, count: int, prefetch: int, times: Path | None = None
) -> dict[str, Any]:
    """Consume and ack `count` messages from an existing queue; with `times`, write there when
    each message id arrived (time.perf_counter: the same monotonic clock in every process)."""
    import aio_pika
    from aio_pika.abc import AbstractIncomingMessage

    connection = await aio_pika.connect_robust(url)
    loop = asyncio.get_running_loop()
    done: asyncio.Future[float] = loop.create_future()
    taken = 0
    first = 0.0
    arrived: dict[str, float] = {}

    async def on_message(message: AbstractIncomingMessage) -> None:
        nonlocal taken, first
        if times is not None:
            arrived[message.message_id or ""] = time.perf_counter()
        await message.ack()
        taken += 1
        if taken == 1:
            first = time.perf_counter()
        if taken == count and not done.done():
            done.set_result(time.perf_counter())

    try:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=prefetch)
        queue = await channel.get_queue(queue_name, ensure=True)
        connected = time.perf_counter()
        await queue.consume(on_message)
        print("consuming", flush=True)  # a paced publisher waits for this line
        finished = await asyncio.wait_for(done, TIMEOUT_SECONDS)
    finally:
        await connection.close()
    if times is not None:
        times.write_text(json.dumps(arrived), encoding="utf-8")
    return _figures(count, count - 1, connected, first, finished)


async def drain_kafka(bootstrap: str, topic: str, group: str, count: int) -> dict[str, Any]:
    """Consume `count` records in a consumer group, committing after each fetched batch."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        client_id="mock-ft-bench-baseline",
        session_timeout_ms=2_000,
        heartbeat_interval_ms=666,
    )
    await consumer.start()
    connected = time.perf_counter()
    taken, first_batch, first = 0, 0, 0.0
    deadline = connected + TIMEOUT_SECONDS
    try:
        while taken < count:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"took {taken} of {count} records")
            batches = await consumer.getmany(timeout_ms=500, max_records=1_000)
            for partition, records in batches.items():
                if not first:
                    first, first_batch = time.perf_counter(), len(records)
                taken += len(records)
                await consumer.commit({partition: records[-1].offset + 1})
        finished = time.perf_counter()
    finally:
        await consumer.stop()
    return _figures(count, count - first_batch, connected, first, finished)


def _figures(
    count: int, windowed: int, connected: float, first: float, finished: float
) -> dict[str, Any]:
    seconds = finished - first
    return {
        "count": count,
        "windowed": windowed,
        "seconds": round(seconds, 4),
        "events_per_sec": round(windowed / seconds, 1) if seconds > 0 else 0.0,
        "first_after_connect_s": round(first - connected, 4),
    }


def main(argv: list[str] | None = None) -> int:
    """Entry point: drain, print the figures as one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m bench.broker_baseline")
    sub = parser.add_subparsers(dest="broker", required=True)
    rabbit = sub.add_parser("rabbitmq")
    for name in ("url", "queue"):
        rabbit.add_argument(name)
    rabbit.add_argument("count", type=int)
    rabbit.add_argument("prefetch", type=int)
    rabbit.add_argument("--times", type=Path, help="write each message id's arrival time here")
    kafka = sub.add_parser("kafka")
    for name in ("bootstrap", "topic", "group"):
        kafka.add_argument(name)
    kafka.add_argument("count", type=int)
    args = parser.parse_args(argv)
    if args.broker == "rabbitmq":
        figures = uvloop.run(
            drain_rabbitmq(args.url, args.queue, args.count, args.prefetch, args.times)
        )
    else:
        figures = uvloop.run(drain_kafka(args.bootstrap, args.topic, args.group, args.count))
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
