"""Typed settings: the server's `Settings` and the commands' `ClientSettings`.

Precedence, lowest to highest, for both: defaults, the config file, `MOCK_FT_*` environment
variables, command-line flags. `common` holds the fields both read (the operator's URL and
credentials, the control token, the ingest key), `server` and `brokers` the mock's own, `client`
the address of a running mock, `files` the config file, `load` the two entry points, `defaults`
the values help texts show. The names load on first use (PEP 562): `mock-ft --help` shows
defaults without loading pydantic.
"""

from __future__ import annotations

# Imported under private names: dir() of the package lists only its public API.
import typing as _typing

from mock_ft._lazy import lazy_names as _lazy_names
from mock_ft.settings.defaults import (
    DEFAULT_API_KEY,
    DEFAULT_URL,
    LOOKUP_CONCURRENCY,
    MIN_CONTROL_TOKEN,
)

if _typing.TYPE_CHECKING:
    from mock_ft.origins import is_loopback
    from mock_ft.settings.client import ClientSettings
    from mock_ft.settings.common import CommonSettings
    from mock_ft.settings.load import CONFIG_KEYS, load_client_settings, load_settings
    from mock_ft.settings.server import Settings

__all__ = [
    "CONFIG_KEYS",
    "DEFAULT_API_KEY",
    "DEFAULT_URL",
    "LOOKUP_CONCURRENCY",
    "MIN_CONTROL_TOKEN",
    "ClientSettings",
    "CommonSettings",
    "Settings",
    "is_loopback",
    "load_client_settings",
    "load_settings",
]

# Public name -> the module that defines it.
_LAZY = {
    "CONFIG_KEYS": "mock_ft.settings.load",
    "ClientSettings": "mock_ft.settings.client",
    "CommonSettings": "mock_ft.settings.common",
    "Settings": "mock_ft.settings.server",
    "is_loopback": "mock_ft.origins",
    "load_client_settings": "mock_ft.settings.load",
    "load_settings": "mock_ft.settings.load",
}

__getattr__, __dir__ = _lazy_names(__name__, _LAZY)
