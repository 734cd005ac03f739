"""Callback rules as written in a rule file or sent to `/_mock/callbacks/rules` (pydantic edge).

contracts/callback-rules.schema.json is generated from `RuleFile` (a test keeps them equal), so
editors can validate rule files.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

__all__ = ["OPERATORS", "RequestSpec", "RuleFile", "RuleSpec", "TriggerSpec", "rule_file_schema"]

OPERATORS = (
    "eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "exists", "contains", "not_contains",
)  # fmt: skip

_CONDITIONS = (
    "Field path (dotted) -> condition: a value to equal, or an object of operators "
    f"({', '.join(OPERATORS)}), all of which must hold."
)


class TriggerSpec(BaseModel):
    """When the rule fires: an event type, conditions on its fields and on the player model."""

    model_config = ConfigDict(extra="forbid")

    event: str = Field(description="FT event type, e.g. PAYMENT.", min_length=1)
    where: dict[str, Any] = Field(
        default_factory=dict, description="On the event's fields. " + _CONDITIONS
    )
    player: dict[str, Any] = Field(
        default_factory=dict,
        description="On the player model as of this event (GET /_mock/players/{id}). "
        + _CONDITIONS,
    )


class RequestSpec(BaseModel):
    """The HTTP request FT sends: URL, method, x-api-key and a JSON body template."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        min_length=1,
        description="http(s) URL; may start with {operator_url} and hold placeholders.",
    )
    method: Literal["GET", "POST"] = "POST"
    api_key: SecretStr | None = Field(
        None,
        description="Sent as x-api-key (FT's only callback auth); "
        "default MOCK_FT_CALLBACK_API_KEY.",
    )
    body: Any = Field(None, description="JSON body template (POST only).")
    action_fields: dict[str, Any] = Field(
        default_factory=dict, description="Values for {action_field:NAME} placeholders."
    )


class RuleSpec(BaseModel):
    """One Callback Action rule."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", description="Unique name.")
    description: str = ""
    enabled: bool = True
    trigger: TriggerSpec
    request: RequestSpec
    timeout_seconds: float = Field(2.0, gt=0, le=60, description="Per attempt.")
    retries: int = Field(3, ge=0, le=10, description="Further attempts after a failed one.")
    backoff_seconds: float = Field(
        0.2, ge=0, le=30, description="First retry delay; doubles each time (at most 5 s)."
    )
    activity_id: int = Field(1, ge=0, description="Sent as X-Fasttrack-Activityid.")
    action_id: int = Field(1, ge=0, description="Sent as X-Fasttrack-Actionid.")
    action_group_id: int = Field(1, ge=0, description="Sent as X-Fasttrack-Actiongroupid.")
    action_communication_profile_id: int = Field(
        1, ge=0, description="Sent as X-Fasttrack-Actioncommunicationprofileid."
    )


class RuleFile(BaseModel):
    """A rule file: `rules:` and the list of rules."""

    model_config = ConfigDict(extra="forbid", title="mock-ft callback rules")

    rules: list[RuleSpec]


def rule_file_schema() -> dict[str, Any]:
    """The JSON Schema of a rule file, as kept in contracts/callback-rules.schema.json."""
    schema = RuleFile.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://mock-ft.dev/contracts/callback-rules.schema.json",
        **schema,
    }
