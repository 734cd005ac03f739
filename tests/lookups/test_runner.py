"""The lookup runner's edges: tokens, failures, odd answers, a full queue; auth spec parsing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from mock_ft.authspec import parse_operator_auth
from mock_ft.crm.runner import ServerThread
from mock_ft.journal import Journal
from mock_ft.journal.lookups import LookupFilter, query_lookups
from mock_ft.lookups import LookupRunner
from mock_ft.settings import Settings
from tests.serve_process import run_cli
from tests.waiting import HANG_GUARD

CONSENTS = {
    "consents": [
        {"opted_in": True, "type": t}
        for t in ("email", "sms", "telephone", "postMail", "siteNotification", "pushNotification")
    ]
}


def _operator() -> FastAPI:
    """A tiny operator whose answers the tests steer; it counts token requests."""
    app = FastAPI()
    app.state.tokens = []

    @app.post("/token")
    async def token_post(request: Request) -> dict[str, Any]:
        body = await request.json()
        app.state.tokens.append(("POST", body["client_secret"]))
        return {"access_token": f"t{len(app.state.tokens)}", "expires_in": 3600}

    @app.get("/token")
    async def token_get(client_secret: str) -> dict[str, Any]:
        app.state.tokens.append(("GET", client_secret))
        return {"access_token": f"t{len(app.state.tokens)}", "expires_in": 3600}

    @app.get("/broken-token")
    async def broken_token() -> PlainTextResponse:
        return PlainTextResponse("nope", status_code=500)

    @app.get("/userconsents/{user_id}", response_model=None)
    async def consents(user_id: str, request: Request) -> Any:
        auth = request.headers.get("authorization", "")
        if auth.startswith("Bearer") and auth != f"Bearer t{len(app.state.tokens)}":
            return JSONResponse({"error": "stale token", "code": 401}, status_code=401)
        if user_id == "text":
            return PlainTextResponse("hello")
        if user_id == "slow":
            await asyncio.sleep(1.0)
        return CONSENTS

    return app


@pytest.fixture(scope="module")
def operator() -> Iterator[tuple[str, FastAPI]]:
    app = _operator()
    with ServerThread(app) as server:
        yield server.url, app


def _lookup(tmp_path: Path, user_id: str = "1", times: int = 1, **settings: Any) -> Any:
    """Run `times` lookups of /userconsents/{user_id} with a fresh runner; return the records."""

    async def go() -> Any:
        journal = Journal(str(tmp_path / "j.sqlite3")).start()
        runner = LookupRunner(Settings(journal=":memory:", **settings), journal)
        await runner.start()
        try:
            return [await runner.lookup("userconsents", user_id, 7) for _ in range(times)], runner
        finally:
            await runner.stop()
            journal.close()

    return asyncio.run(go())


def test_reuse_oauth_token(operator: tuple[str, FastAPI], tmp_path: Path) -> None:
    """One token serves many lookups (POST variant)."""
    url, app = operator
    spec = f"oauth:{url}/token:ft:s3cret"
    records, runner = _lookup(tmp_path, times=3, operator_url=url, operator_auth=spec)
    assert [r.ok for r in records] == [True] * 3
    assert runner.auth.tokens_fetched == 1
    assert app.state.tokens[-1] == ("POST", "s3cret")


def test_fetch_token_by_get(operator: tuple[str, FastAPI], tmp_path: Path) -> None:
    """FT's GET variant sends the credentials as a query."""
    url, app = operator
    spec = f"oauth:{url}/token:ft:g3t"
    records, _ = _lookup(
        tmp_path, operator_url=url, operator_auth=spec, operator_oauth_method="get"
    )
    assert records[0].ok
    assert app.state.tokens[-1] == ("GET", "g3t")


def test_refetch_token_the_operator_refused(operator: tuple[str, FastAPI], tmp_path: Path) -> None:
    """A 401 to a cached token makes the mock fetch a fresh one and try once more."""
    url, app = operator

    async def go() -> Any:
        journal = Journal(":memory:").start()
        settings = Settings(operator_url=url, operator_auth=f"oauth:{url}/token:ft:x")
        runner = LookupRunner(settings, journal)
        await runner.start()
        try:
            first = await runner.lookup("userconsents", "1", 1)
            app.state.tokens.append(("elsewhere", "-"))  # the operator moves on to a new token
            second = await runner.lookup("userconsents", "1", 2)
            return first, second, runner.auth.tokens_fetched
        finally:
            await runner.stop()
            journal.close()

    first, second, fetched = asyncio.run(go())
    assert (first.ok, second.ok, fetched) == (True, True, 2)


