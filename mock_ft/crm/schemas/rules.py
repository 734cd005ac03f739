"""The control API's views of what steers the mock: fault rules, callback rules, players."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mock_ft.callbacks.specs import TriggerSpec

__all__ = [
    "FaultPublic",
    "FaultsCleared",
    "FaultsPublic",
    "PlayerPublic",
    "PlayersPublic",
    "RequestPublic",
    "RulePublic",
    "RulesPublic",
    "RulesRemoved",
]


class FaultPublic(BaseModel):
    """A live rule, with its id and how many attempts it acted on (see POST for each field)."""

    id: int
    action: Literal[
        "status", "delay", "timeout", "reset", "drop_answer", "nack", "close_channel", "pause"
    ]
    status: int | None = Field(description="The status answered (action `status` only).")
    retry_after: int | None
    delay_ms: int | None
    transport: str | None
    path: str | None
    event_type: str | None
    user_id: str | None
    times: int | None = Field(description="How many more attempts it acts on, if limited.")
    first_attempts: int | None
    probability: float
    hits: int


class FaultsPublic(BaseModel):
    data: list[FaultPublic]


class FaultsCleared(BaseModel):
    removed: int


class RequestPublic(BaseModel):
    url: str = Field(description="As loaded ({operator_url} already resolved in `resolved_url`).")
    method: Literal["GET", "POST"]
    api_key: str | None = Field(description='"***" when a key is set; never the key.')
    body: Any
    action_fields: dict[str, Any]


class RulePublic(BaseModel):
    """A loaded rule (see POST for each field)."""

    id: str
    description: str
    enabled: bool
    trigger: TriggerSpec
    request: RequestPublic
    resolved_url: str
    timeout_seconds: float
    retries: int
    backoff_seconds: float
    activity_id: int
    action_id: int
    action_group_id: int
    action_communication_profile_id: int


class RulesPublic(BaseModel):
    data: list[RulePublic]
    sets: list[str] = Field(description="Ready-made rule sets: POST /_mock/callbacks/sets/{name}.")


class RulesRemoved(BaseModel):
    removed: int


class PlayerPublic(BaseModel):
    """One player: folded from accepted events (money in base currency) and the lookups."""

    model_config = ConfigDict(extra="allow")

    user_id: str
    event_count: int
    last_event_id: int = Field(description="The newest event folded in.")
    registered_at: str | None
    last_login_at: str | None
    deposit_count: int = Field(description="Approved deposits minus rolled-back ones.")
    deposit_total_base: float = Field(description="amount x exchange_rate, rollbacks subtracted.")
    first_deposit_at: str | None
    withdrawal_count: int
    withdrawal_total_base: float
    active_bonus_count: int
    active_bonuses: dict[str, dict[str, Any]] = Field(description="By user_bonus_id.")
    casino_turnover_base: float
    sportsbook_turnover_base: float
    custom_events: dict[str, int] = Field(description="CUSTOM events by notification_type.")
    profile: dict[str, Any] | None = Field(description="The latest valid /userdetails answer.")
    consents: dict[str, Any] | None = Field(description="From the latest /userconsents.")
    blocked: bool | None
    excluded: bool | None


class PlayersPublic(BaseModel):
    """A page of players by user id; pass `next_cursor` as `after` for the next."""

    data: list[PlayerPublic]
    count: int
    next_cursor: str | None
