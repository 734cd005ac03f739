"""Validate event bodies against the contract, with FT's verdicts and human messages.

FT's published schema decides accept or refuse: its constraints are hard errors. A rule only FT's
docs state is marked in the contract (`x-ft-doc-required` on an object, `x-ft-doc-<keyword>` with
`x-ft-doc-reason` on a value) and breaking it is a warning that carries the reason. Each event type
gets two compiled schemas: FT's, and a strict one with the docs-only rules made real. The usual
event passes the strict one at once; only an event that fails it is judged by FT's schema, and
the strict schema's errors then name the docs-only rules it breaks.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

import jsonschema_rs

from mock_ft.contracts import IntegrationContract
from mock_ft.errors import ContractError
from mock_ft.ingest.timestamps import parse_ft_timestamp
from mock_ft.problems import Problem, json_path, json_type

__all__ = ["DOC_KEYWORDS", "EventValidator", "Verdict", "strict_schema"]

_FORMATS = {"date-time": lambda value: parse_ft_timestamp(value) is not None}
_TIMESTAMP_EXAMPLE = "2026-11-21T10:15:30Z"
_DOC = "x-ft-doc-"
# Docs-only rule keyword -> the warning code breaking it earns.
DOC_KEYWORDS = {
    "required": "doc_required",
    "enum": "doc_enum",
    "pattern": "doc_pattern",
    "minLength": "doc_min_length",
    "minimum": "doc_minimum",
    "minItems": "doc_min_items",
}
_KIND_KEYWORD = {
    "Required": "required",
    "Enum": "enum",
    "Pattern": "pattern",
    "MinLength": "minLength",
    "Minimum": "minimum",
    "MinItems": "minItems",
}
# FT's internal "enriched" events (its rewards backend) spell `type` and `status` in lower case,
# and payment types as deposit/withdrawal (facts file, section 11).
_ENRICHED_FIELDS = frozenset({"type", "status"})
_ENRICHED_WORDS = frozenset({"deposit", "withdrawal"})


@dataclass(slots=True)
class Verdict:
    """The outcome of validating one body: hard errors reject it, warnings are only recorded."""

    errors: tuple[Problem, ...]
    warnings: tuple[Problem, ...]


def strict_schema(node: Any) -> Any:
    """`node` with every docs-only rule (`x-ft-doc-<keyword>`) turned into the real keyword."""
    if isinstance(node, list):
        return [strict_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: strict_schema(value) for key, value in node.items()}
    for key, value in node.items():
        if key.startswith(_DOC) and key != _DOC + "reason":
            keyword = key.removeprefix(_DOC)
            if keyword not in DOC_KEYWORDS:
                known = ", ".join(_DOC + k for k in DOC_KEYWORDS)
                msg = f"unknown docs-only rule {key!r} in the contract; use one of {known}"
                raise ContractError(msg)
            if keyword == "required":
                out["required"] = [*node.get("required", ()), *value]
            else:
                out[keyword] = value
    return out


def _describe(error: Any) -> Problem:
    kind = error.kind
    parts = list(error.instance_path)
    name = type(kind).__name__
    value = error.instance
    if name == "Required":
        return Problem(json_path([*parts, kind.property]), "required", "is required")
    if name == "Type":
        expected = " or ".join(str(t) for t in kind.types)
        return Problem(json_path(parts), "type", f"must be {expected}, got {json_type(value)}")
    if name == "Enum":
        field = parts[-1] if parts else None
        return Problem(json_path(parts), "enum", _enum_message(kind.options, value, field))
    if name == "Minimum":
        return Problem(json_path(parts), "minimum", f"must be >= {kind.limit}, got {value!r}")
    if name == "MinLength":
        return Problem(json_path(parts), "min_length", "must not be empty")
    if name == "MinItems":
        return Problem(json_path(parts), "min_items", f"must have at least {kind.limit} item(s)")
    if name == "Format":
        return Problem(
            json_path(parts),
            "format",
            f"must be an RFC 3339 date-time such as {_TIMESTAMP_EXAMPLE}, got {value!r}",
        )
    return Problem(json_path(parts), name.lower(), error.message)


def _enum_message(raw_options: Any, value: Any, field: Any) -> str:
    options = [str(o) for o in raw_options]
    message = f"must be one of {', '.join(options)} (case-sensitive), got {value!r}"
    if isinstance(value, str):
        same_case = [o for o in options if o.lower() == value.lower()]
        near = same_case or difflib.get_close_matches(value, options, n=1)
        if near:
            message += f"; did you mean {near[0]!r}?"
        enriched = value in _ENRICHED_WORDS or (same_case and value.islower())
        if enriched and field in _ENRICHED_FIELDS:
            message += (
                "; lower-case values such as 'deposit' and 'approved' are FT's internal "
                "enriched events (its rewards backend), never what an operator sends"
            )
    return message


_CLEAN = Verdict((), ())  # the usual verdict, shared (a Verdict is never changed)


@dataclass(slots=True, frozen=True)
class _Compiled:
    ft: Any  # FT's schema: decides accept or refuse
    strict: Any  # with the docs-only rules: its extra errors are warnings
    schema: dict[str, Any]  # the strict schema, to find each rule's reason


class EventValidator:
    """Validators for every event route of a contract, compiled once."""

    def __init__(self, contract: IntegrationContract) -> None:
        self._compiled: dict[str, _Compiled] = {}
        for route in contract.routes:
            strict = strict_schema(route.schema)
            self._compiled[route.event_type] = _Compiled(
                _compile(route.schema), _compile(strict), strict
            )

    def validate(self, event_type: str, payload: Any) -> Verdict:
        """Judge `payload` as an event of `event_type` the way FT would."""
        compiled = self._compiled[event_type]
        if compiled.strict.is_valid(payload):  # fast path: no error objects for the usual case
            return _CLEAN
        if compiled.ft.is_valid(payload):
            warnings = sorted(
                (_doc_warning(compiled.schema, e) for e in compiled.strict.iter_errors(payload)),
                key=lambda p: (p.path, p.code),
            )
            return Verdict((), tuple(warnings))
        errors = sorted(
            (_describe(error) for error in compiled.ft.iter_errors(payload)),
            key=lambda p: (p.path, p.code),
        )
        return Verdict(tuple(errors), ())


def _compile(schema: dict[str, Any]) -> Any:
    return jsonschema_rs.Draft202012Validator(schema, formats=_FORMATS, validate_formats=True)


def _doc_warning(schema: dict[str, Any], error: Any) -> Problem:
    """A strict-schema error on a body FT's schema accepts: the docs-only rule it breaks."""
    kind = error.kind
    keyword = _KIND_KEYWORD[type(kind).__name__]  # strict_schema adds no other keyword
    parts = list(error.instance_path)
    value = error.instance
    if keyword == "required":
        message = (
            "is required by FT's documentation (not by its schema); send it to avoid surprises"
        )
        return Problem(json_path([*parts, kind.property]), "doc_required", message)
    if keyword == "enum":
        allowed = ", ".join(str(o) for o in kind.options)
        message = f"{value!r} is allowed by FT's schema, but its docs list only {allowed}"
        return Problem(json_path(parts), "doc_enum", message)
    node: Any = schema
    for part in list(error.schema_path)[:-1]:  # the schema node holding the rule
        node = node[part]
    if keyword == "pattern":
        what = f"{value!r} does not match {kind.pattern}"
    elif keyword == "minLength":
        what = "is empty"
    elif keyword == "minimum":
        what = f"{value!r} is below {kind.limit}"
    else:  # minItems
        what = f"has fewer than {kind.limit} item(s)"
    reason = node.get(_DOC + "reason", "FT's docs ask for it")
    message = f"{what}; FT's schema accepts it, but {reason}"
    return Problem(json_path(parts), DOC_KEYWORDS[keyword], message)
