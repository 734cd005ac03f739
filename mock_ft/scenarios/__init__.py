"""Scenarios QA replays: YAML flows across both directions, faults included (`mock-ft replay`).

The names load on first use: `mock-ft --help` imports the `replay` command (this package) but
not the loader, which needs Faker (the `scenarios` extra) and the whole callback machinery.
"""

from __future__ import annotations

# Imported under private names: dir() of the package lists only its public API.
import typing as _typing

from mock_ft._lazy import lazy_names as _lazy_names

if _typing.TYPE_CHECKING:
    from mock_ft.errors import ScenarioError
    from mock_ft.scenarios.loader import Scenario, load_scenarios
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

_LAZY = {
    "Scenario": "mock_ft.scenarios.loader",
    "ScenarioError": "mock_ft.errors",
    "load_scenarios": "mock_ft.scenarios.loader",
    "ScenarioResult": "mock_ft.scenarios.runner",
    "replay": "mock_ft.scenarios.runner",
    "summary": "mock_ft.scenarios.runner",
    "Target": "mock_ft.scenarios.target",
}

__getattr__, __dir__ = _lazy_names(__name__, _LAZY)
