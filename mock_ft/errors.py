"""The one exception tree of mock-ft. Every message says what went wrong and how to fix it.

    MockFTError
    ├── ConfigError        settings, flags, environment or config file are wrong
    │   ├── RuleError      a callback rule (or its template) is invalid; lists each problem
    │   ├── ScenarioError  a scenario file is invalid; lists each problem with path and line
    │   ├── TemplateError  a scenario template does not parse or names something undefined
    │   └── MissingExtra   a command needs an optional part (`pip install 'mock-ft[verify]'`)
    ├── ContractError      a contract in contracts/ is missing or inconsistent
    ├── JournalError       the SQLite journal cannot be opened or written
    ├── OperatorUnreachable  `mock-ft verify` cannot reach the operator or its token endpoint
    └── MockUnreachable    `mock-ft faults` / `delivery` cannot use a running mock's control API

The CLI turns each into one red headline (`headline`) plus one explanation, and exits 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "ConfigError",
    "ContractError",
    "JournalError",
    "MissingExtra",
    "MockFTError",
    "MockUnreachable",
    "OperatorUnreachable",
    "RuleError",
    "ScenarioError",
    "TemplateError",
]


class MockFTError(Exception):
    """Base of every error mock-ft raises on purpose."""

    headline = "mock-ft failed"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(MockFTError):
    """A setting, flag, environment variable or config file is invalid."""

    headline = "Invalid configuration"


class RuleError(ConfigError):
    """A callback rule or rule file is invalid. `problems` has each one, with its JSON path."""

    headline = "Invalid callback rule"

    def __init__(self, message: str, problems: tuple[Any, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


class ScenarioError(ConfigError):
    """A scenario file is invalid; `problems` lists each with its path, line and step."""

    headline = "Invalid scenario"

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)


class TemplateError(ConfigError):
    """A scenario template does not parse, or names something undefined."""

    headline = "Invalid scenario template"


class MissingExtra(ConfigError):
    """A command needs packages of an extra (`mock-ft[verify]`, ...) that are not installed."""

    headline = "Missing extra"

    def __init__(self, extra: str, message: str) -> None:
        super().__init__(message)
        self.extra = extra
        self.headline = f"mock-ft[{extra}] is not installed"


class ContractError(MockFTError):
    """A contract file is missing or does not say what the code needs."""

    headline = "Broken contract"


class JournalError(MockFTError):
    """The journal database cannot be opened or written."""

    headline = "Journal unavailable"


class OperatorUnreachable(MockFTError):
    """The operator (or its token endpoint) cannot be used, so nothing can be verified."""

    headline = "Operator unreachable"


class MockUnreachable(MockFTError):
    """A running mock's control API cannot be reached or refuses the token."""

    headline = "Mock unreachable"
