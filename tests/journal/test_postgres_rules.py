"""Two `mock-ft serve` processes on one PostgreSQL journal share their fault and callback rules
and their reset (issue 25): a control call on either acts on both (crm/rulesync.py)."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from tests.conftest import KEY_HEADERS
from tests.ft_events import ft_event
from tests.postgres import scratch_database
from tests.serve_process import serve_process
from tests.waiting import HANG_GUARD

Pair = tuple[str, str]
JSON = {"Content-Type": "application/json"}


class _Receiver(ThreadingHTTPServer):
    """The operator's callback endpoint: records each call's path."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Record)
        self.paths: list[str] = []
        self.called = threading.Condition()


class _Record(BaseHTTPRequestHandler):
    server: _Receiver

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        with self.server.called:
            self.server.paths.append(self.path)
            self.server.called.notify_all()

    def log_message(self, *args: Any) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def receiver() -> Iterator[_Receiver]:
    server = _Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def pair(receiver: _Receiver) -> Iterator[Pair]:
    """Two instances on one database of this module's own, calling `receiver` back."""
    env = {
        "MOCK_FT_FRESHNESS_TARGET_MS": str(24 * 3600 * 1000),
        "MOCK_FT_INSTANCE_LEASE_SECONDS": str(24 * 3600),
        "MOCK_FT_OPERATOR_URL": f"http://127.0.0.1:{receiver.server_address[1]}",
    }
    with (
        scratch_database() as url,
        serve_process("--journal", url, env=env) as (a, _),
        serve_process("--journal", url, env=env) as (b, _),
    ):
        yield a, b


@pytest.fixture(autouse=True)
def no_rules_left(pair: Pair) -> Iterator[None]:
    """Each test starts and ends with no rule on the pair."""
    yield
    httpx.delete(f"{pair[0]}/_mock/faults", headers=JSON, timeout=60).raise_for_status()
    httpx.delete(f"{pair[0]}/_mock/callbacks/rules", headers=JSON, timeout=60).raise_for_status()


def _post_rule(base: str, path: str, rule: dict[str, Any]) -> dict[str, Any]:
    answer = httpx.post(f"{base}{path}", json=rule, timeout=60)
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _send(base: str, user: str) -> int:
    """POST one LOGIN_V2 of `user` to `base`; its status code."""
    path, body = ft_event("LOGIN_V2", user_id=user)
    return httpx.post(f"{base}{path}", json=body, headers=KEY_HEADERS, timeout=60).status_code


async def _send_all(bases: list[str], user: str) -> list[int]:
    async with httpx.AsyncClient(headers=KEY_HEADERS, timeout=60) as client:
        sends = [ft_event("LOGIN_V2", user_id=user) for _ in bases]
        answers = await asyncio.gather(
            *(client.post(f"{base}{p}", json=b) for base, (p, b) in zip(bases, sends, strict=True))
        )
    return [a.status_code for a in answers]


