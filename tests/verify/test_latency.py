"""The Latency step's verdicts on given durations, and its concurrent driving on a real socket."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from mock_ft.crm.runner import ServerThread
from mock_ft.lookups.runner import LOOKUP_CONCURRENCY
from mock_ft.verify import CheckResult, VerifyOptions
from mock_ft.verify.latency import (
    READ_ENDPOINTS,
    Sample,
    decided_over,
    judge_latency,
    measure_latency,
)
from mock_ft.verify.operator import OperatorClient
from reference_operator import OperatorSettings
from reference_operator import create_app as create_operator
from tests import web
from tests.serve_process import run_cli
from tests.waiting import HANG_GUARD

OPTIONS = VerifyOptions(operator_url="http://127.0.0.1:9", auth=None, user_ids=["1"])
UNDER = (
    f"userdetails answers within the latency budget under {LOOKUP_CONCURRENCY} concurrent callers"
)


def _named(results: list[CheckResult], name: str) -> CheckResult:
    [result] = [r for r in results if r.name == name]
    return result


def test_default_concurrency_to_the_mocks_lookup_concurrency() -> None:
    assert OPTIONS.concurrency == LOOKUP_CONCURRENCY


def test_fail_operator_fast_alone_and_slow_under_concurrency() -> None:
    """Alone 20 ms, under concurrency 900 ms: the concurrent check fails, giving both figures."""
    sample = Sample([900.0] * 40, 40, [], issued=40)
    results = judge_latency({"userdetails": [20.0] * 10}, {"userdetails": sample}, OPTIONS)
    alone = _named(results, "userdetails answers within the latency budget")
    under = _named(results, UNDER)
    assert alone.passed
    assert not under.passed
    assert under.message == (
        f"under {LOOKUP_CONCURRENCY} concurrent callers: p50 900 ms, p95 900 ms, p99 900 ms "
        "over 40 call(s); alone: p50 20 ms, p95 20 ms, p99 20 ms over 10 call(s); "
        "budget p95 500 ms"
    )


def test_pass_operator_within_budget_both_ways() -> None:
    sample = Sample([30.0] * 38 + [499.0, 501.0], 40, [], issued=40)  # p95: the 38th, 30 ms
    results = judge_latency({"userdetails": [10.0]}, {"userdetails": sample}, OPTIONS)
    assert all(r.passed for r in results)


def test_fail_concurrent_calls_that_do_not_answer_200() -> None:
    """Fast refusals under load are no better than slow answers."""
    sample = Sample([5.0] * 40, 40, ["503"] * 3, issued=40)
    [under] = judge_latency({}, {"userdetails": sample}, OPTIONS)
    assert not under.passed
    assert "3 call(s) did not answer 200 (first: 503)" in under.message
    assert "alone: no calls" in under.message


def test_say_when_driving_stopped_early() -> None:
    sample = Sample([800.0] * 4, 40, [], issued=4)
    [under] = judge_latency({}, {"userdetails": sample}, OPTIONS)
    assert not under.passed
    assert "stopped after 4 of 40 calls: p95 over budget anyway" in under.message


def test_decide_over_budget_once_too_many_calls_were_slow() -> None:
    """Of 40 calls, p95 (nearest rank) is the 38th: 3 slow ones decide it, 2 do not."""
    assert not decided_over([600.0, 600.0] + [10.0] * 10, 40, 500.0)
    assert decided_over([600.0, 600.0, 600.0], 40, 500.0)
    assert decided_over([600.0], 5, 500.0)  # of 5 calls, p95 is the slowest


def test_drive_each_read_endpoint_concurrently(tmp_path: Path) -> None:
    """On a real socket: every read endpoint gets its calls, each answered 200.

    The outcome is under test, not the speed: the p95 budget and the call timeout are set out
    of reach, or a busy machine (calls over 500 ms) stops the driving early, as it should for a
    slow operator (test_say_when_driving_stopped_early, test_decide_over_budget_...).
    """
    settings = OperatorSettings(database=str(tmp_path / "platform.sqlite3"))
    with ServerThread(create_operator(settings)) as operator:
        user = web.post(f"{operator.url}/platform/players").json()["user_id"]
        options = VerifyOptions(
            operator_url=operator.url,
            auth="api-key:operator-local-key",
            user_ids=[user],
            concurrency=3,
            concurrent_calls=12,
            p95_budget_ms=HANG_GUARD * 1000,
        )

        async def measure() -> dict[str, Sample]:
            async with httpx.AsyncClient(timeout=HANG_GUARD) as client:
                return await measure_latency(OperatorClient(options, client), options)

        samples = asyncio.run(measure())
    assert set(samples) == set(READ_ENDPOINTS)
    assert {e: (len(s.latencies), s.issued, s.failed) for e, s in samples.items()} == {
        e: (12, 12, []) for e in READ_ENDPOINTS
    }


def test_exit_2_for_concurrency_below_one(tmp_path: Path) -> None:
    """`--concurrency 0` is a usage error, before any call."""
    result = run_cli(
        "verify", "--operator-url", "http://127.0.0.1:9", "--user-id", "1",
        "--auth", "api-key:k", "--report-dir", str(tmp_path), "--concurrency", "0",
    )  # fmt: skip
    assert result.returncode == 2
    assert "--concurrency" in result.stderr
    assert "Traceback" not in result.stderr
