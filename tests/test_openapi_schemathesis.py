"""Schemathesis against the mock's own OpenAPI, in positive and negative modes: zero failures."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance
from schemathesis.core.transport import Response
from schemathesis.python import asgi

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
    # The same cases every run, so a failure here is reproducible and never by chance; `make fuzz`
    # is where Schemathesis draws new ones, seed after seed.
    schema.config.generation.update(modes=[mode], max_examples=40, deterministic=True)
    # Long-polls by design: a random filter waits its whole timeout. Covered in test_control_api.
    # The event stream never ends by design (server-sent events). Covered by the browser tests.
    return schema.exclude(path="/_mock/events/wait").exclude(path="/_mock/stream")


positive = _schema(GenerationMode.POSITIVE)
negative = _schema(GenerationMode.NEGATIVE)

# Out of coverage: nearly all their time is Hypothesis drawing data, which coverage taxes on
# every call, and the code they reach is what the other tests cover (measured 2026-12-07: the
# module's CPU 94 -> 66 s, the total 95.02% -> 94.95%).
# One worker, in file order: the cases share the app, and what a view case answers depends on the
# events the cases before it sent (a GET of a player whose totals they made), so the order must
# not depend on which worker is free first.
pytestmark = [pytest.mark.no_cover, pytest.mark.xdist_group("schemathesis")]


@pytest.fixture(scope="module")
def client() -> Iterator[asgi.ASGIClient]:
    """One in-process client for all cases (Schemathesis builds one per case) that does not read
    the proxy variables and ~/.netrc on every request, as a `requests` client that trusts the
    environment does: under coverage that was a tenth of this module's time."""
    with asgi.get_client(positive.app) as session:  # `_app`, as Schemathesis types it
        session.trust_env = False
        yield session


def _call(
    case: schemathesis.Case[Any],
    client: asgi.ASGIClient,
    headers: dict[str, str],
    **kwargs: Any,
) -> Response:
    """Send one case, then drop any rule it added: the app is shared by the module, and a rule
    a `/_mock/faults` case added (its contract examples are valid even in negative mode) would
    answer the next ingest case 503 on whichever worker runs those operations in that order."""
    try:
        return case.call_and_validate(session=client, headers=headers, **kwargs)
    finally:
        _app.mock.faults.clear()
        _app.mock.callbacks.clear()
        client.cookies.clear()  # a fresh client per case would start without any


@positive.parametrize()
def test_accept_generated_valid_requests(
    case: schemathesis.Case[Any], client: asgi.ASGIClient
) -> None:
    """Every schema-valid request gets a documented answer; valid events get 200."""
    # A callback rule's templates and field paths must name what the contract defines, which
    # JSON Schema cannot say: a schema-valid rule may get the documented 422 `invalid_rule`.
    excluded = [positive_data_acceptance] if case.path.startswith("/_mock/callbacks/") else []
    response = _call(case, client, _HEADERS, excluded_checks=excluded)
    if case.path.startswith("/_mock/callbacks/rules") and case.method == "POST":
        assert response.status_code in (201, 422), response.text
    if case.path.startswith(("/v1/", "/v2/")):
        assert response.status_code == 200, response.text


@negative.parametrize()
def test_reject_generated_invalid_requests(
    case: schemathesis.Case[Any], client: asgi.ASGIClient
) -> None:
    """Every schema-invalid request is rejected with a documented 4xx."""
    # Ingest cases keep the Content-Type Schemathesis chose: a wrong one is part of the test.
    response = _call(case, client, _HEADERS if case.path.startswith("/_mock/") else _KEY)
    generated_invalid = case.meta is not None and case.meta.generation.mode.is_negative
    if generated_invalid and case.path.startswith(("/v1/", "/v2/")):
        # Explicit contract examples run in every mode and are valid; only generated cases count.
        assert response.status_code in (400, 401, 405, 415), (case.method, case.body, response.text)


def test_drop_rules_each_case_added(client: asgi.ASGIClient) -> None:
    """A case that adds a fault rule leaves none behind for the cases after it."""
    case = negative["/_mock/faults"]["POST"].Case(body={"action": "status", "status": 503})
    assert _call(case, client, _HEADERS).status_code == 201
    assert _app.mock.faults.rules() == []


def test_draw_the_same_cases_every_run() -> None:
    """Both modes and the suite's Hypothesis profile are deterministic: a failure here repeats."""
    assert positive.config.generation.deterministic
    assert negative.config.generation.deterministic
    assert hypothesis.settings.get_profile("default").derandomize
