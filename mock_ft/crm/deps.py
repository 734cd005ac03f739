"""What a route may ask FastAPI for: the mock's parts and the query filters routes share.

Every route reaches the mock it belongs to through these dependencies (`journal: JournalDep`),
never through `request.app`: the one place that knows where the app keeps its `MockState`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Query, Request

from mock_ft.brokers import Brokers
from mock_ft.callbacks import CallbackRunner, RuleCompiler
from mock_ft.crm.state import MockState
from mock_ft.faults import FaultInjector
from mock_ft.journal import EventFilter, Journal
from mock_ft.players import PlayerModel
from mock_ft.settings import Settings

__all__ = [
    "MAX_ID",
    "BrokersDep",
    "CallbacksDep",
    "FaultsDep",
    "FilterDep",
    "JournalDep",
    "PlayersDep",
    "RuleCompilerDep",
    "SettingsDep",
    "StateDep",
    "mock_state",
]

MAX_ID = 2**63 - 1  # SQLite INTEGER range: the largest id a query may name

Verdict = Literal["accepted", "rejected", "faulted"]


def mock_state(request: Request) -> MockState:
    """The parts of the mock serving this request (crm/state.py)."""
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


SettingsDep = Annotated[Settings, Depends(_settings)]
JournalDep = Annotated[Journal, Depends(_journal)]
FaultsDep = Annotated[FaultInjector, Depends(_faults)]
PlayersDep = Annotated[PlayerModel, Depends(_players)]
CallbacksDep = Annotated[CallbackRunner, Depends(_callbacks)]
RuleCompilerDep = Annotated[RuleCompiler, Depends(_rule_compiler)]
BrokersDep = Annotated[Brokers, Depends(_brokers)]


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
