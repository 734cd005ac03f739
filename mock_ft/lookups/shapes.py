"""FT's strict shapes for Operator API answers, from contracts/operator-api.yaml."""

from __future__ import annotations

from functools import cache
from typing import Any

import jsonschema_rs

from mock_ft.contracts import contracts_dir, parse_contract_yaml
from mock_ft.problems import Problem, json_path

__all__ = ["OPERATOR_CONTRACT_FILE", "operator_contract", "shape_problems"]

OPERATOR_CONTRACT_FILE = "operator-api.yaml"


@cache
def operator_contract() -> dict[str, Any]:
    """The Operator API contract document (read once)."""
    document: dict[str, Any] = parse_contract_yaml(
        (contracts_dir() / OPERATOR_CONTRACT_FILE).read_text(encoding="utf-8")
    )
    return document


@cache
def _validator(component: str) -> Any:
    schema = {
        "$ref": f"#/components/schemas/{component}",
        "components": operator_contract()["components"],
    }
    return jsonschema_rs.Draft202012Validator(schema, validate_formats=True)


def shape_problems(component: str, body: Any) -> list[Problem]:
    """Each way `body` breaks FT's shape `component`, with the JSON path of the value."""
    problems = [
        Problem(json_path(list(error.instance_path)), "shape", error.message)
        for error in _validator(component).iter_errors(body)
    ]
    return sorted(problems, key=lambda p: p.path)
