"""mock-ft: a local Fast Track CRM to prove an operator's integration before go-live."""

from __future__ import annotations

from mock_ft._version import __version__
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
