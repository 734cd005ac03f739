"""mock-ft: a local Fast Track CRM to prove an operator's integration before go-live.

The public names load on first use (PEP 562): pytest imports `mock_ft.pytest_plugin` in every
run of an operator's suite, and `mock-ft --help` should not pay for FastAPI and the journal.
"""

from __future__ import annotations

# Imported under private names: dir() of the package lists only its public API.
import typing as _typing

from mock_ft._lazy import lazy_names as _lazy_names
from mock_ft._version import __version__

if _typing.TYPE_CHECKING:
    from mock_ft.crm import create_app
    from mock_ft.errors import ConfigError, ContractError, JournalError, MockFTError
    from mock_ft.settings import Settings, load_settings

__all__ = [
    "ConfigError",
    "ContractError",
    "JournalError",
    "MockFTError",
    "Settings",
    "__version__",
    "create_app",
    "load_settings",
]

# Public name -> the module that defines it.
_LAZY = {
    "ConfigError": "mock_ft.errors",
    "ContractError": "mock_ft.errors",
    "JournalError": "mock_ft.errors",
    "MockFTError": "mock_ft.errors",
    "Settings": "mock_ft.settings",
    "create_app": "mock_ft.crm",
    "load_settings": "mock_ft.settings",
}

__getattr__, __dir__ = _lazy_names(__name__, _LAZY)
