"""The Latency step: each endpoint's p95 within the budget, alone and under FT's concurrency.

FT looks players up as their events arrive, many at once (the mock does it with
LOOKUP_CONCURRENCY workers). Every call verify made is a sequential figure; each read endpoint
is then driven by `concurrency` callers at once for `concurrent_calls` calls. An endpoint
stops being driven once its p95 is over the budget whatever the remaining calls answer, so
a slow operator is judged in seconds rather than minutes (the report says so).
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass

from mock_ft.errors import OperatorUnreachable
from mock_ft.figures import percentile
from mock_ft.verify.model import CheckResult, VerifyOptions
from mock_ft.verify.operator import OperatorClient

__all__ = [
    "LATENCY_SUFFIX",
    "READ_ENDPOINTS",
    "Sample",
    "decided_over",
    "judge_latency",
    "measure_latency",
]

STEP = "Latency"
LATENCY_SUFFIX = " answers within the latency budget"  # after the endpoint, in each check's name
READ_ENDPOINTS = {  # FT's per-event lookups (facts file, 3.2), and the bonus dropdown
    "userdetails": "/userdetails/{user}",
    "userconsents": "/userconsents/{user}",
    "userblocks": "/userblocks/{user}",
    "bonus/list": "/bonus/list",
}
_SEQUENTIAL_CALLS = 5  # each read endpoint's own calls alone, beside those the other steps made


@dataclass(slots=True)
class Sample:
    """The latencies (ms) of one endpoint's concurrent calls, and what else came of them."""

    latencies: list[float]
    planned: int
    failed: list[str]  # each call that did not answer 200: its status, or why none
    issued: int = 0

    @property
    def stopped_early(self) -> bool:
        """True when driving stopped because the verdict was already known."""
        return self.issued < self.planned


def decided_over(values: list[float], planned: int, budget_ms: float) -> bool:
    """True once the p95 of `planned` calls must be over budget, whatever the rest take."""
    slow = sum(v > budget_ms for v in values)
    return slow > planned - math.ceil(0.95 * planned)


def _figures(values: list[float]) -> str:
    if not values:
        return "no answers"
    p50, p95, p99 = (percentile(values, q) for q in (0.5, 0.95, 0.99))
    return f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms over {len(values)} call(s)"


def _rounded(values: list[float]) -> list[float]:
    return [round(v, 1) for v in values]


def judge_latency(
    sequential: dict[str, list[float]], concurrent: dict[str, Sample], options: VerifyOptions
) -> list[CheckResult]:
    """p95 of each endpoint within the budget; the concurrent figures beside the sequential."""
    budget = options.p95_budget_ms
    results = []
    for endpoint, values in sorted(sequential.items()):
        message = f"{_figures(values)}; budget p95 {budget:g} ms"
        name = f"{endpoint}{LATENCY_SUFFIX}"
        p95 = percentile(values, 0.95)
        passed = p95 is not None and p95 <= budget
        results.append(CheckResult(STEP, name, passed, message, samples_ms=_rounded(values)))
    for endpoint, sample in sorted(concurrent.items()):
        callers = f"{options.concurrency} concurrent callers"
        name = f"{endpoint}{LATENCY_SUFFIX} under {callers}"
        alone = sequential.get(endpoint)
        parts = [f"under {callers}: {_figures(sample.latencies)}"]
        parts.append(f"alone: {_figures(alone)}" if alone else "alone: no calls")
        parts.append(f"budget p95 {budget:g} ms")
        p95 = percentile(sample.latencies, 0.95)
        passed = p95 is not None and p95 <= budget
        if sample.stopped_early:
            parts.append(
                f"stopped after {sample.issued} of {sample.planned} calls: p95 over budget anyway"
            )
        if sample.failed:
            passed = False
            parts.append(
                f"{len(sample.failed)} call(s) did not answer 200 (first: {sample.failed[0]})"
            )
        samples = _rounded(sample.latencies)
        results.append(CheckResult(STEP, name, passed, "; ".join(parts), samples_ms=samples))
    return results


async def measure_latency(op: OperatorClient, options: VerifyOptions) -> dict[str, Sample]:
    """A few calls of each read endpoint alone (into `op.latencies`), then concurrent ones."""
    budget, users = options.p95_budget_ms, options.user_ids
    for endpoint, template in READ_ENDPOINTS.items():
        planned = len(op.latencies[endpoint]) + _SEQUENTIAL_CALLS
        for n in range(_SEQUENTIAL_CALLS):
            if decided_over(op.latencies[endpoint], planned, budget):
                break
            await op.call("GET", template.format(user=users[n % len(users)]), endpoint=endpoint)
    return {
        endpoint: await _drive(op, endpoint, template, options)
        for endpoint, template in READ_ENDPOINTS.items()
    }


async def _drive(
    op: OperatorClient, endpoint: str, template: str, options: VerifyOptions
) -> Sample:
    """`concurrent_calls` calls of one endpoint by `concurrency` callers at once."""
    sample = Sample([], options.concurrent_calls, [])

    async def caller() -> None:
        while sample.issued < sample.planned and not decided_over(
            sample.latencies, sample.planned, options.p95_budget_ms
        ):
            path = template.format(user=options.user_ids[sample.issued % len(options.user_ids)])
            sample.issued += 1
            try:
                _, exchange = await op.call("GET", path, endpoint=endpoint, timed=False)
            except OperatorUnreachable as exc:  # refused connections under load: a failed call
                sample.failed.append(str(exc))
                continue
            sample.latencies.append(exchange.latency_ms or 0.0)
            if exchange.status != 200:
                sample.failed.append(str(exchange.status or exchange.response_body))

    await asyncio.gather(*(caller() for _ in range(options.concurrency)))
    return sample
