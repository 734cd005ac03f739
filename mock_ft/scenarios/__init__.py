"""Scenarios QA replays: YAML flows across both directions, faults included (`mock-ft replay`)."""

from __future__ import annotations

from mock_ft.scenarios.loader import Scenario, ScenarioError, load_scenarios
from mock_ft.scenarios.runner import ScenarioResult, replay, summary
from mock_ft.scenarios.target import Target

__all__ = [
    "Scenario",
    "ScenarioError",
    "ScenarioResult",
    "Target",
    "load_scenarios",
    "replay",
    "summary",
]
