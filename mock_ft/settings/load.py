"""Build the server's or a client's settings from one config file, the environment and flags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mock_ft.settings.client import ClientSettings
from mock_ft.settings.files import build_settings
from mock_ft.settings.server import Settings

__all__ = ["CONFIG_KEYS", "load_client_settings", "load_settings"]

# What a config file may hold: every key of the server and of the clients (one file for both).
CONFIG_KEYS = frozenset({*Settings.model_fields, *ClientSettings.model_fields})


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build Settings from file, environment and explicit overrides (None overrides are ignored)."""
    return build_settings(Settings, config_file, CONFIG_KEYS, overrides)


def load_client_settings(config_file: Path | None = None, **overrides: Any) -> ClientSettings:
    """Build a command's ClientSettings the same way: flags > env > config file > defaults."""
    return build_settings(ClientSettings, config_file, CONFIG_KEYS, overrides)
