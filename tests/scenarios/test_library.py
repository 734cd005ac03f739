"""The scenario library catches the reference operator's defects (that the whole library passes
is tests/test_cli.py::test_run_demo_end_to_end: the demo replays it)."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from rich.console import Console

from mock_ft.scenarios import load_scenarios, replay
from mock_ft.scenarios.stack import local_stack

LIBRARY = Path(__file__).parents[2] / "scenarios"


# scenario, defect switch of the reference operator, the failing step, a line of its diff
CAUGHT = [
    ("callback-cancel-bonus.yaml", "cancel_bonus_noop", "BONUS Forfeited arrives within 1 s",
     'status: expected "Forfeited", got "Pending"'),
    ("callback-loyalty-sync.yaml", "loyalty_receiver_500", "the callback posts a turnover of 10",
     'error "answered 500"'),
    ("user-details.yaml", "userdetails_missing_field", "userdetails lookup ok",
     '"market" is a required property'),
    ("payments.yaml", "events_wrong_enum_case", "approved deposits arrive",
     "was rejected: $.status"),
    ("reconciliation.yaml", "reconciliation_inconsistent", "lists the blocked player",
     "users: expected contains"),
]  # fmt: skip


@pytest.mark.parametrize(("scenario", "defect", "step", "diff"), CAUGHT)
def test_catch_defect_with_scenario(scenario: str, defect: str, step: str, diff: str) -> None:
    """Against the reference operator with a defect switch on, the matching scenario fails at
    the step that shows it, with a diff that says what is wrong."""
    console = Console(file=io.StringIO(), width=200)
    with local_stack(rabbitmq_url="", defects=[defect]) as target:  # "": brokers are not needed
        [result] = asyncio.run(replay(load_scenarios([str(LIBRARY / scenario)]), target, console))
    [failed] = [s for s in result.steps if s.status == "failed"]
    assert step in failed.label
    assert any(diff in line for line in failed.diff), failed.diff
