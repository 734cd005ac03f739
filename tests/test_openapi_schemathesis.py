"""Schemathesis against the mock's own OpenAPI, in positive and negative modes: zero failures."""

from __future__ import annotations

from typing import Any

import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

from mock_ft.crm import create_app
from mock_ft.journal import Journal
from mock_ft.settings import DEFAULT_API_KEY, Settings

# One journal for the module: Schemathesis calls the app in-process for every generated case.
_journal = Journal(":memory:").start()
_app = create_app(Settings(journal=":memory:", allowed_hosts=["testserver"]), journal=_journal)
_KEY = {"X-API-Key": DEFAULT_API_KEY}
# The control API takes changes only as JSON, even bodyless ones (a web page cannot send that).
_HEADERS = {**_KEY, "Content-Type": "application/json"}


def _schema(mode: GenerationMode) -> schemathesis.schemas.BaseSchema:
    schema = schemathesis.openapi.from_asgi("/openapi.json", _app)
    schema.config.generation.update(modes=[mode], max_examples=40)
    # Long-polls by design: a random filter waits its whole timeout. Covered in test_control_api.
    # The event stream never ends by design (server-sent events). Covered by the browser tests.
    return schema.exclude(path="/_mock/events/wait").exclude(path="/_mock/stream")


positive = _schema(GenerationMode.POSITIVE)
negative = _schema(GenerationMode.NEGATIVE)


@positive.parametrize()
def test_accept_generated_valid_requests(case: schemathesis.Case[Any]) -> None:
    """Every schema-valid request gets a documented answer; valid events get 200."""
    # A callback rule's templates and field paths must name what the contract defines, which
    # JSON Schema cannot say: a schema-valid rule may get the documented 422 `invalid_rule`.
    excluded = [positive_data_acceptance] if case.path.startswith("/_mock/callbacks/") else []
    response = case.call_and_validate(headers=_HEADERS, excluded_checks=excluded)
    if case.path.startswith("/_mock/faults"):
        _app.mock.faults.clear()  # a generated rule would fail the ingest cases that follow
    if case.path.startswith("/_mock/callbacks/rules") and case.method == "POST":
        assert response.status_code in (201, 422), response.text
        _app.mock.callbacks.clear()
    if case.path.startswith(("/v1/", "/v2/")):
        assert response.status_code == 200, response.text


@negative.parametrize()
def test_reject_generated_invalid_requests(case: schemathesis.Case[Any]) -> None:
    """Every schema-invalid request is rejected with a documented 4xx."""
    # Ingest cases keep the Content-Type Schemathesis chose: a wrong one is part of the test.
    response = case.call_and_validate(headers=_HEADERS if case.path.startswith("/_mock/") else _KEY)
    generated_invalid = case.meta is not None and case.meta.generation.mode.is_negative
    if generated_invalid and case.path.startswith(("/v1/", "/v2/")):
        # Explicit contract examples run in every mode and are valid; only generated cases count.
        assert response.status_code in (400, 401, 405, 415), (case.method, case.body, response.text)
