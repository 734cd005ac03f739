"""`/_mock/health`, `/_mock/delivery`, `/_mock/stats` and `/_mock/reset`: how the mock and the
publisher are doing, and a fresh start.

`/_mock/health` is on `open_router`: it answers without the control token (a load balancer's probe
has none); `router` carries the rest, behind the token when one is set (crm/app.py includes both).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Query

from mock_ft._version import __version__
from mock_ft.crm.deps import (
    MAX_ID,
    BrokersDep,
    ClaimsDep,
    FilterDep,
    HeartbeatDep,
    JournalDep,
    RulesDep,
)
from mock_ft.crm.schemas import (
    BrokerHealth,
    ClaimsPublic,
    DeliveryPublic,
    Health,
    InstancePublic,
    ResetResult,
    Stats,
)
from mock_ft.figures import percentile as _percentile
from mock_ft.journal import EventFilter, Journal
from mock_ft.journal.delivery import delivery_report

__all__ = ["STATS_DELIVERY_ROWS", "open_router", "router"]

STATS_DELIVERY_ROWS = 10_000  # bounds the stats call (it blocks the loop) and its memory

open_router = APIRouter(prefix="/_mock", tags=["mock control"])
router = APIRouter(prefix="/_mock", tags=["mock control"])


@open_router.get("/health")
async def health(
    journal: JournalDep, brokers: BrokersDep, heartbeat: HeartbeatDep, claims: ClaimsDep
) -> Health:
    """Report that the mock is up, where its journal is, how its brokers are doing, this
    instance's id, the instances writing the journal (several on one PostgreSQL journal) and,
    on such a journal, this instance's claims on lookups and callback actions."""
    found = [BrokerHealth.model_validate(b.public()) for b in brokers.status()]
    seen = [InstancePublic.model_validate(i, from_attributes=True) for i in await heartbeat.seen()]
    return Health(
        status="ok",
        version=__version__,
        journal=journal.path,
        brokers=found,
        instance=heartbeat.instance_id,
        instances=seen,
        claims=None
        if claims is None
        else ClaimsPublic(held=len(claims.held), sweeps=claims.sweeps, taken=claims.taken),
    )


@router.get("/delivery")
async def delivery(
    journal: JournalDep,
    flt: FilterDep,
    after_id: Annotated[
        int | None, Query(ge=0, le=MAX_ID, description="Only attempts with ids above it.")
    ] = None,
    expected: Annotated[
        int | None,
        Query(ge=0, le=MAX_ID, description="Events the run should have published."),
    ] = None,
    hammer_ms: Annotated[
        float,
        Query(
            ge=0,
            le=60_000,
            allow_inf_nan=False,
            description="A retry sooner than this after a failure without Retry-After "
            "counts as hammering.",
        ),
    ] = 20.0,
    examples: Annotated[
        int,
        Query(
            ge=0,
            le=100_000,
            description="How many idempotency keys to list per kind of problem.",
        ),
    ] = 5,
) -> DeliveryPublic:
    """Delivery report of a run: lost, duplicated, attempts per event, back-off, latency.

    Filters choose the run's attempts (e.g. `since` its start, or `after_id`); `verdict`
    is ignored, since the report needs every attempt.
    """
    flt = replace(flt, verdict=None, after_id=after_id)
    report = await journal.run(
        delivery_report(flt, expected=expected, hammer_ms=hammer_ms, examples=examples)
    )
    return DeliveryPublic.model_validate(report.public())


@router.post("/reset")
async def reset(rules: RulesDep) -> ResetResult:
    """Delete every journaled attempt, lookup, callback and all stream-check state (the
    loaded callback and fault rules stay); on a shared journal, for every instance."""
    return ResetResult(removed=await rules.reset())


@router.get("/stats")
async def stats(journal: JournalDep) -> Stats:
    """Counts by verdict, type, transport, error and warning, and delivery latency."""
    counters = await journal.run(Journal.counters)
    latencies = await journal.run(Journal.recent_latencies)
    delivery = await journal.run(
        delivery_report(EventFilter(), max_rows=STATS_DELIVERY_ROWS, newest=True)
    )
    by_verdict = counters.get("verdict", {})
    return Stats(
        total=sum(by_verdict.values()),
        by_verdict=by_verdict,
        by_type=counters.get("type", {}),
        by_transport=counters.get("transport", {}),
        errors=counters.get("error", {}),
        warnings=counters.get("warning", {}),
        latency_ms={
            "p50": _percentile(latencies, 0.50),
            "p99": _percentile(latencies, 0.99),
            "max": latencies[-1] if latencies else None,
        },
        delivery=DeliveryPublic.model_validate(delivery.public()),
    )
