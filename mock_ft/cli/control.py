"""Calls to a running mock's control API (`/_mock/`), for the commands that steer one.

So a QA engineer can say "fail 30% of payments with 503 and Retry-After 1" in one command while
the operator runs, and read afterwards whether it lost, duplicated or delayed anything. Where the
mock is and its control token come from the client settings: `--ft-url`, `MOCK_FT_URL`,
`MOCK_FT_CONTROL_TOKEN`, or `url` and `control_token` in `--config`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from mock_ft.errors import ConfigError, MockUnreachable

if TYPE_CHECKING:
    from mock_ft.settings import ClientSettings

__all__ = ["ControlAPI"]


class ControlAPI:
    """A running mock's control API, reached as the client settings say."""

    def __init__(self, settings: ClientSettings) -> None:
        self.url = settings.url
        self.token = settings.secret("control_token")

    @classmethod
    def from_flags(cls, config: Path | None, ft_url: str | None) -> ControlAPI:
        """The mock of `--ft-url`, else `MOCK_FT_URL`, else `url` in `--config`, else local."""
        from mock_ft.settings import load_client_settings

        return cls(load_client_settings(config, url=ft_url))

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One control-API call; its JSON answer, or a MockFTError that says what to do."""
        import httpx

        from mock_ft.tls import client_tls

        headers = {"Content-Type": "application/json"}  # the mock takes changes only as JSON
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            response = httpx.request(
                method,
                self.url + path,
                headers=headers,
                timeout=30,
                verify=client_tls(),
                **kwargs,
            )
        except httpx.HTTPError as exc:
            msg = (
                f"cannot reach the mock at {self.url} ({type(exc).__name__}); "
                "is `mock-ft serve` running?"
            )
            raise MockUnreachable(msg) from None
        if response.status_code == 401:
            msg = (
                f"{self.url} refused the control token; set MOCK_FT_CONTROL_TOKEN to the "
                "mock's token"
            )
            raise MockUnreachable(msg)
        if response.status_code >= 400:
            try:
                body = response.json()
                problems = "; ".join(
                    f"{p['path']}: {p['message']}" for p in body.get("problems", [])
                )
                why = problems or body.get("message", response.text)
            except (ValueError, KeyError, TypeError, AttributeError):
                why = response.text[:300]
            msg = f"{method} {path} answered {response.status_code}: {why}"
            raise ConfigError(msg)
        return response.json()
