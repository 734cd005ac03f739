"""The platform's Fast Track integration, tested against mock-ft with the pytest plugin."""
# ruff: noqa: S101 - pytest asserts

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from conftest import Platform

from mock_ft.testing import MockFT

if TYPE_CHECKING:
    from mock_ft.verify import CheckResult


def test_register_player_publishes_user_create(ft_mock: MockFT, platform: Platform) -> None:
    user = platform.register()
    [event] = ft_mock.wait_for("USER_CREATE_V2", user_id=user)
    assert event["payload"]["user_id"] == user


def test_deposit_counts_in_player_model(ft_mock: MockFT, platform: Platform) -> None:
    user = platform.register()
    platform.deposit(user, 25)
    ft_mock.wait_for("PAYMENT", user_id=user, count=2)  # Requested, then Approved
    player = ft_mock.player(user)
    assert (player["deposit_count"], player["deposit_total_base"]) == (1, 25)


@pytest.mark.ft_mock(faults=["503 first=1 type=PAYMENT"])
def test_retry_refused_payment_until_accepted(ft_mock: MockFT, platform: Platform) -> None:
    user = platform.register()
    platform.deposit(user, 10)
    ft_mock.wait_for("PAYMENT", user_id=user, count=2)
    report = ft_mock.delivery(user_id=user)
    assert (report["faulted_attempts"], report["lost"], report["duplicated"]) == (2, 0, 0)


@pytest.mark.ft_mock(callbacks=["cancel-bonus"])
def test_forfeit_bonus_on_cancel_callback(ft_mock: MockFT, platform: Platform) -> None:
    user = platform.register()
    platform.deposit(user, 50)
    bonus = platform.grant_bonus(user)
    ft_mock.wait_for("BONUS", user_id=user)  # FT must know the bonus is active
    platform.withdraw(user, 20)
    call = ft_mock.wait_for_callback("cancel-bonus-on-withdrawal", user_id=user)
    assert call["ok"] is True
    forfeited = ft_mock.wait_for("BONUS", user_id=user, count=2)[1]["payload"]
    assert (forfeited["user_bonus_id"], forfeited["status"]) == (bonus, "Forfeited")


def test_pass_operator_api_verification(
    ft_verify: Callable[..., list[CheckResult]], platform: Platform
) -> None:
    steps = ("Authentication", "User data", "Consents", "Blocks and reconciliation")
    results = ft_verify(user_ids=[platform.register()], steps=steps)
    assert {result.step for result in results} == set(steps)
