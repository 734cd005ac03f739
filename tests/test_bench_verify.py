"""The verification benchmark runs and reports (a smoke test, not a timing)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import bench.verify


def test_report_verification_wall_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One round verifies the reference operator fully and writes its figures (whether this
    machine is fast enough right now is not judged: the smoke test runs on busy ones)."""
    out = tmp_path / "verify.json"
    monkeypatch.setattr(bench.verify, "RESULTS", out)
    assert bench.verify.main(["--rounds", "1", "--no-speed-targets"]) == 0
    figures = json.loads(out.read_text())
    assert figures["all_passed"] is True
    assert figures["checks"] > 50
    assert "Contract (property-based)" in figures["share_by_step"]


def test_drive_ingest_path_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    """The in-process driver for profilers journals every event it sends: 200, no warning."""
    import bench.ingest_path

    assert bench.ingest_path.main(["--events", "40", "--batch", "8", "--asyncio"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["by_status"] == {"200": 41}  # the registration, then the 40 payments
    assert figures["warnings"] == {}  # the benchmark's path: no finding to format or store
    assert figures["us_per_event"] > 0
