"""Compiled callback rules: conditions that evaluate and templates already checked.

`compile_rule` refuses a rule whose event type, field paths, operators or placeholders name
nothing, listing each problem with its JSON path, so a rule never fails for that once loaded.
`RuleCompiler.load` compiles whole sets or files (see callbacks/sources.py).
A rule calls only allowed origins (the operator URL's, MOCK_FT_CALLBACK_ALLOWED_ORIGINS): the
mock sends the callback API key and shows the answer, so a rule must not aim them elsewhere.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mock_ft.callbacks.sources import load_rules
from mock_ft.callbacks.specs import OPERATORS, RuleSpec
from mock_ft.callbacks.templates import (
    EVENT_EXTRAS,
    MISSING,
    SEGMENTATION,
    check_path,
    check_template,
    has_placeholder,
    resolve,
)
from mock_ft.contracts import IntegrationContract
from mock_ft.errors import RuleError
from mock_ft.origins import Origin, origin_text, url_origin
from mock_ft.problems import Problem, json_path
from mock_ft.settings import Settings

__all__ = [
    "Condition",
    "Rule",
    "RuleCompiler",
    "compile_rule",
]

# Player values that come from the Operator API lookups: a rule using them waits for those.
_LOOKUP_FIELDS = frozenset({"profile", "consents", "blocked", "excluded", "lookups"})
_OPERATOR_URL = "{operator_url}"


@dataclass(slots=True, frozen=True)
class Condition:
    """`path op operand`, e.g. `amount gt 10`; a path that is absent only satisfies `exists: false`
    and `ne`."""

    path: tuple[str, ...]
    op: str
    operand: Any

    def holds(self, data: Mapping[str, Any]) -> bool:
        """True when the condition is met by `data`."""
        value = resolve(data, self.path)
        present = value is not MISSING
        if self.op == "exists":
            return present == bool(self.operand)
        if not present:
            return self.op == "ne"
        return _compare(self.op, value, self.operand)


def _compare(op: str, value: Any, operand: Any) -> bool:
    if op == "eq":
        return bool(value == operand)
    if op == "ne":
        return bool(value != operand)
    if op in ("in", "not_in"):
        return (value in operand) == (op == "in")
    if op in ("contains", "not_contains"):
        inside = isinstance(value, list | str | dict) and operand in value
        return inside == (op == "contains")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if op == "gt":
        return bool(value > operand)
    if op == "gte":
        return bool(value >= operand)
    if op == "lt":
        return bool(value < operand)
    return bool(value <= operand)


@dataclass(slots=True, frozen=True)
class Rule:
    """A rule ready to fire. `spec` keeps what was loaded (with its secret) for listing."""

    spec: RuleSpec
    url: str
    api_key: str | None
    where: tuple[Condition, ...]
    player: tuple[Condition, ...]
    needs_lookups: bool

    @property
    def id(self) -> str:
        """The rule's unique name."""
        return self.spec.id

    @property
    def event_type(self) -> str:
        """The event type that triggers it."""
        return self.spec.trigger.event

    def public(self) -> dict[str, Any]:
        """The rule as loaded, its key masked (`api_key: "***"` when one is set)."""
        data = self.spec.model_dump(mode="json")
        data["request"]["api_key"] = "***" if self.api_key else None
        return data


def _conditions(
    raw: dict[str, Any], trail: tuple[str | int, ...], kind: str, event_fields: Sequence[str] | None
) -> tuple[list[Condition], list[Problem]]:
    conditions, problems = [], []
    for path, spec in raw.items():
        where = json_path([*trail, path])
        reason = check_path(kind, path, event_fields)
        if reason is not None:
            problems.append(Problem(where, "unknown_field", reason))
            continue
        parts = tuple(path.split("."))
        if not isinstance(spec, dict):
            conditions.append(Condition(parts, "eq", spec))
            continue
        if not spec:
            problems.append(
                Problem(where, "empty_condition", f"no operator; use one of {', '.join(OPERATORS)}")
            )
        for op, operand in spec.items():
            if op not in OPERATORS:
                near = difflib.get_close_matches(str(op), OPERATORS, n=1)
                hint = f"; did you mean {near[0]}?" if near else ""
                message = f"unknown operator {op!r}{hint} (known: {', '.join(OPERATORS)})"
                problems.append(
                    Problem(json_path([*trail, path, str(op)]), "unknown_operator", message)
                )
            elif op in ("in", "not_in") and not isinstance(operand, list):
                message = f"{op} needs a list of values"
                problems.append(Problem(json_path([*trail, path, op]), "invalid_operand", message))
            else:
                conditions.append(Condition(parts, op, operand))
    return conditions, problems


