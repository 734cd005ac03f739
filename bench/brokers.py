"""Broker ingest benchmark (issue 6): the mock's RabbitMQ and Kafka consumers against bare ones.

`python -m bench.brokers [--quick]` (or `make bench`). Throughput: N valid PAYMENT messages are
published (confirmed, persistent) before any consumer starts, then drained either by a bare
consumer (take + ack / commit, nothing else) or by `mock-ft serve` (validation, stream checks,
durable journal; ack / commit after the journal commit), alternating, on fresh queues / topics,
consumers pinned to core 0. Sustained: 2,000 events/s published for 10 s to a queue a bare
consumer takes, then to one the mock takes, each event timed from its publish to the consumer
(for the mock: to its row in the journal). Prints a table, writes JSON (bench/results/brokers.json),
exits 0 whatever the figures (it is a report); exits 2 with one line if a broker is missing or a
consumer will not start.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import tempfile
import time
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

from aiokafka.errors import KafkaError
from aiormq.exceptions import AMQPError

from bench.broker_infra import (
    LOAD_CPU,
    BrokerMissing,
    rabbit_pids,
    reachable,
    tansu,
    tansu_binary,
)
from bench.broker_report import render
from bench.broker_runs import Bench, alternate, console, kafka_drain, rabbit_drain
from bench.broker_sustained import sustained
from bench.report import code_version, machine_info, run_and_report
from bench.servers import SERVER_CPU, ServerError

__all__ = ["main"]

BENCH = Path(__file__).resolve().parent
RABBITMQ_URL = os.environ.get("MOCK_FT_BENCH_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line; --quick shortens everything for a smoke run."""
    parser = argparse.ArgumentParser(prog="python -m bench.brokers", description=__doc__)
    parser.add_argument("--events", type=int, default=20_000, help="backlog per drain [20k]")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per side [3]")
    parser.add_argument("--rate", type=int, default=2_000, help="sustained rate, events/s [2000]")
    parser.add_argument("--seconds", type=float, default=10.0, help="sustained run length [10]")
    parser.add_argument("--prefetch", type=int, default=512, help="RabbitMQ prefetch [512]")
    parser.add_argument(
        "--rabbitmq-url", default=RABBITMQ_URL, help="[$MOCK_FT_BENCH_RABBITMQ_URL]"
    )
    parser.add_argument("--kafka-bootstrap", help="use this Kafka instead of a private Tansu")
    parser.add_argument("--quick", action="store_true", help="3k events, 1 round, 3 s sustained")
    parser.add_argument(
        "--no-wait",
        action="store_true",
        help="on a machine others share: measure at once, never redo (the load is still shown)",
    )
    parser.add_argument(
        "--json", type=Path, default=BENCH / "results" / "brokers.json", help="where to write JSON"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.rounds, args.seconds = 3_000, 1, 3.0
    return args


def run(args: argparse.Namespace, command_line: str) -> dict[str, Any]:
    """The three phases, each cleaning up its queues, topics and processes on the way out."""
    results: dict[str, Any] = {
        "command": command_line,
        "machine": machine_info(),
        "code": code_version(),
        "settings": {k: v for k, v in vars(args).items() if k not in ("json", "rabbitmq_url")},
    }
    results["machine"]["pinning"] = (
        f"consumers (mock-ft serve, bare consumer) on core {SERVER_CPU}; this process (publisher, "
        f"journal polling) and Tansu on core {LOAD_CPU}; RabbitMQ (a system service) unpinned"
    )
    os.sched_setaffinity(0, {int(LOAD_CPU)})
    with tempfile.TemporaryDirectory(prefix="mock-ft-bench-brokers-") as name:
        bench = Bench(args, Path(name), f"r{int(time.time())}")
        bench.pids.update(rabbit_pids())
        console.print(f"[bold]RabbitMQ drain[/]: {args.events:,} pre-published PAYMENT messages")
        results["rabbitmq"] = alternate(bench, "rabbitmq", lambda side: rabbit_drain(bench, side))
        console.print(f"[bold]RabbitMQ sustained[/]: {args.rate:,} events/s for {args.seconds:g} s")
        results["sustained"] = sustained(bench)
        console.print(f"[bold]Kafka drain[/]: {args.events:,} pre-produced PAYMENT records")
        with _kafka(args) as (bootstrap, pid):
            if pid:
                bench.pids["tansu"] = pid
            results["kafka"] = alternate(
                bench,
                "kafka",
                lambda side: kafka_drain(bench, side, bootstrap),
                ("baseline", "durable", "mock"),
            )
        results["kafka"]["broker"] = "external" if args.kafka_bootstrap else "Tansu (private)"
    return results


def _kafka(args: argparse.Namespace) -> AbstractContextManager[tuple[str, int]]:
    return nullcontext((args.kafka_bootstrap, 0)) if args.kafka_bootstrap else tansu()


def _kafka_available(args: argparse.Namespace) -> None:
    """BrokerMissing unless the Kafka phase can run (checked before the long RabbitMQ phases)."""
    if not args.kafka_bootstrap:
        tansu_binary()
        return
    host, _, port = args.kafka_bootstrap.split(",")[0].rpartition(":")
    if not reachable(host or "127.0.0.1", int(port or 9092)):
        raise BrokerMissing(f"no Kafka at {args.kafka_bootstrap} (--kafka-bootstrap)")


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = parse_args(argv)
    parts = urlsplit(args.rabbitmq_url)
    if not reachable(parts.hostname or "127.0.0.1", parts.port or 5672):
        print(
            f"bench: no RabbitMQ at {parts.hostname}:{parts.port or 5672}; start it "
            "(service rabbitmq-server start) or set MOCK_FT_BENCH_RABBITMQ_URL",
            file=sys.stderr,
        )
        return 2
    try:
        _kafka_available(args)
    except BrokerMissing as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _on_sigterm)
    words = sys.argv[1:] if argv is None else argv
    shown = [re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", word) for word in words]  # no passwords
    return run_and_report(
        "bench.brokers",
        shown,
        lambda command_line: run(args, command_line),
        render,
        args.json,
        console,
        errors=(ServerError, BrokerMissing, AMQPError, KafkaError, OSError, TimeoutError),
        stopped="consumers stopped, queues and topics deleted",
    )


if __name__ == "__main__":
    raise SystemExit(main())
