"""The scenario format (pydantic edge): what a YAML scenario file may say.

contracts/scenario.schema.json is generated from `ScenarioSpec` (a test keeps them equal), so
editors can validate scenario files. Strings may hold Jinja expressions (`{{ user }}`,
`{{ faker.email }}`, `{{ index * 10 }}`), rendered when the step runs.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "STEP_KINDS",
    "CallbackExpect",
    "CallbacksStep",
    "DeliveryExpect",
    "EventsExpect",
    "ExpectStep",
    "FaultStep",
    "LookupsExpect",
    "OperatorStep",
    "PlayerExpect",
    "RepeatStep",
    "ScenarioSpec",
    "SendStep",
    "StepSpec",
    "scenario_schema",
]

STEP_KINDS = ("operator", "send", "fault", "callbacks", "wait", "expect", "repeat")
EXPECT_KINDS = ("events", "callback", "player", "lookups", "no_validation_errors", "delivery")
_CONDITIONS = (
    "Dotted path -> a value to equal, or operators (eq, ne, gt, gte, lt, lte, in, not_in, "
    "exists, contains, not_contains)."
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class OperatorStep(_Strict):
    """An HTTP call to the operator: its driver API (e.g. /platform/) or its Operator API."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    path: str = Field(min_length=1, description="Relative to the operator URL.")
    json_body: Any = Field(None, alias="json", description="JSON body to send.")
    auth: bool = Field(False, description="Send the Operator API credentials (--operator-auth).")
    headers: dict[str, str] = Field(default_factory=dict)
    status: int | list[int] | None = Field(None, description="Expected status; default any 2xx.")
    body: Any = Field(None, description="Expected JSON: every key given must match (subset).")
    where: dict[str, Any] = Field(default_factory=dict, description="On the answer. " + _CONDITIONS)
    shape: str | None = Field(
        None, description="Operator API contract component the answer must fit, e.g. UserDetails."
    )
    capture: dict[str, str] = Field(
        default_factory=dict, description="Variable -> dotted path in the JSON answer."
    )


class SendStep(_Strict):
    """Events sent to the mock as if from the operator."""

    type: str = Field(min_length=1, description="FT event type, e.g. PAYMENT.")
    transport: Literal["rest", "rabbitmq", "kafka"] = "rest"
    event: dict[str, Any] = Field(
        default_factory=dict, description="Fields over the contract's example of the type."
    )
    omit: list[str] = Field(default_factory=list, description="Fields of the example to leave out.")
    raw: str | None = Field(None, description="Send exactly this body instead (REST only).")
    count: int = Field(1, ge=1, le=100_000, description="How many; `index` counts from 0.")
    expect: Literal["accepted", "rejected", "any"] = Field(
        "accepted", description="The REST answer each must get."
    )
    capture: dict[str, str] = Field(
        default_factory=dict, description="Variable -> path in the last REST answer (event_id)."
    )


class FaultStep(_Strict):
    """Add a fault rule (its --fault words or an object), or clear them all."""

    add: str | dict[str, Any] | None = None
    clear: bool = False

    @model_validator(mode="after")
    def _one(self) -> FaultStep:
        if (self.add is None) == (not self.clear):
            msg = "give `add` (a fault rule) or `clear: true`"
            raise ValueError(msg)
        return self


class CallbacksStep(_Strict):
    """Load a ready-made rule set or a rule, or clear the rules."""

    load: str | None = Field(None, description="cancel-bonus, refer-a-friend, ..., all.")
    rule: dict[str, Any] | None = Field(None, description="One rule, as in a rule file.")
    clear: bool = False

    @model_validator(mode="after")
    def _one(self) -> CallbacksStep:
        if sum((self.load is not None, self.rule is not None, self.clear)) != 1:
            msg = "give exactly one of `load`, `rule` or `clear: true`"
            raise ValueError(msg)
        return self


class EventsExpect(_Strict):
    """Journaled attempts since the scenario started."""

    type: str | None = None
    user_id: str | None = None
    transport: Literal["rest", "rabbitmq", "kafka"] | None = None
    verdict: Literal["accepted", "rejected", "faulted"] = "accepted"
    where: dict[str, Any] = Field(
        default_factory=dict, description="On the payload. " + _CONDITIONS
    )
    count: int | None = Field(None, ge=0, description="Exactly this many (default: at least 1).")
    at_least: int | None = Field(None, ge=1)
    error_path: str | None = Field(None, description="A rejection names this JSON path.")
    no_warnings: bool = Field(False, description="None of them has a warning.")


