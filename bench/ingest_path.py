"""The REST ingest path in process, without sockets: for profilers, not for the README's ratios.

`python -m bench.ingest_path [--events N] [--batch B] [--asyncio]` sends N unique PAYMENT events
(B at a time, so they share group commits) straight into the mock's ASGI app with a durable
journal in a temporary folder, and prints the wall time per event. Its use is the instruction
count, which unlike time does not vary between runs on a shared VM:

    valgrind --tool=callgrind --collect-atstart=no --toggle-collect=context_run \\
        .venv/bin/python -m bench.ingest_path --events 2000 --asyncio

(`--asyncio` runs the standard event loop, whose callbacks pass through `context_run`, so only
the loop's work is counted: divide the total by the number of events.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from mock_ft.crm import create_app
from mock_ft.journal import Journal
from mock_ft.samples import sample_events
from mock_ft.settings import Settings

__all__ = ["main", "run"]

_PAYMENT_PATH = "/v1/integration/payment"
_USER_PATH = "/v2/integration/user"


def _scope(path: str, body: bytes, api_key: bytes) -> dict[str, Any]:
    headers = [
        (b"host", b"127.0.0.1:8000"),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-api-key", api_key),
    ]
    return {"type": "http", "method": "POST", "path": path, "headers": headers}


async def _post(app: Any, path: str, body: bytes, key: bytes, statuses: list[int]) -> None:
    message = {"type": "http.request", "body": body, "more_body": False}

    async def receive() -> dict[str, Any]:
        return message

    async def send(sent: dict[str, Any]) -> None:
        if sent["type"] == "http.response.start":
            statuses.append(sent["status"])

    await app(_scope(path, body, key), receive, send)


def _bodies(events: int) -> tuple[bytes, list[bytes]]:
    """The user's registration and unique payments, all stamped alike: no warnings, as in wrk's."""
    samples = {route.event_type: payload for route, payload in sample_events()}
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    user = {**samples["USER_CREATE_V2"], "user_id": "7001", "timestamp": stamp}
    payment = {**samples["PAYMENT"], "user_id": "7001", "status": "Approved", "timestamp": stamp}
    payments = [json.dumps({**payment, "payment_id": f"p-{n}"}).encode() for n in range(events)]
    return json.dumps(user).encode(), payments


async def _drive(
    app: Any, bodies: tuple[bytes, list[bytes]], batch: int
) -> tuple[float, list[int]]:
    statuses: list[int] = []
    user, payments = bodies
    key = app.mock.settings.api_key.get_secret_value().encode()
    await _post(app, _USER_PATH, user, key, statuses)
    started = time.perf_counter()
    for first in range(0, len(payments), batch):
        posts: list[Coroutine[Any, Any, None]] = [
            _post(app, _PAYMENT_PATH, body, key, statuses)
            for body in payments[first : first + batch]
        ]
        await asyncio.gather(*posts)
    return time.perf_counter() - started, statuses


def run(events: int, batch: int, *, use_asyncio: bool = False) -> dict[str, Any]:
    """Send the events; return the figures (wall time per event, answers by status, warnings).

    The app, its journal and the bodies are made before the event loop starts, so a profiler
    counting only the loop's work (see the module's docstring) counts the events and little else.
    """
    with tempfile.TemporaryDirectory(prefix="mock-ft-path-") as folder:
        path = str(Path(folder) / "journal.sqlite3")
        # A freshness target no run reaches: a slow profiler must not turn events into late ones.
        settings = Settings(journal=path, freshness_target_ms=1e9)
        with Journal(path, commit_interval=0) as journal:
            coroutine = _drive(create_app(settings, journal=journal), _bodies(events), batch)
            if use_asyncio:
                elapsed, statuses = asyncio.run(coroutine)
            else:
                import uvloop

                elapsed, statuses = uvloop.run(coroutine)
            warnings = journal.run_sync(Journal.counters).get("warning", {})
    by_status = {str(code): statuses.count(code) for code in sorted(set(statuses))}
    per_event = round(elapsed / events * 1e6, 1)
    return {
        "events": events,
        "us_per_event": per_event,
        "by_status": by_status,
        "warnings": warnings,
    }


def main(argv: list[str] | None = None) -> int:
    """Entry point: prints the figures as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.ingest_path", description=__doc__)
    parser.add_argument("--events", type=int, default=20_000, help="PAYMENT events [20000]")
    parser.add_argument("--batch", type=int, default=16, help="events sent together [16]")
    parser.add_argument("--asyncio", action="store_true", help="standard loop (for callgrind)")
    args = parser.parse_args(argv)
    figures = run(args.events, args.batch, use_asyncio=args.asyncio)
    print(json.dumps(figures))
    # Anything but a clean 200 for each would profile another path than the benchmark's.
    return 0 if set(figures["by_status"]) == {"200"} and not figures["warnings"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