def test_record_token_endpoint_failure(operator: tuple[str, FastAPI], tmp_path: Path) -> None:
    """A token endpoint without a token fails the lookup with what it answered."""
    url, _ = operator
    spec = f"oauth:{url}/broken-token:ft:x"
    records, _ = _lookup(
        tmp_path, operator_url=url, operator_auth=spec, operator_oauth_method="get"
    )
    assert records[0].ok is False
    assert records[0].error == f"token endpoint {url}/broken-token answered 500 without a token"


def test_record_unreachable_operator(tmp_path: Path) -> None:
    """No operator listening: the lookup fails with a hint, not an exception."""
    records, _ = _lookup(tmp_path, operator_url="http://127.0.0.1:9")
    assert records[0].ok is False
    assert "cannot connect" in records[0].error


def test_record_timeout(operator: tuple[str, FastAPI], tmp_path: Path) -> None:
    """No answer within the timeout: failed, with the setting to change."""
    url, _ = operator
    records, _ = _lookup(tmp_path, "slow", operator_url=url, lookup_timeout_seconds=0.2)
    assert "MOCK_FT_LOOKUP_TIMEOUT_SECONDS" in records[0].error


def test_flag_non_json_answer(operator: tuple[str, FastAPI], tmp_path: Path) -> None:
    """A 200 that is not JSON fails on its content type."""
    url, _ = operator
    records, _ = _lookup(tmp_path, "text", operator_url=url)
    assert [p.code for p in records[0].problems] == ["content_type"]


def test_drop_lookups_when_queue_is_full(tmp_path: Path) -> None:
    """A full queue drops lookups (and counts them) rather than slow ingest down."""

    async def go() -> int:
        journal = Journal(":memory:").start()
        runner = LookupRunner(Settings(operator_url="http://127.0.0.1:9"), journal)
        runner._queue = asyncio.Queue(2)  # no workers: nothing drains it
        runner.schedule(1, "USER_CREATE_V2", "u1")  # three lookups, room for two
        runner.schedule(2, "PAYMENT", "u1")  # no lookups after a payment
        runner.schedule(3, "LOGIN_V2", None)  # nobody to look up
        journal.close()
        return runner.dropped

    assert asyncio.run(go()) == 1


@pytest.mark.parametrize(
    ("spec", "scheme"),
    [
        ("api-key:k3y-s3cret", "api-key"),
        ("basic:u:p:with:colons", "basic"),
        ("oauth:https://op.example/oauth/token:client:sec", "oauth"),
    ],
)
def test_parse_auth_specs(spec: str, scheme: str) -> None:
    """Each scheme parses; secrets may contain colons; the secret never shows in repr."""
    parsed = parse_operator_auth(spec)
    assert parsed.scheme == scheme
    assert parsed.secret not in repr(parsed)


@pytest.mark.parametrize("spec", ["hunter2", "api-key:", "basic:nouser", "oauth:notaurl:c:s"])
def test_refuse_malformed_auth_spec_without_echoing_it(spec: str) -> None:
    """A malformed spec is refused with the accepted forms, never echoing what was given."""
    with pytest.raises(ValueError, match="must be api-key:KEY") as caught:
        parse_operator_auth(spec)
    assert "hunter2" not in str(caught.value)


def test_refuse_bad_operator_auth_on_the_command_line() -> None:
    """`mock-ft serve --operator-auth` with a pasted secret exits 2 and does not print it."""
    result = run_cli("serve", "--operator-auth", "hunter2", "--journal", ":memory:")
    assert result.returncode == 2
    assert "operator_auth" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout


def test_refuse_operator_url_that_is_not_http() -> None:
    """The operator URL must be http(s)."""
    with pytest.raises(ValueError, match="not an http"):
        Settings(operator_url="ftp://op")


def test_wait_until_lookups_done(operator: tuple[str, FastAPI]) -> None:
    """idle() returns once every scheduled lookup is journaled."""
    url, _ = operator

    async def go() -> int:
        journal = Journal(":memory:").start()
        runner = LookupRunner(Settings(operator_url=url), journal)
        await runner.start()
        runner.schedule(5, "USER_CONSENTS_V2", "1")
        await asyncio.wait_for(runner.idle(), HANG_GUARD)
        rows = await journal.run(query_lookups(LookupFilter(event_id=5), limit=10))
        await runner.stop()
        journal.close()
        return len(rows)

    assert asyncio.run(go()) == 1
