"""Where settings come from besides flags: the config file, and how every class is built.

Precedence, lowest to highest, for the server's `Settings` and the commands' `ClientSettings`
alike: defaults, the config file, `MOCK_FT_*` environment variables, command-line flags. One file
serves both: each class takes the keys it knows, and a key neither knows is refused.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Collection
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError
from pydantic_settings import BaseSettings

from mock_ft.errors import ConfigError

__all__ = ["FILE_VALUES", "build_settings", "read_config_file"]

# Config-file values for the settings being built by build_settings (lowest-priority source).
FILE_VALUES: ContextVar[dict[str, Any]] = ContextVar("mock_ft_config_file", default={})  # noqa: B039

SettingsT = TypeVar("SettingsT", bound=BaseSettings)


def read_config_file(path: Path, known: Collection[str]) -> dict[str, Any]:
    """Read a YAML, JSON or TOML config file into a dict of setting names (among `known`)."""
    if not path.is_file():
        msg = f"config file {path} does not exist; pass an existing YAML, JSON or TOML file"
        raise ConfigError(msg)
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except tomllib.TOMLDecodeError as exc:
        msg = f"config file {path} cannot be parsed: {exc}"
        raise ConfigError(msg) from None
    except yaml.YAMLError as exc:
        # Only the problem and its position: PyYAML's snippet could echo a secret.
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        msg = f"config file {path} cannot be parsed: {problem}{where}"
        raise ConfigError(msg) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        msg = f"config file {path} must hold a mapping of setting names to values"
        raise ConfigError(msg)
    for key in data:
        if key not in known:
            hint = difflib.get_close_matches(str(key), known, n=1)
            did_you_mean = f"; did you mean {hint[0]!r}?" if hint else ""
            msg = f"config file {path}: unknown setting {key!r}{did_you_mean}"
            raise ConfigError(msg)
    return data


def build_settings(
    cls: type[SettingsT],
    config_file: Path | None,
    known: Collection[str],
    overrides: dict[str, Any],
) -> SettingsT:
    """`cls` from the file's keys it has, the environment and the flags (None flags ignored)."""
    file_values = read_config_file(config_file, known) if config_file else {}
    own = {k: v for k, v in file_values.items() if k in cls.model_fields}
    flags = {k: v for k, v in overrides.items() if v is not None}
    token = FILE_VALUES.set(own)
    try:
        return cls(**flags)
    except ValidationError as exc:
        problems = "; ".join(_describe_error(err) for err in exc.errors())
        raise ConfigError(problems) from None
    finally:
        FILE_VALUES.reset(token)


def _describe_error(err: Any) -> str:
    """`port (MOCK_FT_PORT): Input should be a valid integer`, or the bare message for rules."""
    message = str(err["msg"]).removeprefix("Value error, ")
    if not err["loc"]:
        return message
    setting, *inner = err["loc"]
    name = str(setting) + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in inner)
    return f"{name} (MOCK_FT_{str(setting).upper()}): {message}"
