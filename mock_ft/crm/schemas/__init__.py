"""Pydantic models of the control API's answers (the edges; inside, the mock uses dataclasses).

One module per kind of answer; every route module imports its models from here.
"""

from __future__ import annotations

from mock_ft.crm.schemas.events import (
    AttemptPublic,
    CallbackPublic,
    CallbacksPublic,
    ErrorBody,
    EventDetail,
    EventPublic,
    EventsPublic,
    Idle,
    LookupPublic,
    LookupsPublic,
    ProblemPublic,
    WaitTimeout,
)
from mock_ft.crm.schemas.reports import (
    MAX_ROWS,
    BrokerHealth,
    Charts,
    DeliveryPublic,
    Health,
    InstancePublic,
    ResetResult,
    RetryAfterPublic,
    RunIn,
    RunPublic,
    RunsPublic,
    SeriesPublic,
    Stats,
)
from mock_ft.crm.schemas.rules import (
    FaultPublic,
    FaultsCleared,
    FaultsPublic,
    PlayerPublic,
    PlayersPublic,
    RequestPublic,
    RulePublic,
    RulesPublic,
    RulesRemoved,
)

__all__ = [
    "MAX_ROWS",
    "AttemptPublic",
    "BrokerHealth",
    "CallbackPublic",
    "CallbacksPublic",
    "Charts",
    "DeliveryPublic",
    "ErrorBody",
    "EventDetail",
    "EventPublic",
    "EventsPublic",
    "FaultPublic",
    "FaultsCleared",
    "FaultsPublic",
    "Health",
    "Idle",
    "InstancePublic",
    "LookupPublic",
    "LookupsPublic",
    "PlayerPublic",
    "PlayersPublic",
    "ProblemPublic",
    "RequestPublic",
    "ResetResult",
    "RetryAfterPublic",
    "RulePublic",
    "RulesPublic",
    "RulesRemoved",
    "RunIn",
    "RunPublic",
    "RunsPublic",
    "SeriesPublic",
    "Stats",
    "WaitTimeout",
]
