"""The three ways FT may authenticate on the Operator API, chosen by `auth` in the settings.

`api_key`: `X-Api-Key: <key>`. `basic`: `Authorization: Basic base64(user:password)`.
`oauth2`: client credentials at `/oauth/token` (FT's POST-JSON and GET-query variants), then
`Authorization: Bearer <token>` until the token expires. FT's Callback Actions know only
`x-api-key`, so they carry their own key (`callback_api_key`). Comparisons are constant-time.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import time
from typing import Any

from fastapi import APIRouter, HTTPException, Request

from reference_operator.settings import OperatorSettings

__all__ = ["OperatorAuth", "unauthorized"]


def unauthorized(message: str) -> HTTPException:
    """401 in FT's generic error shape `{"error": ..., "code": ...}`."""
    return HTTPException(
        status_code=401,
        detail={"error": message, "code": 401},
        headers={"WWW-Authenticate": "Basic, Bearer"},
    )


def _same(sent: str, expected: str) -> bool:
    return hmac.compare_digest(sent.encode(), expected.encode())


class OperatorAuth:
    """Checks credentials on every Operator API call and issues OAuth2 tokens."""

    def __init__(self, settings: OperatorSettings) -> None:
        self.settings = settings
        self._tokens: dict[str, float] = {}  # access token: expiry (Unix time)

    def require(self, request: Request) -> None:
        """FastAPI dependency: raise 401 unless the request carries the configured credentials."""
        settings = self.settings
        if settings.has("no_auth"):
            return
        if settings.auth == "api_key":
            sent = request.headers.get("x-api-key", "")
            if not sent or not _same(sent, settings.api_key.get_secret_value()):
                msg = "missing or wrong X-Api-Key"
                raise unauthorized(msg)
            return
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        if settings.auth == "basic":
            if scheme.lower() != "basic" or not self._basic_ok(credentials):
                msg = "missing or wrong Basic credentials"
                raise unauthorized(msg)
            return
        if scheme.lower() != "bearer" or not self._token_ok(credentials.strip()):
            msg = "missing, unknown or expired Bearer token; get one at /oauth/token"
            raise unauthorized(msg)

    def callback_key_ok(self, request: Request) -> bool:
        """True when `x-api-key` is the Callback Actions key."""
        sent = request.headers.get("x-api-key", "")
        return bool(sent) and _same(sent, self.settings.callback_api_key.get_secret_value())

    def require_callback_key(self, request: Request) -> None:
        """FastAPI dependency of the callback receivers: 401 unless the callback key is sent."""
        if not self.callback_key_ok(request):
            raise HTTPException(
                status_code=401, detail={"error": "missing or wrong x-api-key", "code": 401}
            )

    def _basic_ok(self, credentials: str) -> bool:
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        user, _, password = decoded.partition(":")
        expected = self.settings.basic_password.get_secret_value()
        return _same(user, self.settings.basic_user) & _same(password, expected)

    def _token_ok(self, token: str) -> bool:
        now = time.time()
        for known, expiry in list(self._tokens.items()):
            if expiry <= now and not self.settings.has("tokens_never_expire"):
                del self._tokens[known]  # expired tokens are forgotten
        return any(_same(token, known) for known in self._tokens)

    def issue(self, params: dict[str, Any]) -> dict[str, Any]:
        """An access token for valid client credentials, else 401 (400 for a wrong grant)."""
        if params.get("grant_type") != "client_credentials":
            raise HTTPException(
                status_code=400,
                detail={"error": "unsupported_grant_type; use client_credentials", "code": 400},
            )
        client_ok = _same(str(params.get("client_id", "")), self.settings.client_id)
        secret = self.settings.client_secret.get_secret_value()
        secret_ok = _same(str(params.get("client_secret", "")), secret)
        if not client_ok & (secret_ok or self.settings.has("token_endpoint_any_secret")):
            msg = "invalid client_id or client_secret"
            raise unauthorized(msg)
        token = secrets.token_urlsafe(32)
        ttl = self.settings.token_ttl_seconds
        self._tokens[token] = time.time() + ttl
        return {"access_token": token, "expires_in": ttl, "token_type": "Bearer"}

    def token_router(self) -> APIRouter:
        """`/oauth/token` in both FT variants: POST with a JSON body, GET with a query."""
        router = APIRouter(tags=["operator-api"])

        @router.post("/oauth/token", summary="OAuth2 client credentials (JSON body)")
        async def token_post(request: Request) -> dict[str, Any]:
            try:
                body = await request.json()
            except ValueError:
                raise HTTPException(
                    status_code=400,
                    detail={"error": "send the client credentials as a JSON object", "code": 400},
                ) from None
            return self.issue(body if isinstance(body, dict) else {})

        @router.get("/oauth/token", summary="OAuth2 client credentials (query parameters)")
        def token_get(request: Request) -> dict[str, Any]:
            return self.issue(dict(request.query_params))

        return router
