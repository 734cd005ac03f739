"""What a fault rule says, as data: the model `/_mock/faults`, the config file and `--fault` share.

A rule matches attempts (transport, path, event type, user id; each optional) and does one thing
to them. Over REST: answer an error `status` (with `Retry-After` for a 429 or 503), `delay` the
answer, hold the connection and drop it without answering (`timeout`), `reset` it (TCP RST), or
accept the event and then drop the answer (`drop_answer`: FT has it, the operator never hears so).
Over a broker: `delay` the ack, `nack` the message back, `close_channel`, or `pause` consuming.
A rule acts only on transports that can do its action. The CLI
form is `key=value` words, e.g. `503 retry_after=1 probability=30% type=PAYMENT`.
"""

from __future__ import annotations

import difflib
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    field_validator,
)

__all__ = [
    "ACTIONS",
    "ACTIONS_BY_TRANSPORT",
    "BROKER_ACTIONS",
    "CONNECTION_ACTIONS",
    "FaultSpec",
    "fault_spec",
    "parse_fault",
]

ACTIONS: tuple[str, ...] = (
    "status",
    "delay",
    "timeout",
    "reset",
    "drop_answer",
    "nack",
    "close_channel",
    "pause",
)
CONNECTION_ACTIONS = frozenset({"timeout", "reset", "drop_answer"})  # no HTTP answer at all
BROKER_ACTIONS = frozenset({"nack", "close_channel", "pause"})  # the message goes back
# What each transport can do; a rule whose action a transport cannot do never matches there.
ACTIONS_BY_TRANSPORT: dict[str, frozenset[str]] = {
    "rest": frozenset({"status", "delay", *CONNECTION_ACTIONS}),
    "rabbitmq": frozenset({"delay", *BROKER_ACTIONS}),
    "kafka": frozenset({"delay", *BROKER_ACTIONS}),
}
DEFAULT_HOLD_MS = 30_000  # how long `timeout` holds the connection when delay_ms is not given
DEFAULT_PAUSE_MS = 5_000  # how long `pause` stops consumption when delay_ms is not given
_STATUSES = ("429", "500", "502", "503")
_ALIASES = {
    "type": "event_type",
    "user": "user_id",
    "delay": "delay_ms",
    "hold": "delay_ms",
    "hold_ms": "delay_ms",
    "first": "first_attempts",
    "p": "probability",
}
_INTEGER_FIELDS = frozenset({"status", "retry_after", "times", "first_attempts"})
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s)?$")


class _Fault(BaseModel):
    """What every rule has: which attempts it matches, and how often it acts."""

    model_config = ConfigDict(extra="forbid")

    transport: Literal["rest", "rabbitmq", "kafka"] | None = None
    path: str | None = Field(None, description="FT path, e.g. /v1/integration/payment.")
    event_type: str | None = Field(None, description="FT event type, e.g. PAYMENT.")
    user_id: str | None = None
    times: int | None = Field(None, ge=1, description="Act only on the next N matching attempts.")
    first_attempts: int | None = Field(
        None, ge=1, description="Act on the first N attempts of each distinct event, then pass."
    )
    probability: float = Field(
        1.0, gt=0, le=1, allow_inf_nan=False, description="Chance to act on a matching attempt."
    )

    @field_validator(
        "status",
        "retry_after",
        "delay_ms",
        "times",
        "first_attempts",
        "probability",
        mode="before",
        check_fields=False,
    )
    @classmethod
    def _no_booleans(cls, value: Any) -> Any:
        if isinstance(value, bool):  # JSON true is not a number, though Python's bool is an int
            msg = "must be a number, not a boolean"
            raise ValueError(msg)
        return value

    def words(self) -> str:
        """The rule in the --fault form, e.g. `503 retry_after=1 probability=30% type=PAYMENT`."""
        fields = self.model_dump()  # the variant's fields: only a status rule has `status`
        action = fields["action"]
        out = [str(fields["status"]) if action == "status" else action]
        for name, value in self.model_dump(exclude_defaults=True).items():
            if name in ("action", "status"):
                continue
            out.append(
                f"probability={value * 100:g}%" if name == "probability" else f"{name}={value}"
            )
        return " ".join(out)


_DELAY = "wait this long before the error answer"


class StatusFault(_Fault):
    """Answer an error status (the default action), with `Retry-After` when given."""

    action: Literal["status"] = "status"
    transport: Literal["rest"] | None = Field(
        None, description="Only `rest` (or none): this action is an HTTP answer."
    )
    status: Literal[429, 500, 502, 503] = Field(503, description="Status to answer.")
    retry_after: int | None = Field(
        None, ge=0, le=86_400, description="`Retry-After` seconds to send."
    )
    delay_ms: int | None = Field(None, ge=0, le=600_000, description=f"Milliseconds to {_DELAY}.")


class DelayFault(_Fault):
    """Take the event as usual, but hold the answer for `delay_ms`."""

    action: Literal["delay"]
    delay_ms: int = Field(ge=0, le=600_000, description="How long the answer waits (ms).")


class TimeoutFault(_Fault):
    """Hold the connection for `delay_ms` (30 s), then drop it without an answer."""

    action: Literal["timeout"]
    transport: Literal["rest"] | None = Field(
        None, description="Only `rest` (or none): this action is an HTTP answer."
    )
    delay_ms: int | None = Field(
        None, ge=0, le=600_000, description="How long the connection is held (ms; 30,000)."
    )


