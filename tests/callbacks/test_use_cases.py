"""The four documented Callback Action use cases, end to end over real sockets.

A mock with every ready-made rule set and the reference operator publishing to it: a player
acts on the platform, the event reaches the mock, the rule fires at the operator's receiver, the
operator reacts and publishes, and the resulting event is back in the journal.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mock_ft.crm import create_app
from mock_ft.crm.runner import ServerThread, bind_socket
from mock_ft.settings import Settings
from reference_operator import OperatorSettings
from reference_operator import create_app as create_operator
from tests import web
from tests.waiting import wait_until


@dataclass(frozen=True)
class Stack:
    mock: str
    operator: str

    def register(self, **body: Any) -> str:
        response = web.post(f"{self.operator}/platform/players", json=body or None)
        assert response.status_code == 201, response.text
        return str(response.json()["user_id"])

    def act(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = web.post(f"{self.operator}/platform/{path}", json=body)
        assert response.status_code in (200, 201), response.text
        return dict(response.json())

    def events(self, count: int, timeout: float = 60.0, **params: Any) -> list[dict[str, Any]]:
        """Wait until `count` accepted events match; return them (oldest first)."""
        response = web.get(
            f"{self.mock}/_mock/events/wait",
            params={"count": count, "timeout": timeout, "verdict": "accepted", **params},
            timeout=timeout + 5,
        )
        assert response.status_code == 200, response.text
        return list(response.json()["data"])

    def callbacks(self, **params: Any) -> list[dict[str, Any]]:
        return list(web.get(f"{self.mock}/_mock/callbacks", params=params).json()["data"])

    def wait_callbacks(self, count: int = 1, timeout: float = 60.0, **params: Any) -> list[Any]:
        deadline = time.monotonic() + timeout
        while len(found := self.callbacks(**params)) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return found

    def settle(self) -> None:
        """Until nothing is in flight on either side: the mock's lookups and callback actions
        are done, the operator has published what they made it do, and the mock reacted to
        that too. Then "nothing fired" is a fact, not a guess about how long to wait."""
        while True:
            before = self._journaled()
            idle = web.get(f"{self.mock}/_mock/idle", params={"timeout": 60}, timeout=90)
            assert idle.status_code == 200, idle.text
            wait_until(
                lambda: web.get(f"{self.operator}/platform/outbox").json()["pending"] == 0,
                "the operator's outbox emptied",
            )
            if self._journaled() == before:
                return

    def _journaled(self) -> int:
        return int(web.get(f"{self.mock}/_mock/stats").json()["total"])

    def player(self, user_id: str) -> dict[str, Any]:
        return dict(web.get(f"{self.mock}/_mock/players/{user_id}").json())


@contextmanager
def _stack(tmp_path: Path, defects: tuple[str, ...] = ()) -> Iterator[Stack]:
    """Mock (all rule sets, lookups on) and reference operator, each knowing the other's URL."""
    operator_sock = bind_socket("127.0.0.1", 0)
    operator_url = f"http://127.0.0.1:{operator_sock.getsockname()[1]}"
    settings = Settings(
        journal=str(tmp_path / "journal.sqlite3"),
        operator_url=operator_url,
        operator_auth="api-key:operator-local-key",
        callback_rules=["all"],
        callback_api_key="operator-callback-key",
    )
    with ExitStack() as stack:
        mock = stack.enter_context(ServerThread(create_app(settings)))
        operator_settings = OperatorSettings(
            database=str(tmp_path / "platform.sqlite3"),
            ft_url=mock.url,
            retry_max_seconds=0.2,
            defects=list(defects),
        )
        app = create_operator(operator_settings)
        stack.enter_context(ServerThread(app, sock=operator_sock))
        yield Stack(mock.url, operator_url)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with _stack(tmp_path_factory.mktemp("use-cases")) as running:
        yield running


@pytest.fixture
def make_stack(tmp_path: Path) -> Callable[..., Any]:
    return lambda *defects: _stack(tmp_path, defects)


def _bonus_statuses(stack: Stack, user: str, count: int) -> list[str]:
    return [e["payload"]["status"] for e in stack.events(count, type="BONUS", user_id=user)]


def test_cancel_bonus_on_withdrawal(stack: Stack) -> None:
    """Withdrawal with an active bonus: callback, cancellation and BONUS Forfeited within 1 s."""
    user = stack.register()
    stack.act(f"players/{user}/deposits", {"amount": 50})
    bonus = stack.act(f"players/{user}/bonuses", {})["user_bonus_id"]
    assert _bonus_statuses(stack, user, 1) == ["Pending"]
    stack.act(f"players/{user}/withdrawals", {"amount": 20})
    [withdrawal] = [
        e for e in stack.events(3, type="PAYMENT", user_id=user) if e["payload"]["type"] == "Debit"
    ]
    assert _bonus_statuses(stack, user, 2) == ["Pending", "Forfeited"]
    forfeited = stack.events(2, type="BONUS", user_id=user)[1]
    [call] = stack.wait_callbacks(rule_id="cancel-bonus-on-withdrawal", user_id=user)
    assert call["event_id"] == withdrawal["id"]
    assert call["ok"] is True
    assert call["request_body"]["user_id"] == [user]
    assert call["request_body"]["user_bonus_ids"] == [bonus]
    assert forfeited["payload"]["user_bonus_id"] == bonus
    assert forfeited["id"] > withdrawal["id"]
    assert stack.player(user)["active_bonus_count"] == 0


