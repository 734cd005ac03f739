"""bench.instances (SQLite vs PostgreSQL with one and two instances) runs at a tiny size, so it
cannot rot; its figures are not judged (the test machines are busy). Its pure parts beside."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import bench.instances
from bench.instances_runs import Postgres, PostgresAbsent
from bench.tools import missing_tools
from tests.brokers import in_ci
from tests.postgres import maintenance_url


def _tools() -> None:
    missing = missing_tools()
    if missing and in_ci():
        pytest.fail(f"{', '.join(missing)} missing; under CI=true .ci/run installs them")
    if missing:
        pytest.skip(f"{', '.join(missing)} not found; run `bash bench/ensure-tools`")


@pytest.mark.slow
def test_compare_sqlite_and_postgres_instances_at_tiny_size(tmp_path: Path) -> None:
    """One 1 s round of each setup: every row is measured, the two instances both take load,
    every 2xx is journaled, no payment id repeats (at saturation or paced: a paced run that
    journals duplicates measures the mock's duplicate path), and the SQLite row is its own
    baseline."""
    _tools()
    admin = maintenance_url()  # skips without PostgreSQL (fails under CI=true)
    out = tmp_path / "instances.json"
    argv = ["--duration", "1", "--rounds", "1", "--rate", "40", "--paced-connections", "2"]
    argv.append("--no-wait")
    assert bench.instances.main([*argv, "--postgres-url", admin, "--json", str(out)]) == 0
    results = json.loads(out.read_text())
    setups = results["setups"]
    assert set(setups) == {"sqlite x1", "postgresql x1", "postgresql x2"}
    assert results["skipped"] == ""
    for name, row in setups.items():
        assert row["throughput"]["requests_per_sec"] > 0, name
        assert row["throughput"]["non_2xx"] == 0, name
        assert row["paced"]["non_2xx"] == 0, name
        for phase in ("throughput", "paced"):
            duplicates = row[phase]["warnings"].get("duplicate", 0)
            assert duplicates == 0, f"{name} {phase}: ids repeated"
        check = row["journal_check"]
        assert check["journaled"] >= check["wrk_2xx"] > 0, name
        paced = row["paced_journal_check"]
        assert paced["journaled"] >= paced["wrk_2xx"] > 0, f"{name}: paced events not accepted"
    assert setups["sqlite x1"]["throughput"]["ratios"]["requests_per_sec"] == 1.0
    assert setups["postgresql x1"]["cpu_us_per_event"]["db"] > 0  # its backends were found
    for phase in ("throughput", "paced"):
        (run,) = setups["postgresql x2"]["runs"][phase]
        assert len(run["mock_cpu_s_each"]) == 2
        assert min(run["mock_cpu_s_each"]) > 0, f"{phase}: one instance took no load"


def test_skip_postgres_rows_when_no_server_answers() -> None:
    """Nothing listens on port 1: the reason names the address, nothing else is attempted."""
    with pytest.raises(PostgresAbsent, match=r"no PostgreSQL answers at 127\.0\.0\.1:1"):
        Postgres("postgresql://postgres@127.0.0.1:1/postgres")