class ResetFault(_Fault):
    """Reset the connection at once (TCP RST), without an answer."""

    action: Literal["reset"]
    transport: Literal["rest"] | None = Field(
        None, description="Only `rest` (or none): this action is an HTTP answer."
    )


class DropAnswerFault(_Fault):
    """Accept and journal the event, then drop the connection before answering."""

    action: Literal["drop_answer"]
    transport: Literal["rest"] | None = Field(
        None, description="Only `rest` (or none): this action is an HTTP answer."
    )
    delay_ms: int | None = Field(
        None, ge=0, le=600_000, description="Milliseconds to wait before dropping."
    )


class NackFault(_Fault):
    """Broker: put the message back (RabbitMQ nack with requeue; Kafka: seek back) unjournaled."""

    action: Literal["nack"]
    transport: Literal["rabbitmq", "kafka"] | None = Field(
        None, description="A broker (or none): this action acts on broker messages."
    )


class CloseChannelFault(_Fault):
    """Broker: close the channel (RabbitMQ) or leave the group (Kafka); unacked ones come back."""

    action: Literal["close_channel"]
    transport: Literal["rabbitmq", "kafka"] | None = Field(
        None, description="A broker (or none): this action acts on broker messages."
    )


class PauseFault(_Fault):
    """Broker: stop consuming for `delay_ms` (5,000), or until the rule is removed (DELETE
    /_mock/faults): the backlog grows and must then drain."""

    action: Literal["pause"]
    transport: Literal["rabbitmq", "kafka"] | None = Field(
        None, description="A broker (or none): this action acts on broker messages."
    )
    delay_ms: int | None = Field(
        None,
        ge=0,
        le=600_000,
        description="How long consumption stops (ms; 5,000); removing the rule ends it sooner.",
    )


def _action_of(value: Any) -> str | None:
    # A mapping when validating input, a rule model when serialising; anything else is invalid.
    action = (
        value.get("action", "status") if isinstance(value, dict) else getattr(value, "action", None)
    )
    return action if isinstance(action, str) else None  # pydantic lists the valid actions


FaultSpec = Annotated[
    Annotated[StatusFault, Tag("status")]
    | Annotated[DelayFault, Tag("delay")]
    | Annotated[TimeoutFault, Tag("timeout")]
    | Annotated[ResetFault, Tag("reset")]
    | Annotated[DropAnswerFault, Tag("drop_answer")]
    | Annotated[NackFault, Tag("nack")]
    | Annotated[CloseChannelFault, Tag("close_channel")]
    | Annotated[PauseFault, Tag("pause")],
    Discriminator(
        _action_of,
        custom_error_type="invalid_action",
        custom_error_message=f"action must be one of {', '.join(ACTIONS)}",
    ),
]
FaultSpecs = TypeAdapter(list[FaultSpec])
_ONE = TypeAdapter(FaultSpec)


def fault_spec(data: Any) -> _Fault:
    """Validate one rule (a mapping); pydantic's ValidationError when it is wrong."""
    spec: _Fault = _ONE.validate_python(data)
    return spec


_FIELDS = ("action", "status", "retry_after", "delay_ms", *_Fault.model_fields)


def parse_fault(text: str) -> dict[str, Any]:
    """Read the CLI form (`503 retry_after=1 probability=30% type=PAYMENT`) into FaultSpec fields.

    Words are separated by spaces or commas; a bare status code or action name stands for
    `status=` or `action=`; `30%` is a probability; delays take `ms` or `s`. Raises ValueError
    with a message that names the word it could not read.
    """
    fields: dict[str, Any] = {}
    words = [w for w in re.split(r"[\s,]+", text.strip()) if w]
    if not words:
        msg = "an empty fault rule; e.g. '503 retry_after=1 probability=30% type=PAYMENT'"
        raise ValueError(msg)
    for word in words:
        key, sep, value = word.partition("=")
        if not sep:
            key, value = _bare(word)
        key = key.strip().lower().replace("-", "_")
        key = _ALIASES.get(key, key)
        if key not in _FIELDS:
            near = difflib.get_close_matches(key, [*_FIELDS, *_ALIASES], n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            msg = f"unknown fault field {key!r} in {word!r}{hint}"
            raise ValueError(msg)
        fields[key] = _value(key, value)
    return fields


def _bare(word: str) -> tuple[str, str]:
    if word in _STATUSES:
        return "status", word
    if word.lower() in ACTIONS:
        return "action", word.lower()
    if word.endswith("%"):
        return "probability", word
    msg = f"cannot read {word!r}: use key=value, a status ({', '.join(_STATUSES)}) or an action"
    raise ValueError(msg)


def _value(key: str, value: str) -> Any:
    """Convert the text the way the field needs; pydantic then checks ranges and choices."""
    if key == "probability" and value.endswith("%"):
        try:
            return float(value[:-1]) / 100
        except ValueError:
            return value  # pydantic names it
    if key == "delay_ms":
        match = _DURATION.match(value)
        if match:
            number, unit = float(match.group(1)), match.group(2)
            return round(number * 1000) if unit == "s" else round(number)
    if key in _INTEGER_FIELDS and value.isdigit():
        return int(value)
    return value