def _user(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_fail_attempt_to_b_with_fault_rule_posted_to_a(pair: Pair) -> None:
    """A fault rule posted to A fails the next matching attempt sent to B."""
    user = _user("fault")
    _post_rule(pair[0], "/_mock/faults", {"status": 503, "user_id": user})
    assert _send(pair[1], user) == 503


def test_fail_exactly_three_attempts_across_instances_with_times_three(pair: Pair) -> None:
    """`times: 3` fails three of twelve concurrent attempts spread over both instances, not
    three per instance; both list the rule spent, with its three hits."""
    user = _user("times")
    rule = _post_rule(pair[0], "/_mock/faults", {"status": 503, "user_id": user, "times": 3})
    statuses = asyncio.run(_send_all([pair[i % 2] for i in range(12)], user))
    assert sorted(statuses) == [200] * 9 + [503] * 3
    for base in pair:
        [listed] = httpx.get(f"{base}/_mock/faults", timeout=60).json()["data"]
        assert (listed["id"], listed["times"], listed["hits"]) == (rule["id"], 0, 3)


def test_count_first_attempts_of_one_event_across_instances(pair: Pair) -> None:
    """`first_attempts: 1` (posted to A) fails an event's first attempt, sent to B; its retry,
    sent to A, passes: attempts are counted per event across the cluster, not per instance."""
    user = _user("first")
    _post_rule(pair[0], "/_mock/faults", {"status": 503, "user_id": user, "first_attempts": 1})
    path, body = ft_event("LOGIN_V2", user_id=user)
    statuses = [
        httpx.post(f"{base}{path}", json=body, headers=KEY_HEADERS, timeout=60).status_code
        for base in (pair[1], pair[0])
    ]
    assert statuses == [503, 200]


def test_list_same_fault_and_callback_rules_on_both_instances(pair: Pair) -> None:
    """Rules posted to A are listed alike by A and B."""
    user = _user("list")
    _post_rule(pair[0], "/_mock/faults", {"status": 429, "retry_after": 2, "user_id": user})
    _post_rule(pair[0], "/_mock/callbacks/rules", _callback_rule(user))
    faults = [httpx.get(f"{base}/_mock/faults", timeout=60).json() for base in pair]
    rules = [httpx.get(f"{base}/_mock/callbacks/rules", timeout=60).json() for base in pair]
    assert faults[0] == faults[1]
    assert [f["user_id"] for f in faults[0]["data"]] == [user]
    assert rules[0] == rules[1]
    assert [r["id"] for r in rules[0]["data"]] == [f"cb-{user}"]


def test_clear_rules_and_counters_of_a_from_b(pair: Pair) -> None:
    """DELETE /_mock/faults on B removes the rule A was counting: A's next attempt passes."""
    user = _user("clear")
    _post_rule(pair[0], "/_mock/faults", {"status": 503, "user_id": user, "times": 5})
    assert _send(pair[0], user) == 503
    answer = httpx.delete(f"{pair[1]}/_mock/faults", headers=JSON, timeout=60)
    assert answer.json() == {"removed": 1}
    assert _send(pair[0], user) == 200
    assert httpx.get(f"{pair[0]}/_mock/faults", timeout=60).json()["data"] == []


def test_forget_player_on_a_after_reset_on_b(pair: Pair) -> None:
    """A reset on B empties the journal for A too, including what A had folded of a player."""
    user = _user("reset")
    assert _send(pair[0], user) == 200
    assert httpx.get(f"{pair[0]}/_mock/players/{user}", timeout=60).status_code == 200
    answer = httpx.post(f"{pair[1]}/_mock/reset", headers=JSON, timeout=60)
    assert answer.status_code == 200, answer.text
    assert httpx.get(f"{pair[0]}/_mock/players/{user}", timeout=60).status_code == 404


def test_keep_rules_of_both_instances_through_reset(pair: Pair) -> None:
    """A reset keeps the loaded rules, as on one instance: the rule posted to A still acts
    on B after B's reset."""
    user = _user("kept")
    _post_rule(pair[0], "/_mock/faults", {"status": 502, "user_id": user})
    httpx.post(f"{pair[1]}/_mock/reset", headers=JSON, timeout=60).raise_for_status()
    assert _send(pair[1], user) == 502


def _callback_rule(user: str) -> dict[str, Any]:
    return {
        "id": f"cb-{user}",
        "trigger": {"event": "LOGIN_V2", "where": {"user_id": user}},
        "request": {"url": f"{{operator_url}}/hook/{user}", "body": {"u": "{event.user_id}"}},
        "retries": 0,
    }


def test_fire_callback_rule_posted_to_a_for_event_accepted_by_b(
    pair: Pair, receiver: _Receiver
) -> None:
    """A callback rule posted to A calls the operator for an event B accepted."""
    user = _user("callback")
    _post_rule(pair[0], "/_mock/callbacks/rules", _callback_rule(user))
    assert _send(pair[1], user) == 200
    with receiver.called:
        called = receiver.called.wait_for(lambda: f"/hook/{user}" in receiver.paths, HANG_GUARD)
    assert called, f"no callback for {user} (hang guard of {HANG_GUARD:g} s)"


def test_refuse_callback_rule_with_own_api_key_on_shared_journal(pair: Pair) -> None:
    """A rule's own api_key would be stored in the shared journal: refused, saying what to do."""
    rule = _callback_rule(_user("secret"))
    rule["request"]["api_key"] = "not-for-the-journal"
    answer = httpx.post(f"{pair[0]}/_mock/callbacks/rules", json=rule, timeout=60)
    assert answer.status_code == 422
    [problem] = answer.json()["problems"]
    assert (problem["path"], problem["code"]) == ("request.api_key", "secret_not_shared")
    assert "MOCK_FT_CALLBACK_API_KEY" in problem["message"]
    assert httpx.get(f"{pair[1]}/_mock/callbacks/rules", timeout=60).json()["data"] == []


def test_seed_start_up_rules_once_for_two_instances() -> None:
    """Two instances started with the same --fault on one journal hold it once: one rule,
    listed alike, and `times=1` fails one attempt of the two sent, one to each instance."""
    user = _user("startup")
    args = ["--fault", f"503 times=1 user={user}", "--callbacks", "cancel-bonus"]
    env = {"MOCK_FT_OPERATOR_URL": "http://127.0.0.1:9"}
    with (
        scratch_database() as url,
        serve_process("--journal", url, *args, env=env) as (a, _),
        serve_process("--journal", url, *args, env=env) as (b, _),
    ):
        faults = [httpx.get(f"{base}/_mock/faults", timeout=60).json()["data"] for base in (a, b)]
        assert len(faults[0]) == 1
        assert faults[0] == faults[1]
        rules = [httpx.get(f"{base}/_mock/callbacks/rules", timeout=60).json() for base in (a, b)]
        assert [r["id"] for r in rules[0]["data"]] == ["cancel-bonus-on-withdrawal"]
        assert rules[0] == rules[1]
        assert sorted([_send(a, user), _send(b, user)]) == [200, 503]
