"""Validate event bodies against the contract, with FT's verdicts and human messages.

Schema-required fields and schema constraints are hard errors; fields only FT's docs call required
(`x-ft-doc-required`) and values outside a docs-only enum (`x-ft-doc-enum`) are warnings.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

import jsonschema_rs

from mock_ft.contracts import EventRoute, IntegrationContract
from mock_ft.ingest.timestamps import parse_ft_timestamp
from mock_ft.problems import Problem, json_path, json_type

__all__ = ["EventValidator", "Verdict"]

_FORMATS = {"date-time": lambda value: parse_ft_timestamp(value) is not None}
_TIMESTAMP_EXAMPLE = "2026-11-21T10:15:30Z"


@dataclass(slots=True)
class Verdict:
    """The outcome of validating one body: hard errors reject it, warnings are only recorded."""

    errors: tuple[Problem, ...]
    warnings: tuple[Problem, ...]


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
        options = [str(o) for o in kind.options]
        message = f"must be one of {', '.join(options)} (case-sensitive), got {value!r}"
        if isinstance(value, str):
            same_case = [o for o in options if o.lower() == value.lower()]
            near = same_case or difflib.get_close_matches(value, options, n=1)
            if near:
                message += f"; did you mean {near[0]!r}?"
        return Problem(json_path(parts), "enum", message)
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
    if name == "Pattern":
        return Problem(
            json_path(parts), "pattern", f"must match the pattern {kind.pattern}, got {value!r}"
        )
    return Problem(json_path(parts), name.lower(), error.message)


_CLEAN = Verdict((), ())  # the usual verdict, shared (a Verdict is never changed)


class EventValidator:
    """Validators for every event route of a contract, compiled once."""

    def __init__(self, contract: IntegrationContract) -> None:
        self._compiled = {
            route.event_type: (
                route,
                jsonschema_rs.Draft202012Validator(
                    route.schema, formats=_FORMATS, validate_formats=True
                ),
                tuple(
                    (field, tuple(spec["x-ft-doc-enum"]))
                    for field, spec in route.schema.get("properties", {}).items()
                    if "x-ft-doc-enum" in spec
                ),
                frozenset(route.doc_required),
            )
            for route in contract.routes
        }

    def validate(self, event_type: str, payload: Any) -> Verdict:
        """Judge `payload` as an event of `event_type` the way FT would."""
        route, validator, doc_enums, doc_required = self._compiled[event_type]
        if validator.is_valid(payload):  # fast path: no error objects for the common case
            # The usual event has every field the docs ask for (a C-level subset test).
            if doc_enums or not payload.keys() >= doc_required:
                warnings = _doc_warnings(route, doc_enums, payload)
                return Verdict((), warnings) if warnings else _CLEAN
            return _CLEAN
        errors = sorted(
            (_describe(error) for error in validator.iter_errors(payload)),
            key=lambda p: (p.path, p.code),
        )
        return Verdict(tuple(errors), ())


def _doc_warnings(
    route: EventRoute, doc_enums: tuple[tuple[str, tuple[str, ...]], ...], payload: dict[str, Any]
) -> tuple[Problem, ...]:
    warnings = [
        Problem(
            json_path([field]),
            "doc_required",
            "is required by FT's documentation (not by its schema); send it to avoid surprises",
        )
        for field in route.doc_required
        if field not in payload
    ]
    for field, doc_enum in doc_enums:
        if field in payload and payload[field] not in doc_enum:
            warnings.append(
                Problem(
                    json_path([field]),
                    "doc_enum",
                    f"{payload[field]!r} is allowed by FT's schema, but its docs list only "
                    f"{', '.join(doc_enum)}",
                )
            )
    return tuple(warnings)
