"""bench.ingest's paced latency run at a tiny size: what it measures must be the mock's
first-sighting path, so every paced event is journaled as new (its figures are not judged)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from rich.console import Console

from bench.ingest import measure_latency
from bench.memory import register_user
from bench.quiet import Meter
from bench.servers import Server, free_port, mock_command
from bench.tools import missing_tools
from tests.brokers import in_ci


def _tools() -> None:
    missing = missing_tools()
    if missing and in_ci():
        pytest.fail(f"{', '.join(missing)} missing; under CI=true .ci/run installs them")
    if missing:
        pytest.skip(f"{', '.join(missing)} not found; run `bash bench/ensure-tools`")


@pytest.mark.slow
def test_pace_unique_events_into_the_journal(tmp_path: Path) -> None:
    """Two 1 s paced runs against one mock: every 2xx is journaled as accepted and none as a
    duplicate (a paced run repeating one body would time the mock's duplicate path)."""
    _tools()
    port = free_port()
    command = mock_command(port, tmp_path / "journal.sqlite3")
    args = argparse.Namespace(rate=40, paced_connections=2, duration=1.0, rounds=2)
    with Server("mock", command, port, tmp_path / "mock.log", health="/_mock/health") as mock:
        register_user(mock)
        meter = Meter(lambda: [mock.pid], Console(quiet=True), patient=False)
        latency = measure_latency([mock], args, meter)
    check = latency["journal_check"]
    assert check["duplicate"] == 0, check
    assert check["rejected"] == 0, check
    assert check["accepted"] >= check["wrk_ok"] > 0, check
