"""The settings the mock and the commands that talk to it share, and how both are sourced.

The server (`mock-ft serve`, the pytest plugin's mock) and the clients (`verify`, `replay`,
`faults`, `delivery`, the plugin's `ft_verify`) read one config file and one set of `MOCK_FT_*`
variables. What both need is declared once here, so `operator_oauth_method` in a config file means
the same to `serve` looking users up as to `verify` checking the operator.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from mock_ft.authspec import parse_operator_auth
from mock_ft.settings.defaults import DEFAULT_API_KEY, MIN_CONTROL_TOKEN
from mock_ft.settings.files import FILE_VALUES

__all__ = ["CommonSettings"]


class CommonSettings(BaseSettings):
    """Fields of the server and the clients alike. Each is `MOCK_FT_<NAME>` and a config key."""

    # hide_input_in_errors: a refused value (a journal URL, a key) may hold a secret.
    model_config = SettingsConfigDict(
        env_prefix="MOCK_FT_", extra="forbid", validate_default=True, hide_input_in_errors=True
    )

    api_key: SecretStr = Field(
        SecretStr(DEFAULT_API_KEY),
        description="Key the operator must send to the mock (`replay` sends it too).",
    )
    control_token: SecretStr | None = Field(
        None,
        description="Bearer token for /_mock/ endpoints; required when bound beyond loopback "
        f"(then at least {MIN_CONTROL_TOKEN} characters). The commands send it.",
    )
    operator_url: str | None = Field(
        None,
        description="Operator API base URL; when set, the mock looks users up there as FT does.",
    )
    operator_auth: SecretStr | None = Field(
        None,
        description="api-key:KEY, basic:USER:PASS or oauth:TOKEN_URL:CLIENT_ID:SECRET.",
    )
    operator_oauth_method: Literal["post", "get"] = Field(
        "post", description="How to call the OAuth2 token URL: POST JSON body or GET query."
    )

    @field_validator("operator_url")
    @classmethod
    def _operator_url_is_http(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            msg = f"{value!r} is not an http(s) URL; give the Operator API base URL"
            raise ValueError(msg)
        return value or None

    @field_validator("operator_auth")
    @classmethod
    def _operator_auth_parses(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_operator_auth(value.get_secret_value())
        return value

    @field_validator("control_token", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: Any) -> Any:
        # `MOCK_FT_CONTROL_TOKEN=` (set but empty, common in compose files) means "not set".
        return None if value in ("", None) else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Flags arrive as init kwargs and win over the environment, which wins over the config
        # file that build_settings put in FILE_VALUES; no .env or secret files.
        return (
            init_settings,
            env_settings,
            InitSettingsSource(settings_cls, init_kwargs=FILE_VALUES.get()),
        )

    def secret(self, name: Literal["api_key", "control_token", "operator_auth"]) -> str | None:
        """The plain text of a secret field, or None when it is not set."""
        value: SecretStr | None = getattr(self, name)
        return value.get_secret_value() if value is not None else None
