"""Fault actions on the wire (a real `mock-ft serve`), their words, and the commands for them."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from mock_ft.errors import ConfigError
from mock_ft.faultspec import fault_spec, parse_fault
from mock_ft.samples import sample_events
from mock_ft.settings import load_settings
from tests import web
from tests.conftest import KEY_HEADERS
from tests.serve_process import run_cli, serve_process
from tests.waiting import HANG_GUARD, wait_until

PAYMENT_PATH = "/v1/integration/payment"
PAYMENT = next(payload for route, payload in sample_events() if route.event_type == "PAYMENT")


def _rule(url: str, **rule: Any) -> None:
    web.post(f"{url}/_mock/faults", json=rule).raise_for_status()


def _send(url: str, payment_id: str = "p1", timeout: float = HANG_GUARD) -> httpx.Response:
    body = {**PAYMENT, "payment_id": payment_id}
    return web.post(url + PAYMENT_PATH, json=body, headers=KEY_HEADERS, timeout=timeout)


def _verdicts(url: str) -> list[str]:
    return [e["verdict"] for e in web.get(f"{url}/_mock/events").json()["data"]]


def _last(url: str) -> dict[str, Any]:
    entry: dict[str, Any] = web.get(f"{url}/_mock/events", params={"order": "desc"}).json()["data"][
        0
    ]
    return entry


def test_drop_connection_after_hold_on_timeout(mock_url: str) -> None:
    """`timeout` holds the connection, then closes it without an answer; journaled status 0."""
    _rule(mock_url, action="timeout", delay_ms=300)
    started = time.monotonic()
    with pytest.raises(httpx.RemoteProtocolError):
        _send(mock_url)
    assert time.monotonic() - started >= 0.29
    entry = _last(mock_url)
    assert (entry["verdict"], entry["status_code"]) == ("faulted", 0)
    assert entry["fault"] == {"rule": entry["fault"]["rule"], "action": "timeout", "delay_ms": 300}
    assert entry["idempotency_key"] == f"PAYMENT:payment_id+status=p1|{PAYMENT['status']}"


def test_let_client_time_out_during_hold(mock_url: str) -> None:
    """A client whose own timeout is shorter than the hold sees a timeout, as from a stuck FT."""
    _rule(mock_url, action="timeout")  # 30 s by default
    with pytest.raises(httpx.ReadTimeout):
        _send(mock_url, timeout=0.3)


def test_record_client_that_left_before_delayed_answer(mock_url: str) -> None:
    """FT took the event, but its client gave up waiting for the 200: the delivery report
    knows the answer was lost, so the client's re-send is not counted as a duplicate."""
    _rule(mock_url, action="delay", delay_ms=600_000, times=1)
    with pytest.raises(httpx.ReadTimeout):
        _send(mock_url, timeout=0.2)
    # journaled before the hold began, but the client may leave before a loaded mock got there
    wait_until(lambda: _verdicts(mock_url) == ["accepted"], "the event journaled")
    _send(mock_url)  # the publisher's retry

    def report() -> dict[str, Any]:
        return dict(web.get(f"{mock_url}/_mock/delivery").json())

    wait_until(lambda: report()["client_left_before_answer"] == 1, "the lost answer noted")
    assert (report()["duplicated"], report()["redelivered_after_lost_answer"]) == (0, 1)


def test_record_client_that_left_before_retry_after(mock_url: str) -> None:
    """A 429 held longer than its client waits never reaches it: the client's retry on its own
    back-off is not reported as a Retry-After ignored."""
    _rule(mock_url, status=429, retry_after=1, delay_ms=600_000, times=1)
    with pytest.raises(httpx.ReadTimeout):
        _send(mock_url, timeout=0.2)
    wait_until(lambda: _verdicts(mock_url) == ["faulted"], "the attempt journaled")
    assert _send(mock_url).status_code == 200  # the publisher's retry, on its own back-off

    def retry_after() -> dict[str, Any]:
        return dict(web.get(f"{mock_url}/_mock/delivery").json()["retry_after"])

    wait_until(lambda: retry_after()["asked"] == 0, "the unheard Retry-After not counted")
    assert retry_after() == {"asked": 0, "honoured": 0, "ignored": 0}


