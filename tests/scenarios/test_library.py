"""The scenario library: it passes against the reference operator, and catches its defects."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from mock_ft.scenarios import load_scenarios, replay
from mock_ft.scenarios.stack import local_stack
from tests.brokers import in_ci
from tests.serve_process import run_cli

LIBRARY = Path(__file__).parents[2] / "scenarios"


def test_pass_whole_library(kafka_bootstrap: str, tmp_path: Path) -> None:
    """`mock-ft replay scenarios/` against the local stack (RabbitMQ and Kafka included) passes."""
    arguments = ["replay", str(LIBRARY), "--kafka-bootstrap", kafka_bootstrap]
    result = run_cli(*arguments, "--report-dir", str(tmp_path), timeout=400)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr
    counts = json.loads((tmp_path / "replay.json").read_text())["counts"]
    assert counts["passed"] == len(list(LIBRARY.glob("*.yaml"))) - counts["skipped"]
    if in_ci():  # every broker is there under CI: nothing may be skipped
        assert counts["skipped"] == 0


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
