"""Value-level negatives: a valid body with one of FT's constraints broken, from the contract.

Schemathesis' invalid requests mostly carry random user ids, so an operator answers 404 before
the bad value matters. These start from a body that is valid for a known user and would change
state if accepted, and break one constraint of `contracts/operator-api.yaml` at a time: each
required key dropped, a wrong JSON type, an unknown or wrongly-cased enum value, a number below
its minimum, a string below its minLength (or above its maxLength), too few or too many items.
Arrays are broken in their last item, so an operator that applies the items before it and only
then refuses is seen to change state.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from mock_ft.lookups.shapes import operator_contract
from mock_ft.problems import json_path

__all__ = ["Negative", "negatives", "request_schema"]

_MISSING = object()
UNKNOWN_VALUE = "mockft-unknown"
Keys = list[str | int]


@dataclass(frozen=True, slots=True)
class Negative:
    """One broken body and, in words, which of FT's constraints it breaks."""

    breaks: str  # e.g. "$.amount below FT's minimum 0 (-1)"
    body: Any


def request_schema(path: str) -> dict[str, Any]:
    """The JSON request-body schema of `POST path` in the Operator API contract."""
    operation = operator_contract()["paths"][path]["post"]
    schema: dict[str, Any] = operation["requestBody"]["content"]["application/json"]["schema"]
    return schema


def negatives(schema: dict[str, Any], base: Any) -> list[Negative]:
    """Each single-constraint break of `base` (valid against `schema`), in document order."""
    return list(_walk(schema, base, []))


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = operator_contract()["components"]["schemas"][name]
    return schema


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object" if isinstance(value, dict) else "null"


def _branch(schema: dict[str, Any], value: Any) -> dict[str, Any]:
    """Of a oneOf/anyOf, the branch `value` is an instance of (by JSON type)."""
    for branch in map(_resolve, schema.get("oneOf", schema.get("anyOf", []))):
        types = branch.get("type", [])
        if _json_type(value) in ([types] if isinstance(types, str) else types):
            return branch
    return schema


def _with(base: Any, keys: Keys, value: Any) -> Any:
    body = copy.deepcopy(base)
    target = body
    for key in keys[:-1]:
        target = target[key]
    if value is _MISSING:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    return body


def _wrong_type(value: Any) -> tuple[Any, str] | None:
    """A value of another JSON type that a lenient parser might still take for this one."""
    kind = _json_type(value)
    if kind == "string":
        return (int(value) if value.isdigit() else 1), "a number, not a string"
    if kind == "number":
        return f"{value}", "a string, not a number"
    if kind == "boolean":
        return str(value).lower(), "a string, not a boolean"
    if kind == "array":
        return {}, "an object, not an array"
    return None


def _case_variant(value: str) -> str:
    return value.upper() if value != value.upper() else value.lower()


def _at(root: Any, keys: Keys) -> Any:
    value = root
    for key in keys:
        value = value[key]
    return value


def _walk(schema: dict[str, Any], root: Any, keys: Keys) -> Iterator[Negative]:
    value = _at(root, keys)
    schema = _branch(_resolve(schema), value)
    if keys:
        for breaks, broken in _value_breaks(schema, value, json_path(keys)):
            yield Negative(breaks, _with(root, keys, broken))
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key in value:
                missing = _with(root, [*keys, key], _MISSING)
                yield Negative(f"a body without {json_path([*keys, key])}", missing)
        properties = schema.get("properties", {})
        for key in value:
            if key in properties:
                yield from _walk(properties[key], root, [*keys, key])
    elif isinstance(value, list) and value and "items" in schema:
        yield from _walk(schema["items"], root, [*keys, len(value) - 1])


def _value_breaks(schema: dict[str, Any], value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """(which constraint, in words; the value that breaks it) for the value at `path`."""
    wrong = _wrong_type(value) if "type" in schema else None
    if wrong is not None:
        yield f"{path} as {wrong[1]} ({wrong[0]!r})", wrong[0]
    if "enum" in schema and isinstance(value, str):
        yield f"an unknown {path} ({UNKNOWN_VALUE!r})", UNKNOWN_VALUE
        variant = _case_variant(value)
        if variant not in schema["enum"]:
            yield f"{path} in another case ({variant!r}; FT's enums are exact)", variant
    if "minimum" in schema:
        low = schema["minimum"] - 1
        yield f"{path} below FT's minimum {schema['minimum']:g} ({low:g})", low
    if "exclusiveMinimum" in schema:
        low = schema["exclusiveMinimum"]
        yield f"{path} at FT's exclusive minimum ({low:g})", low
    if "minLength" in schema:
        short = "x" * (schema["minLength"] - 1)
        yield f"{path} shorter than FT's minLength {schema['minLength']} ({short!r})", short
    if "maxLength" in schema:
        yield (
            f"{path} longer than FT's maxLength {schema['maxLength']}",
            "x" * (schema["maxLength"] + 1),
        )
    if "minItems" in schema and isinstance(value, list):
        n = schema["minItems"]
        yield f"{path} with fewer than {n} item(s)", value[: n - 1]
    if "maxItems" in schema and isinstance(value, list) and value:
        n = schema["maxItems"]
        yield f"{path} with more than {n} items", (value * (n + 1))[: n + 1]