class CallbackExpect(_Strict):
    """Callback Actions fired since the scenario started."""

    rule: str | None = None
    user_id: str | None = None
    body: Any = Field(None, description="Every key given must match the rendered body.")
    ok: bool = True
    count: int | None = Field(None, ge=0, description="Exactly this many (default: at least 1).")
    attempts: int | None = Field(None, ge=1, description="The (first) call took this many.")


class PlayerExpect(_Strict):
    """The player model (GET /_mock/players/{user_id})."""

    user_id: str
    values: dict[str, Any] = Field(description=_CONDITIONS)


class LookupsExpect(_Strict):
    """The mock's lookups of a player since the scenario started."""

    user_id: str
    endpoint: Literal["userdetails", "userconsents", "userblocks"] | None = None
    ok: bool = True
    at_least: int = Field(1, ge=1)


class DeliveryExpect(_Strict):
    """The delivery report of the scenario's events (GET /_mock/delivery)."""

    type: str | None = None
    user_id: str | None = None
    transport: Literal["rest", "rabbitmq", "kafka"] | None = None
    expected: int | None = Field(None, ge=0, description="Events that must have arrived.")
    lost: int = 0
    duplicated: int = 0
    p99_latency_ms: float | None = Field(None, gt=0, description="Delivery latency target.")


class ExpectStep(_Strict):
    """One expectation, polled until it holds or `within` seconds pass."""

    within: float = Field(5.0, ge=0, le=600)
    events: EventsExpect | None = None
    callback: CallbackExpect | None = None
    player: PlayerExpect | None = None
    lookups: LookupsExpect | None = None
    no_validation_errors: bool | None = None
    delivery: DeliveryExpect | None = None

    @model_validator(mode="after")
    def _one(self) -> ExpectStep:
        given = [kind for kind in EXPECT_KINDS if getattr(self, kind) is not None]
        if len(given) != 1:
            msg = f"give exactly one of {', '.join(EXPECT_KINDS)}; got {len(given)}"
            raise ValueError(msg)
        return self

    @property
    def kind(self) -> str:
        """Which expectation this is."""
        return next(k for k in EXPECT_KINDS if getattr(self, k) is not None)


class RepeatStep(_Strict):
    """Run `steps` `times` times; `index` counts from 0."""

    times: int = Field(ge=1, le=100_000)
    steps: list[StepSpec] = Field(min_length=1)


class StepSpec(_Strict):
    """One step: a `name` and exactly one kind."""

    name: str | None = None
    operator: OperatorStep | None = None
    send: SendStep | None = None
    fault: FaultStep | None = None
    callbacks: CallbacksStep | None = None
    wait: float | None = Field(None, ge=0, le=600, description="Seconds to pause.")
    expect: ExpectStep | None = None
    repeat: RepeatStep | None = None

    @model_validator(mode="after")
    def _one(self) -> StepSpec:
        given = [kind for kind in STEP_KINDS if getattr(self, kind) is not None]
        if len(given) != 1:
            msg = f"a step needs exactly one of {', '.join(STEP_KINDS)}; got {len(given)}"
            raise ValueError(msg)
        return self

    @property
    def kind(self) -> str:
        """Which kind of step this is."""
        return next(k for k in STEP_KINDS if getattr(self, k) is not None)


class ScenarioSpec(_Strict):
    """A scenario file."""

    model_config = ConfigDict(extra="forbid", title="mock-ft scenario")

    name: str = Field(min_length=1)
    description: str = Field(min_length=1, description="What the scenario proves.")
    tags: list[str] = Field(default_factory=list)
    seed: int | None = Field(None, description="Faker seed (default: --seed, else 0).")
    requires: list[Literal["operator", "rabbitmq", "kafka"]] = Field(
        default_factory=list, description="What must be there; without it the scenario is skipped."
    )
    variables: dict[str, Any] = Field(default_factory=dict, description="Rendered in order.")
    steps: list[StepSpec] = Field(min_length=1)


def scenario_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario file, as kept in contracts/scenario.schema.json."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://mock-ft.dev/contracts/scenario.schema.json",
        **ScenarioSpec.model_json_schema(by_alias=True),
    }
