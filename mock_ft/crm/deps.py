"""What a route may ask FastAPI for: the mock's parts and the query filters routes share.

`MockState` holds one mock's parts, built complete by `create_app` (crm/app.py). Every route
reaches them through these dependencies (`journal: JournalDep`), never through `request.app`:
this is the one place that knows where the app keeps its `MockState`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Query, Request

from mock_ft.brokers import Brokers
from mock_ft.callbacks import CallbackRunner, RuleCompiler
from mock_ft.contracts import IntegrationContract
from mock_ft.crm.rulesync import RuleSync
from mock_ft.faults import FaultInjector
from mock_ft.ingest.pipeline import Pipeline
from mock_ft.journal import EventFilter, Journal
from mock_ft.journal.claims import Claims
from mock_ft.journal.instances import Heartbeat
from mock_ft.lookups import LookupRunner
from mock_ft.players import PlayerModel
from mock_ft.settings import Settings

__all__ = [
    "MAX_ID",
    "BrokersDep",
    "CallbacksDep",
    "ClaimsDep",
    "FaultsDep",
    "FilterDep",
    "HeartbeatDep",
    "JournalDep",
    "MockState",
    "PlayersDep",
    "RuleCompilerDep",
    "RulesDep",
    "SettingsDep",
    "StateDep",
    "mock_state",
]

MAX_ID = 2**63 - 1  # SQLite INTEGER range: the largest id a query may name

Verdict = Literal["accepted", "rejected", "faulted"]


@dataclass(frozen=True, slots=True)
class MockState:
    """One mock's parts, each complete (no I/O in any constructor): `create_app` builds them,
    its lifespan starts and stops them, the routes use them."""

    settings: Settings
    contract: IntegrationContract
    journal: Journal
    owns_journal: bool  # opened and closed by the lifespan; False for one passed in, open
    faults: FaultInjector
    rule_compiler: RuleCompiler
    lookups: LookupRunner
    players: PlayerModel
    callbacks: CallbackRunner
    pipeline: Pipeline
    brokers: Brokers
    heartbeat: Heartbeat  # this instance's id and row in the journal
    rules: RuleSync  # the fault and callback rules and reset, shared on a PostgreSQL journal
    claims: Claims | None = None  # lookups and actions claimed on a shared journal (PostgreSQL)


def mock_state(request: Request) -> MockState:
    """The parts of the mock serving this request."""
    state = getattr(request.app, "mock", None)
    if not isinstance(state, MockState):
        msg = "this route is served only by the app mock_ft.crm.create_app() builds"
        raise TypeError(msg)
    return state


StateDep = Annotated[MockState, Depends(mock_state)]


def _settings(state: StateDep) -> Settings:
    return state.settings


def _journal(state: StateDep) -> Journal:
    return state.journal


def _faults(state: StateDep) -> FaultInjector:
    return state.faults


def _players(state: StateDep) -> PlayerModel:
    return state.players


def _callbacks(state: StateDep) -> CallbackRunner:
    return state.callbacks


def _rule_compiler(state: StateDep) -> RuleCompiler:
    return state.rule_compiler


def _brokers(state: StateDep) -> Brokers:
    return state.brokers


def _heartbeat(state: StateDep) -> Heartbeat:
    return state.heartbeat


def _rules(state: StateDep) -> RuleSync:
    return state.rules


def _claims(state: StateDep) -> Claims | None:
    return state.claims


SettingsDep = Annotated[Settings, Depends(_settings)]
JournalDep = Annotated[Journal, Depends(_journal)]
FaultsDep = Annotated[FaultInjector, Depends(_faults)]
PlayersDep = Annotated[PlayerModel, Depends(_players)]
CallbacksDep = Annotated[CallbackRunner, Depends(_callbacks)]
RuleCompilerDep = Annotated[RuleCompiler, Depends(_rule_compiler)]
RulesDep = Annotated[RuleSync, Depends(_rules)]
BrokersDep = Annotated[Brokers, Depends(_brokers)]
HeartbeatDep = Annotated[Heartbeat, Depends(_heartbeat)]
ClaimsDep = Annotated[Claims | None, Depends(_claims)]


def _filters(
    type: Annotated[str | None, Query(description="Event type, e.g. PAYMENT.")] = None,
    user_id: Annotated[str | None, Query()] = None,
    verdict: Annotated[Verdict | None, Query()] = None,
    transport: Annotated[str | None, Query(description="rest, rabbitmq or kafka.")] = None,
    since: Annotated[
        float | None, Query(allow_inf_nan=False, description="Unix time, inclusive.")
    ] = None,
    until: Annotated[
        float | None, Query(allow_inf_nan=False, description="Unix time, exclusive.")
    ] = None,
) -> EventFilter:
    return EventFilter(type, user_id, verdict, transport, since, until)


FilterDep = Annotated[EventFilter, Depends(_filters)]
