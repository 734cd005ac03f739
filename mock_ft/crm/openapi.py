"""The OpenAPI document the mock serves: its control API as FastAPI describes it, plus FT's
ingest operations copied verbatim from contracts/integration-api.yaml."""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI

from mock_ft.contracts import IntegrationContract
from mock_ft.settings import Settings

__all__ = ["INGEST_TAG", "merged_openapi"]

INGEST_TAG = "FT Integration API"
# What mock_ft/crm/web_guard.py answers to a change of the mock a web page could have sent.
_ERROR_BODY = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
_CHANGE_REFUSALS = {
    "403": {"description": "Sent by a browser from another site.", "content": _ERROR_BODY},
    "415": {"description": "Not Content-Type: application/json.", "content": _ERROR_BODY},
}


def merged_openapi(
    app: FastAPI, contract: IntegrationContract, settings: Settings
) -> dict[str, Any]:
    """FastAPI's OpenAPI for the control API plus the contract's ingest operations, verbatim.

    The ingest side is copied from contracts/integration-api.yaml, adjusted only for what the
    settings change: the API key header name, or no auth at all.
    """
    from fastapi.openapi.utils import get_openapi

    schema = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        routes=app.routes,
        tags=[
            {"name": INGEST_TAG, "description": "What the operator publishes (REST transport)."},
            {"name": "mock control", "description": "Inspect and steer the mock."},
        ],
    )
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if path.startswith("/_mock/") and method in ("post", "put", "patch", "delete"):
                operation["responses"].update(copy.deepcopy(_CHANGE_REFUSALS))
    doc = copy.deepcopy(contract.document)
    components = schema.setdefault("components", {})
    for section in ("schemas", "responses", "securitySchemes"):
        components.setdefault(section, {}).update(doc["components"].get(section, {}))
    components["securitySchemes"]["ApiKeyAuth"]["name"] = settings.api_key_header
    for path, item in doc["paths"].items():
        for operation in item.values():
            operation["tags"] = [INGEST_TAG]
            if settings.auth_enabled:
                operation["security"] = [{"ApiKeyAuth": []}]
            else:
                operation["security"] = []
                operation["responses"].pop("401", None)
        schema["paths"][path] = item
    return schema
