"""The settings of the commands that talk to a mock or an operator, and of the pytest plugin.

`verify`, `replay`, `faults`, `delivery` and the plugin's `ft_verify` read them the way `serve`
reads its own: flags over `MOCK_FT_*` variables over the config file over defaults. Nothing here
binds a port, so none of the server's rules about binding beyond loopback apply.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from mock_ft.settings.common import CommonSettings
from mock_ft.settings.defaults import DEFAULT_URL

__all__ = ["ClientSettings"]


class ClientSettings(CommonSettings):
    """A client's view: the running mock it steers, and the operator it checks."""

    url: str = Field(
        DEFAULT_URL,
        description="The running mock the commands steer (`faults`, `delivery`, `replay "
        "--stack url`); the `--ft-url` flag.",
    )

    @field_validator("url")
    @classmethod
    def _url_is_http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            msg = f"{value!r} is not an http(s) URL; give the mock's address, e.g. {DEFAULT_URL}"
            raise ValueError(msg)
        return value.rstrip("/")
