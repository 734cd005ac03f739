"""The benchmark's reader of wrk output, its pacing, and how it pairs runs (pure functions)."""

from __future__ import annotations

import pytest

from bench.ingest import paired_ratios
from bench.tools import ToolError, pace_ms, parse_duration_ms, parse_wrk

WRK = """Running 10s test @ http://127.0.0.1:8765/v1/integration/payment
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     6.10ms    3.20ms  45.28ms   90.00%
    Req/Sec     5.04k   300.00     5.50k    70.00%
  Latency Distribution
     50%    5.99ms
     75%    7.00ms
     90%    9.00ms
     99%   29.85ms
  50383 requests in 10.00s, 9.90MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 7
Requests/sec:   5038.30
Transfer/sec:      0.99MB
"""


def test_parse_wrk_summary() -> None:
    """Requests, rate, percentiles, non-2xx and socket errors are read."""
    result = parse_wrk(WRK)
    assert (result.requests, result.seconds, result.requests_per_sec) == (50383, 10.0, 5038.3)
    assert (result.p50_ms, result.p99_ms, result.non_2xx) == (5.99, 29.85, 7)
    assert result.socket_errors == {"connect": 0, "read": 2, "write": 0, "timeout": 1}
    assert result.ok_requests == 50376


@pytest.mark.parametrize(
    ("text", "ms"), [("812.00us", 0.812), ("1.86ms", 1.86), ("1.02s", 1020.0), ("2.00m", 120_000.0)]
)
def test_parse_wrk_durations(text: str, ms: float) -> None:
    """wrk's units convert to milliseconds."""
    assert parse_duration_ms(text) == pytest.approx(ms)


def test_refuse_output_without_summary() -> None:
    """Output without a summary is a ToolError, never a wrong number."""
    with pytest.raises(ToolError):
        parse_wrk("connection refused")


@pytest.mark.parametrize(
    ("rate", "threads", "interval"), [(1000, 1, "1"), (1000, 2, "2"), (40, 2, "50")]
)
def test_pace_each_wrk_thread_at_its_share(rate: int, threads: int, interval: str) -> None:
    """Each thread sends one request per interval, so the threads together send `rate`/s."""
    assert pace_ms(rate, threads) == interval


def test_refuse_to_pace_at_no_rate() -> None:
    """A rate of 0 would divide by zero in wrk's script; it is refused with the numbers."""
    with pytest.raises(ToolError, match="0 requests/s"):
        pace_ms(0, 1)


def test_pair_throughput_ratios_by_round() -> None:
    """Each round's ratio is its own mock run over its own bare run, not over another round's."""
    bare = [{"requests_per_sec": 10_000.0}, {"requests_per_sec": 20_000.0}]
    mock = [{"requests_per_sec": 3_000.0}, {"requests_per_sec": 8_000.0}]
    assert paired_ratios(bare, mock) == [0.3, 0.4]