def test_withdrawal_without_bonus_fires_nothing(stack: Stack) -> None:
    """No active bonus, no cancel-bonus callback."""
    user = stack.register()
    stack.act(f"players/{user}/deposits", {"amount": 50})
    stack.act(f"players/{user}/withdrawals", {"amount": 20})
    stack.events(3, type="PAYMENT", user_id=user)
    stack.settle()
    assert stack.callbacks(rule_id="cancel-bonus-on-withdrawal", user_id=user) == []


def test_refer_a_friend_credits_referrer(stack: Stack) -> None:
    """A referred player's first deposit credits REFERRAL10 to the referrer, echoing FT's ids."""
    referrer = stack.register()
    friend = stack.register(referred_by=referrer)
    stack.act(f"players/{friend}/deposits", {"amount": 30})
    [call] = stack.wait_callbacks(rule_id="refer-a-friend", user_id=friend)
    assert call["request_body"] == {"user_id": referrer, "bonus_code": "REFERRAL10"}
    assert call["ok"] is True
    [bonus] = stack.events(1, type="BONUS", user_id=referrer)
    assert bonus["payload"]["bonus_code"] == "REFERRAL10"
    references = bonus["payload"]["fasttrack_references"]
    assert references["id"] == call["request_headers"]["X-Fasttrack-Id"]
    assert references["activity_id"] == 102


def test_refer_a_friend_only_on_first_deposit(stack: Stack) -> None:
    """The second deposit of the friend credits nothing more."""
    referrer = stack.register()
    friend = stack.register(referred_by=referrer)
    stack.act(f"players/{friend}/deposits", {"amount": 30})
    stack.wait_callbacks(rule_id="refer-a-friend", user_id=friend)
    stack.act(f"players/{friend}/deposits", {"amount": 40})
    stack.events(4, type="PAYMENT", user_id=friend)
    stack.settle()
    assert len(stack.callbacks(rule_id="refer-a-friend", user_id=friend)) == 1


def test_bonus_bot_credits_eligible_player(stack: Stack) -> None:
    """A chat bonus request from a depositor credits CHATBONUS5."""
    user = stack.register()
    stack.act(f"players/{user}/deposits", {"amount": 10})
    stack.act(f"players/{user}/custom-events", {"notification_type": "chat_bonus_request"})
    [call] = stack.wait_callbacks(rule_id="bonus-bot", user_id=user)
    assert call["request_body"] == {"user_id": user, "bonus_code": "CHATBONUS5"}
    [bonus] = stack.events(1, type="BONUS", user_id=user)
    assert bonus["payload"]["bonus_code"] == "CHATBONUS5"


def test_bonus_bot_ignores_blocked_player(stack: Stack) -> None:
    """A blocked player's request fires nothing: the rule waits for the block's lookup."""
    user = stack.register()
    stack.act(f"players/{user}/deposits", {"amount": 10})
    stack.act(f"players/{user}/blocks", {"type": "Blocked"})
    stack.act(f"players/{user}/custom-events", {"notification_type": "chat_bonus_request"})
    stack.events(1, type="CUSTOM", user_id=user)
    stack.settle()
    assert stack.callbacks(rule_id="bonus-bot", user_id=user) == []
    assert stack.player(user)["blocked"] is True


def test_loyalty_sync_posts_turnover(stack: Stack) -> None:
    """Each casino bet posts the turnover; the operator publishes the points it became."""
    user = stack.register()
    stack.act(f"players/{user}/deposits", {"amount": 100})
    stack.act(f"players/{user}/casino/bets", {"amount": 12.5})
    stack.act(f"players/{user}/casino/bets", {"amount": 10})
    calls = stack.wait_callbacks(2, rule_id="loyalty-sync", user_id=user)
    assert sorted(c["request_body"]["turnover"] for c in calls) == [12.5, 22.5]
    updates = stack.events(2, type="CUSTOM", user_id=user)
    assert sorted(e["payload"]["data"]["points"] for e in updates) == ["12", "22"]


def test_see_cancel_receiver_that_does_nothing(make_stack: Callable[..., Any]) -> None:
    """`cancel_bonus_noop`: the callback succeeds, yet no BONUS Forfeited ever arrives."""
    with make_stack("cancel_bonus_noop") as stack:
        user = stack.register()
        stack.act(f"players/{user}/deposits", {"amount": 50})
        stack.act(f"players/{user}/bonuses", {})
        stack.events(1, type="BONUS", user_id=user)
        stack.act(f"players/{user}/withdrawals", {"amount": 20})
        [call] = stack.wait_callbacks(rule_id="cancel-bonus-on-withdrawal", user_id=user)
        stack.settle()
        assert call["ok"] is True
        assert _bonus_statuses(stack, user, 1) == ["Pending"]
        assert stack.player(user)["active_bonus_count"] == 1


def test_report_failing_loyalty_receiver(make_stack: Callable[..., Any]) -> None:
    """`loyalty_receiver_500`: every attempt answers 500; the callback is reported failed."""
    with make_stack("loyalty_receiver_500") as stack:
        web.post(
            f"{stack.mock}/_mock/callbacks/rules",
            json={
                "id": "loyalty-sync",
                "trigger": {"event": "CASINO", "where": {"type": "Bet"}},
                "request": {
                    "url": f"{stack.operator}/callbacks/loyalty",
                    "body": {"user_id": "#UserId#", "turnover": 1},
                },
                "retries": 2,
                "backoff_seconds": 0.01,
            },
        ).raise_for_status()
        user = stack.register()
        stack.act(f"players/{user}/deposits", {"amount": 100})
        stack.act(f"players/{user}/casino/bets", {"amount": 5})
        [call] = stack.wait_callbacks(rule_id="loyalty-sync", user_id=user)
    assert call["ok"] is False
    assert [a["status_code"] for a in call["attempts"]] == [500, 500, 500]
    assert call["error"] == "answered 500"