def test_reset_connection(mock_url: str) -> None:
    """`reset` answers nothing: the client's read fails on the reset connection."""
    _rule(mock_url, action="reset")
    with pytest.raises(httpx.TransportError):
        _send(mock_url)
    assert _last(mock_url)["fault"]["action"] == "reset"


def test_delay_answer_and_accept(mock_url: str) -> None:
    """`delay` takes the event as usual and answers 200 after the delay."""
    _rule(mock_url, action="delay", delay_ms=250)
    started = time.monotonic()
    response = _send(mock_url)
    assert (response.status_code, time.monotonic() - started >= 0.24) == (200, True)
    assert _last(mock_url)["verdict"] == "accepted"


def test_accept_then_drop_answer(mock_url: str) -> None:
    """`drop_answer`: FT has the event, the publisher hears nothing and sends it again."""
    _rule(mock_url, action="drop_answer", times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        _send(mock_url)
    assert _send(mock_url).status_code == 200
    first, again = web.get(f"{mock_url}/_mock/events").json()["data"]
    assert (first["verdict"], first["fault"]["action"]) == ("accepted", "drop_answer")
    assert again["duplicate_of"] == first["id"]
    report = web.get(f"{mock_url}/_mock/delivery").json()
    assert (report["duplicated"], report["redelivered_after_lost_answer"]) == (0, 1)


def test_wait_before_error_answer(mock_url: str) -> None:
    """A status rule with delay_ms answers its error late, with Retry-After."""
    _rule(mock_url, status=429, retry_after=2, delay_ms=200)
    started = time.monotonic()
    response = _send(mock_url)
    assert (response.status_code, response.headers["retry-after"]) == (429, "2")
    assert time.monotonic() - started >= 0.19


def test_drop_needs_a_real_server(client: TestClient) -> None:
    """In-process (no socket to drop), a connection fault raises ConnectionAbortedError."""
    client.post("/_mock/faults", json={"action": "reset"})
    with pytest.raises(ConnectionAbortedError):
        client.post(PAYMENT_PATH, json=PAYMENT, headers=KEY_HEADERS)


@pytest.mark.parametrize(
    ("words", "fields"),
    [
        ("503 retry_after=1 probability=30% type=PAYMENT",
         {"status": 503, "retry_after": 1, "probability": 0.3, "event_type": "PAYMENT"}),
        ("timeout hold=2s p=5%", {"action": "timeout", "delay_ms": 2000, "probability": 0.05}),
        ("delay,delay=250ms,user=42", {"action": "delay", "delay_ms": 250, "user_id": "42"}),
        ("reset first=2", {"action": "reset", "first_attempts": 2}),
    ],
)  # fmt: skip
def test_parse_fault_words(words: str, fields: dict[str, Any]) -> None:
    """The --fault form reads into the fields of POST /_mock/faults."""
    assert parse_fault(words) == fields


def test_round_trip_fault_words() -> None:
    """A rule written back in words reads back into the same rule."""
    spec = fault_spec(parse_fault("429 retry_after=1 probability=25% type=PAYMENT times=3"))
    assert fault_spec(parse_fault(spec.words())) == spec


@pytest.mark.parametrize(
    ("words", "message"),
    [
        ("503 stauts=1", "unknown fault field 'stauts' in 'stauts=1'; did you mean 'status'?"),
        ("", "an empty fault rule"),
        ("sometimes", "cannot read 'sometimes'"),
    ],
)
def test_refuse_unreadable_fault_words(words: str, message: str) -> None:
    """Words that are no rule are refused with a message naming the word."""
    with pytest.raises(ValueError, match=message):
        parse_fault(words)


def test_refuse_retry_after_on_connection_fault() -> None:
    """Retry-After goes with an answer; a reset sends none, so the rule is refused."""
    with pytest.raises(ValidationError, match="retry_after"):
        fault_spec({"action": "reset", "retry_after": 1})


def test_load_faults_from_config_file(tmp_path: Path) -> None:
    """A config file lists rules as mappings or as --fault words."""
    config = tmp_path / "mock-ft.yaml"
    config.write_text("faults:\n  - {status: 502, times: 2}\n  - 'timeout hold=1s p=10%'\n")
    faults = load_settings(config).faults
    assert [f.words() for f in faults] == ["502 times=2", "timeout probability=10% delay_ms=1000"]


def test_read_faults_variable_as_json_or_words(monkeypatch: pytest.MonkeyPatch) -> None:
    """MOCK_FT_FAULTS holds a JSON list, or one rule's words."""
    monkeypatch.setenv("MOCK_FT_FAULTS", '[{"action": "reset"}]')
    assert load_settings().faults[0].words() == "reset"
    monkeypatch.setenv("MOCK_FT_FAULTS", "503 p=30%")
    assert load_settings().faults[0].words() == "503 probability=30%"


def test_name_the_rule_in_fault_setting_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wrong rule in the variable names the variable, the rule and the field."""
    monkeypatch.setenv("MOCK_FT_FAULTS", '[{"action": "delay"}]')
    with pytest.raises(ConfigError, match=r"faults\[0\]\.delay\.delay_ms \(MOCK_FT_FAULTS\)"):
        load_settings()


def test_serve_refuses_bad_fault_flag() -> None:
    """`serve --fault` with a misspelt field exits 2 with a headline, no traceback."""
    result = run_cli("serve", "--journal", ":memory:", "--fault", "503 stauts=1", timeout=30)
    assert result.returncode == 2
    assert "did you mean 'status'?" in result.stderr
    assert "Traceback" not in result.stderr


def test_start_with_fault_flags(tmp_path: Path) -> None:
    """`serve --fault` rules are live from the first request and listed by /_mock/faults."""
    journal = str(tmp_path / "journal.sqlite3")
    with serve_process("--journal", journal, "--fault", "503 retry_after=1 type=PAYMENT") as (
        url,
        _,
    ):
        response = _send(url)
        rules = web.get(f"{url}/_mock/faults").json()["data"]
    assert (response.status_code, response.headers["retry-after"]) == (503, "1")
    assert [(r["status"], r["event_type"], r["hits"]) for r in rules] == [(503, "PAYMENT", 1)]


def test_steer_running_mock_from_command_line(mock_url: str) -> None:
    """`mock-ft faults add/list/clear` and `mock-ft delivery` against a running mock."""
    added = run_cli("faults", "add", "503 first=1 type=PAYMENT", "--ft-url", mock_url)
    assert added.returncode == 0, added.stderr
    assert ": 503 event_type=PAYMENT first_attempts=1" in added.stdout
    assert _send(mock_url).status_code == 503
    assert _send(mock_url).status_code == 200
    listed = run_cli("faults", "list", "--ft-url", mock_url)
    assert "(hits 1)" in listed.stdout
    # The retry above follows its failure at once; back-off is not what this test is about.
    clean = run_cli("delivery", "--ft-url", mock_url, "--expected", "1", "--hammer-ms", "0")
    assert clean.returncode == 0, clean.stdout
    short = run_cli("delivery", "--ft-url", mock_url, "--expected", "2")
    assert short.returncode == 1
    assert "1 of 2 expected event(s) never arrived" in short.stdout
    cleared = run_cli("faults", "clear", "--ft-url", mock_url)
    assert "removed 1 fault rule(s)" in cleared.stdout


def test_refuse_bad_rule_before_sending(mock_url: str) -> None:
    """`faults add` checks every rule first: a bad one sends none and exits 2."""
    result = run_cli("faults", "add", "503", "delay", "--ft-url", mock_url)
    assert result.returncode == 2
    assert "fault rule 'delay': delay.delay_ms: Field required" in result.stderr
    assert web.get(f"{mock_url}/_mock/faults").json()["data"] == []


def test_report_unreachable_mock() -> None:
    """Commands against a mock that is not running exit 2 and say what to do."""
    result = run_cli("faults", "list", "--ft-url", "http://127.0.0.1:9")
    assert result.returncode == 2
    assert "is `mock-ft serve` running?" in result.stderr