def compile_rule(
    spec: RuleSpec,
    *,
    event_fields: Mapping[str, Sequence[str]],
    operator_url: str | None,
    default_api_key: str | None,
    allowed_origins: Collection[Origin] = (),
    trail: tuple[str | int, ...] = (),
) -> Rule:
    """Check a rule against the contract (`event_fields`: type -> its field names) and ready it."""
    problems: list[Problem] = []
    event_type = spec.trigger.event
    known = event_fields.get(event_type)
    fields: tuple[str, ...] | None = None
    if known is None:
        near = difflib.get_close_matches(event_type.upper(), list(event_fields), n=1)
        hint = f"; did you mean {near[0]}?" if near else ""
        message = f"unknown event type {event_type!r}{hint}"
        problems.append(
            Problem(json_path([*trail, "trigger", "event"]), "unknown_event_type", message)
        )
    else:
        fields = (*known, *EVENT_EXTRAS)
    where, found = _conditions(spec.trigger.where, (*trail, "trigger", "where"), "event", fields)
    problems += found
    player, found = _conditions(
        spec.trigger.player, (*trail, "trigger", "player"), "player", fields
    )
    problems += found
    request = spec.request
    url = request.url
    url_path = json_path([*trail, "request", "url"])
    if url.startswith(_OPERATOR_URL):
        if not operator_url:
            message = (
                "uses {operator_url} but no operator URL is set; pass --operator-url or set "
                "MOCK_FT_OPERATOR_URL"
            )
            problems.append(Problem(url_path, "no_operator_url", message))
        url = (operator_url or "").rstrip("/") + url[len(_OPERATOR_URL) :]
    if not url.startswith(("http://", "https://")) and not any(
        p.path == url_path for p in problems
    ):
        message = (
            f"{request.url!r} is not an http(s) URL; e.g. {{operator_url}}/callbacks/bonus/cancel"
        )
        problems.append(Problem(url_path, "invalid_url", message))
    if not any(p.path == url_path for p in problems):
        problems += _origin_problems(url, url_path, operator_url, allowed_origins)
    names = list(request.action_fields)
    problems += check_template(
        url, (*trail, "request", "url"), event_fields=fields, action_fields=names
    )
    problems += check_template(
        request.body, (*trail, "request", "body"), event_fields=fields, action_fields=names
    )
    problems += check_template(
        request.action_fields,
        (*trail, "request", "action_fields"),
        event_fields=fields,
        action_fields=None,
    )
    if request.method == "GET" and request.body is not None:
        message = "a GET callback sends no body; remove `body` or use POST"
        problems.append(Problem(json_path([*trail, "request", "body"]), "body_on_get", message))
    if problems:
        listed = "; ".join(f"{p.path}: {p.message}" for p in problems)
        message = f"callback rule {spec.id!r} is invalid: {listed}"
        raise RuleError(message, tuple(problems))
    key = request.api_key.get_secret_value() if request.api_key else default_api_key
    return Rule(spec, url, key, tuple(where), tuple(player), _needs_lookups(spec, player))


def _origin_problems(
    url: str, where: str, operator_url: str | None, allowed: Collection[Origin]
) -> list[Problem]:
    """The URL must name its origin outright (a placeholder there would let an event pick where
    the call goes) and that origin must be allowed."""
    scheme, rest = url.split("://", 1)
    authority = rest.split("/", 1)[0]  # rendered values are percent-encoded: no `/` of their own
    if has_placeholder(authority) or "{" in authority or "#" in authority:
        message = (
            f"{authority!r}: a placeholder may not pick the host; write scheme://host[:port]/ "
            "outright and put placeholders after the first `/`"
        )
        return [Problem(where, "placeholder_in_origin", message)]
    origin = url_origin(url)
    if origin is None:
        message = f"{scheme}://{authority} has no valid host and port"
        return [Problem(where, "invalid_url", message)]
    if origin in allowed:
        return []
    operator = url_origin(operator_url) if operator_url else None
    own = f"the operator URL's origin ({origin_text(operator)})" if operator else "no origin"
    message = (
        f"{origin_text(origin)} is not an allowed callback origin: rules may call {own} "
        "unless callback_allowed_origins (MOCK_FT_CALLBACK_ALLOWED_ORIGINS) lists it"
    )
    return [Problem(where, "origin_not_allowed", message)]


def _needs_lookups(spec: RuleSpec, player: list[Condition]) -> bool:
    """True when the rule reads player values that only the Operator API lookups provide."""
    if any(c.path[0] in _LOOKUP_FIELDS for c in player):
        return True
    request = spec.request
    text = repr((request.body, request.action_fields, request.url))
    markers = [f"{{player.{name}" for name in _LOOKUP_FIELDS]
    markers += [f"#{name}#" for name, path in SEGMENTATION.items() if path[0] in _LOOKUP_FIELDS]
    return any(marker in text for marker in markers)


class RuleCompiler:
    """Compiles rules for one mock: its contract's event types and its settings."""

    def __init__(self, settings: Settings, contract: IntegrationContract) -> None:
        self.event_fields = {
            event_type: tuple(route.schema.get("properties", {}))
            for event_type, route in contract.by_type().items()
        }
        self.operator_url = settings.operator_url
        origins = [url_origin(o) for o in settings.callback_allowed_origins]
        if settings.operator_url:
            origins.append(url_origin(settings.operator_url))
        self.allowed_origins = frozenset(o for o in origins if o is not None)
        key = settings.callback_api_key
        self.default_api_key = key.get_secret_value() if key else None

    def __call__(self, spec: RuleSpec, trail: tuple[str | int, ...] = ()) -> Rule:
        """`compile_rule` with this mock's contract and settings."""
        return compile_rule(
            spec,
            event_fields=self.event_fields,
            operator_url=self.operator_url,
            default_api_key=self.default_api_key,
            allowed_origins=self.allowed_origins,
            trail=trail,
        )

    def load(self, sources: Sequence[str]) -> list[Rule]:
        """Every rule of the given sets or files, compiled; RuleError names the source."""
        rules = []
        for source in sources:
            for index, spec in enumerate(load_rules(source)):
                try:
                    rules.append(self(spec, ("rules", index)))
                except RuleError as exc:
                    message = f"{source}: {exc.message}"
                    raise RuleError(message, exc.problems) from None
        return rules
