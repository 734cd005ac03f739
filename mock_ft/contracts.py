"""Loads `contracts/`, the single source of truth, and exposes the Integration API's event routes.

The mock's validation, its routing table, its OpenAPI document and the demo's samples all derive
from `contracts/integration-api.yaml`; nothing about an event's shape is written twice in code.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from mock_ft.errors import ConfigError, ContractError

__all__ = [
    "EventRoute",
    "IntegrationContract",
    "asyncapi_document",
    "contracts_dir",
    "deviations",
    "integration_contract",
    "parse_contract_yaml",
]

# libyaml's parser where PyYAML was built with it: the contracts are parsed at every start, and it
# takes a tenth of the pure-Python parser's time (0.01 s against 0.09 s for the Integration API).
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

INTEGRATION_FILE = "integration-api.yaml"
ASYNCAPI_FILE = "asyncapi.yaml"


@dataclass(slots=True, frozen=True)
class EventRoute:
    """One event of FT's Integration API: where it is posted and what it must look like."""

    event_type: str
    method: str
    path: str
    operation_id: str
    schema: dict[str, Any]
    doc_required: tuple[str, ...]
    idempotency_key: tuple[str, ...]
    example: dict[str, Any]
    path_setting: str | None = None  # FT does not publish the REST path: this setting moves it


@dataclass(slots=True, frozen=True)
class IntegrationContract:
    """The parsed Integration API contract."""

    document: dict[str, Any]
    routes: tuple[EventRoute, ...]

    def by_type(self) -> dict[str, EventRoute]:
        """Routes keyed by event type (USER_CREATE_V2, PAYMENT, ...)."""
        return {route.event_type: route for route in self.routes}

    def by_method_path(self) -> dict[tuple[str, str], EventRoute]:
        """Routes keyed by (HTTP method, path)."""
        return {(route.method, route.path): route for route in self.routes}

    def with_paths(self, settings: dict[str, str]) -> IntegrationContract:
        """The contract with each unpublished REST path (`x-ft-path-unpublished`) moved to the
        path its setting in `settings` names; the document's `paths` follow."""
        moved = {
            route.path: settings[route.path_setting]
            for route in self.routes
            if route.path_setting in settings and settings[route.path_setting] != route.path
        }
        if not moved:
            return self
        taken = {route.path for route in self.routes} - set(moved)
        for old, new in moved.items():
            if new in taken or not new.startswith("/"):
                msg = (
                    f"cannot serve {old} on {new!r}: give a path starting with / that is not "
                    "already an FT Integration API path"
                )
                raise ConfigError(msg)
        document = {
            **self.document,
            "paths": {moved.get(path, path): item for path, item in self.document["paths"].items()},
        }
        routes = tuple(replace(r, path=moved.get(r.path, r.path)) for r in self.routes)
        return IntegrationContract(document=document, routes=routes)


def contracts_dir() -> Path:
    """The contracts folder: bundled in the wheel, or the repository's own in a checkout."""
    bundled = resources.files("mock_ft") / "_contracts"
    if bundled.is_dir():
        return Path(str(bundled))
    return Path(__file__).resolve().parent.parent / "contracts"


def _inline_refs(node: Any, document: dict[str, Any], trail: tuple[str, ...] = ()) -> Any:
    """Replace local `$ref`s by copies of their targets, so each event schema stands alone."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            if ref in trail:
                msg = f"recursive $ref {ref} in {INTEGRATION_FILE}; event schemas must not recurse"
                raise ContractError(msg)
            target: Any = document
            for part in ref.removeprefix("#/").split("/"):
                if not isinstance(target, dict) or part not in target:
                    msg = f"{INTEGRATION_FILE}: $ref {ref} points nowhere; fix the reference"
                    raise ContractError(msg)
                target = target[part]
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            resolved = _inline_refs(target, document, (*trail, ref))
            return {**resolved, **siblings} if siblings else resolved
        return {key: _inline_refs(value, document, trail) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline_refs(item, document, trail) for item in node]
    return node


def _route(path: str, method: str, operation: dict[str, Any], doc: dict[str, Any]) -> EventRoute:
    where = f"{INTEGRATION_FILE} {method.upper()} {path}"
    try:
        event_type = operation["x-ft-event-type"]
        media = operation["requestBody"]["content"]["application/json"]
        raw_schema = media["schema"]
    except KeyError as exc:
        msg = f"{where} lacks {exc.args[0]!r}; every ingest operation needs it"
        raise ContractError(msg) from None
    schema = _inline_refs(copy.deepcopy(raw_schema), doc)
    example = _inline_refs(copy.deepcopy(media.get("example", {})), doc)
    return EventRoute(
        event_type=event_type,
        method=method.upper(),
        path=path,
        operation_id=operation.get("operationId", event_type.lower()),
        schema=schema,
        doc_required=tuple(schema.get("x-ft-doc-required", ())),
        idempotency_key=tuple(operation.get("x-ft-idempotency-key", ())),
        example=example,
        path_setting=operation.get("x-ft-path-unpublished"),
    )


def parse_contract_yaml(text: str) -> Any:
    """A shipped contract document's data, as `yaml.safe_load` would build it."""
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader, C or Python


def load_integration_contract(path: Path) -> IntegrationContract:
    """Parse an Integration API contract file."""
    try:
        document = parse_contract_yaml(path.read_text(encoding="utf-8"))
    except OSError as exc:
        msg = f"cannot read {path}: {exc.strerror}; is the contracts/ folder present?"
        raise ContractError(msg) from None
    routes = [
        _route(route_path, method, operation, document)
        for route_path, item in document.get("paths", {}).items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "x-ft-event-type" in operation
    ]
    if not routes:
        msg = f"{path} declares no ingest operations (x-ft-event-type); is it the right file?"
        raise ContractError(msg)
    return IntegrationContract(document=document, routes=tuple(routes))


@cache
def integration_contract() -> IntegrationContract:
    """The Integration API contract shipped with mock-ft (parsed once per process)."""
    return load_integration_contract(contracts_dir() / INTEGRATION_FILE)


def deviations(document: dict[str, Any]) -> dict[str, str]:
    """Every `x-ft-deviation` of a contract's component schemas: `Schema.property` (or `Schema`
    for a whole schema) -> why mock-ft answers otherwise than FT's published schema."""
    found: dict[str, str] = {}
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        if "x-ft-deviation" in schema:
            found[name] = schema["x-ft-deviation"]
        for field, spec in schema.get("properties", {}).items():
            if isinstance(spec, dict) and "x-ft-deviation" in spec:
                found[f"{name}.{field}"] = spec["x-ft-deviation"]
    return found


def asyncapi_document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document of the broker channels (RabbitMQ, Kafka), parsed afresh.

    Its message payloads are `$ref`s into `integration-api.yaml`, resolved against the same folder.
    """
    path = contracts_dir() / ASYNCAPI_FILE
    try:
        document = parse_contract_yaml(path.read_text(encoding="utf-8"))
    except OSError as exc:
        msg = f"cannot read {path}: {exc.strerror}; is the contracts/ folder present?"
        raise ContractError(msg) from None
    if not isinstance(document, dict):
        msg = f"{path} is not a YAML mapping; is it the right file?"
        raise ContractError(msg)
    return document
