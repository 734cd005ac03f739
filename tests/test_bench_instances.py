"""bench.instances (SQLite vs PostgreSQL with one and two instances) runs at a tiny size, so it
cannot rot; its figures are not judged (the test machines are busy). Its pure parts beside."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import bench.instances
from bench.instances_runs import Postgres, PostgresAbsent, hey_csv_latencies, percentile
from bench.tools import missing_tools
from tests.brokers import in_ci
from tests.postgres import maintenance_url

HEY_CSV = """\
response-time,DNS+dialup,DNS,Request-write,Response-delay,Response-read,status-code,offset
0.0064,0.0014,0.0000,0.0001,0.0045,0.0001,200,0.2143
0.0037,0.0005,0.0000,0.0000,0.0029,0.0002,200,0.2172
0.0110,0.0002,0.0000,0.0000,0.0104,0.0002,503,0.4174
"""


def _tools() -> None:
    missing = missing_tools()
    if missing and in_ci():
        pytest.fail(f"{', '.join(missing)} missing; under CI=true .ci/run installs them")
    if missing:
        pytest.skip(f"{', '.join(missing)} not found; run `bash bench/ensure-tools`")


@pytest.mark.slow
def test_compare_sqlite_and_postgres_instances_at_tiny_size(tmp_path: Path) -> None:
    """One 1 s round of each setup: every row is measured, the two instances both take load,
    every 2xx is journaled, no payment id repeats, and the SQLite row is its own baseline."""
    _tools()
    admin = maintenance_url()  # skips without PostgreSQL (fails under CI=true)
    out = tmp_path / "instances.json"
    argv = ["--duration", "1", "--rounds", "1", "--rate", "40", "--workers", "2", "--no-wait"]
    assert bench.instances.main([*argv, "--postgres-url", admin, "--json", str(out)]) == 0
    results = json.loads(out.read_text())
    setups = results["setups"]
    assert set(setups) == {"sqlite x1", "postgresql x1", "postgresql x2"}
    assert results["skipped"] == ""
    for name, row in setups.items():
        assert row["throughput"]["requests_per_sec"] > 0, name
        assert row["throughput"]["non_2xx"] == 0, name
        assert row["paced"]["non_2xx"] == 0, name
        assert row["throughput"]["warnings"].get("duplicate", 0) == 0, f"{name}: ids repeated"
        check = row["journal_check"]
        assert check["journaled"] >= check["wrk_2xx"] > 0, name
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


def test_read_each_response_of_hey_csv() -> None:
    """Each row's time in ms and its status; the header is not a response."""
    latencies, statuses = hey_csv_latencies(HEY_CSV)
    assert latencies == pytest.approx([6.4, 3.7, 11.0])
    assert statuses == {200: 2, 503: 1}


@pytest.mark.parametrize(("share", "expected"), [(0.5, 50.0), (0.99, 99.0), (1.0, 100.0)])
def test_take_nearest_rank_percentile(share: float, expected: float) -> None:
    """The nearest-rank percentile of 1..100 is the value at that rank."""
    assert percentile([float(n) for n in range(100, 0, -1)], share) == expected
    assert percentile([], share) == 0.0
