"""Coverage-guided fuzz (atheris, libFuzzer) of decode + validate + journal + read back.

Each input picks an event type (first byte) and is the body; the pipeline must answer 200 or a
documented 400, and the journaled attempt must then render as every view renders it: the
control API's JSON (Starlette: `allow_nan=False`), pydantic's JSON and the live stream's line.

    python -m fuzz.ingest_target CORPUS_DIR -max_total_time=60
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import atheris

with atheris.instrument_imports(include=["mock_ft"]):
    from mock_ft.contracts import integration_contract
    from mock_ft.crm.routes.live import _one_line
    from mock_ft.crm.schemas import EventPublic
    from mock_ft.ingest.attempts import Attempt
    from mock_ft.ingest.pipeline import Pipeline
    from mock_ft.journal import Journal
    from mock_ft.journal.jsontext import dumps

ROUTES = integration_contract().routes
_RESET_EVERY = 5_000  # inputs between journal resets: memory stays flat however long it runs
_journal = Journal(":memory:").start()
_pipeline = Pipeline(_journal, integration_contract(), freshness_target_ms=1000)
_loop = asyncio.new_event_loop()
_count = 0


def one_input(data: bytes) -> None:
    global _count
    if not data:
        return
    route = ROUTES[data[0] % len(ROUTES)]
    attempt = Attempt("rest", time.time(), data[1:], route.event_type, {}, route.method, route.path)
    outcome = _loop.run_until_complete(_pipeline.ingest(attempt))
    assert outcome.status_code in (200, 400), outcome.body()
    outcome.body_bytes()
    entry = _journal.run_sync(Journal.get(outcome.event_id))
    assert entry is not None
    shown = EventPublic.of(entry)
    json.dumps(shown.model_dump(mode="json"), allow_nan=False, ensure_ascii=False).encode()
    shown.model_dump_json()
    line = _one_line(dumps([shown.model_dump(mode="json")]))
    assert b"\n" not in line and b"\r" not in line
    _count += 1
    if _count % _RESET_EVERY == 0:
        _journal.run_sync(Journal.reset)


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
