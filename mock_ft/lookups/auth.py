"""How the mock authenticates on the operator's Operator API, as FT would.

Specs (flags, MOCK_FT_OPERATOR_AUTH, config file): `api-key:KEY` (header `X-Api-Key`),
`basic:USER:PASS`, or `oauth:TOKEN_URL:CLIENT_ID:SECRET` (client credentials; the token is fetched
by POST with a JSON body or by GET with a query, FT's two variants, cached and refreshed before
it expires). Secrets stay inside this module: `describe()` is what logs and reports may show.
"""

from __future__ import annotations

import base64
import time
from typing import Literal

import httpx

from mock_ft.authspec import AuthSpec, parse_operator_auth

__all__ = ["OperatorAuth", "TokenError"]

_REFRESH_MARGIN = 0.8  # refresh once 80% of a token's lifetime has passed


class TokenError(Exception):
    """The token endpoint did not give a usable token; the message says what it answered."""


class OperatorAuth:
    """Produces the auth headers for each Operator API call (fetching OAuth tokens as needed)."""

    def __init__(self, spec: str | None, *, oauth_method: Literal["post", "get"] = "post") -> None:
        self._spec = parse_operator_auth(spec) if spec else None
        self._oauth_method = oauth_method
        self._token: str | None = None
        self._refresh_at = 0.0
        self.tokens_fetched = 0

    def describe(self) -> str:
        """The scheme without its secret, for logs and reports."""
        if self._spec is None:
            return "none"
        if self._spec.scheme == "oauth":
            return f"oauth2 client credentials ({self._spec.client_id} at {self._spec.user_or_url})"
        return (
            "X-Api-Key" if self._spec.scheme == "api-key" else f"basic ({self._spec.user_or_url})"
        )

    def forget_token(self) -> None:
        """Drop the cached token (after the operator refused it)."""
        self._token = None

    async def headers(self, client: httpx.AsyncClient) -> dict[str, str]:
        """The headers that authenticate one call."""
        spec = self._spec
        if spec is None:
            return {}
        if spec.scheme == "api-key":
            return {"X-Api-Key": spec.secret}
        if spec.scheme == "basic":
            token = base64.b64encode(f"{spec.user_or_url}:{spec.secret}".encode()).decode()
            return {"Authorization": f"Basic {token}"}
        if self._token is None or time.monotonic() >= self._refresh_at:
            await self._fetch_token(client, spec)
        return {"Authorization": f"Bearer {self._token}"}

    async def _fetch_token(self, client: httpx.AsyncClient, spec: AuthSpec) -> None:
        params = {
            "grant_type": "client_credentials",
            "client_id": spec.client_id,
            "client_secret": spec.secret,
        }
        try:
            if self._oauth_method == "get":
                response = await client.get(spec.user_or_url, params=params)
            else:
                response = await client.post(spec.user_or_url, json=params)
        except httpx.HTTPError as exc:
            msg = f"token endpoint {spec.user_or_url} unreachable: {type(exc).__name__}"
            raise TokenError(msg) from None
        try:
            body = response.json()
            token, lifetime = str(body["access_token"]), float(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError):
            msg = (
                f"token endpoint {spec.user_or_url} answered {response.status_code} without a token"
            )
            raise TokenError(msg) from None
        self._token = token
        self._refresh_at = time.monotonic() + lifetime * _REFRESH_MARGIN
        self.tokens_fetched += 1
