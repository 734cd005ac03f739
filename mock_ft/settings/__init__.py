"""Typed settings: the server's `Settings` and the commands' `ClientSettings`.

Precedence, lowest to highest, for both: defaults, the config file, `MOCK_FT_*` environment
variables, command-line flags. `common` holds the fields both read (the operator's URL and
credentials, the control token, the ingest key), `server` and `brokers` the mock's own, `client`
the address of a running mock, `files` the config file, `load` the two entry points.
"""

from __future__ import annotations

from mock_ft.origins import is_loopback
from mock_ft.settings.client import DEFAULT_URL, ClientSettings
from mock_ft.settings.common import (
    DEFAULT_API_KEY,
    LOOKUP_CONCURRENCY,
    MIN_CONTROL_TOKEN,
    CommonSettings,
)
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
