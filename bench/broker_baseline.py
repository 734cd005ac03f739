"""The broker benchmark's baselines: bare consumers that take and acknowledge, nothing else.

`python -m bench.broker_baseline rabbitmq URL QUEUE COUNT PREFETCH` or
`python -m bench.broker_baseline kafka BOOTSTRAP TOPIC GROUP COUNT [--sqlite FILE]`; run by
bench.brokers pinned to the mock's core, on uvloop like the mock. Prints one JSON line: the drain
window and its rate. With `--times FILE` (RabbitMQ, paced runs) it records when each message id
arrived.
RabbitMQ: aio-pika (the mock's client), robust connection, the mock's prefetch, each message
acked. Kafka: aiokafka in a group with the mock's settings, offsets committed after each batch;
with `--sqlite`, each fetched batch is first written to a SQLite file as the mock's journal is
(WAL, synchronous=NORMAL, one row per record with its payload and headers as JSON, one
transaction per fetch), without validation or stream checks: what a durable consumer costs at
least, so the mock's ratio against it is what its own work costs.
The window starts when the first message is in hand; messages of that first delivery (RabbitMQ:
the first message; Kafka: the first fetched batch) are left out of the count, as the mock's
window leaves out what its journal held when it started.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import orjson
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


_TABLE = """CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, received_at REAL NOT NULL, transport TEXT NOT NULL,
    payload TEXT, headers TEXT NOT NULL)"""
_INSERT = "INSERT INTO events (received_at, transport, payload, headers) VALUES (?, 'kafka', ?, ?)"


def open_sqlite(path: Path) -> sqlite3.Connection:
    """A journal-like SQLite file: WAL, synchronous=NORMAL (the mock's defaults)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(_TABLE)
    return conn


def write_batch(conn: sqlite3.Connection, records: list[Any]) -> None:
    """One transaction holding a row per record: its payload and its headers as JSON."""
    now = time.time()
    rows = [
        (
            now,
            (record.value or b"").decode("utf-8", errors="replace"),
            orjson.dumps(
                {
                    "kafka.topic": record.topic,
                    "kafka.partition": str(record.partition),
                    "kafka.offset": str(record.offset),
                    **{f"header.{k}": (v or b"").decode() for k, v in record.headers or ()},
                }
            ).decode(),
        )
        for record in records
    ]
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(_INSERT, rows)
    conn.execute("COMMIT")


async def drain_kafka(
    bootstrap: str, topic: str, group: str, count: int, sqlite: Path | None = None
) -> dict[str, Any]:
    """Consume `count` records in a consumer group, committing after each fetched batch (with
    `sqlite`, after writing the batch there durably)."""
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
    conn = open_sqlite(sqlite) if sqlite is not None else None
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
                if conn is not None:
                    write_batch(conn, records)
                await consumer.commit({partition: records[-1].offset + 1})
        finished = time.perf_counter()
    finally:
        await consumer.stop()
        if conn is not None:
            conn.close()
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
    kafka.add_argument("--sqlite", type=Path, help="write each fetch durably to this SQLite file")
    args = parser.parse_args(argv)
    if args.broker == "rabbitmq":
        figures = uvloop.run(
            drain_rabbitmq(args.url, args.queue, args.count, args.prefetch, args.times)
        )
    else:
        figures = uvloop.run(
            drain_kafka(args.bootstrap, args.topic, args.group, args.count, args.sqlite)
        )
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
