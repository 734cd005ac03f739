"""The control token that protects /_mock/ when one is configured."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from mock_ft.crm.schemas import ErrorBody
from mock_ft.settings import Settings

__all__ = ["ControlAuthError", "control_guard"]

_bearer = HTTPBearer(auto_error=False, description="MOCK_FT_CONTROL_TOKEN, when one is set.")


class ControlAuthError(Exception):
    """Raised by the control-token dependency; rendered as a 401 ErrorBody."""


def control_guard(settings: Settings) -> tuple[list[Any], dict[int | str, dict[str, object]]]:
    """Dependencies that demand the control token (when set) and the error responses to document."""
    token = settings.control_token.get_secret_value().encode() if settings.control_token else None

    def require_token(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> None:
        if token is None:
            return
        # Starlette decodes headers as latin-1; get the raw bytes back to compare with the token.
        sent = credentials.credentials.encode("latin-1") if credentials else b""
        if not hmac.compare_digest(sent, token):
            raise ControlAuthError

    protected = [Depends(require_token)] if token else []
    errors: dict[int | str, dict[str, object]] = {
        422: {"model": ErrorBody, "description": "A query parameter is invalid."}
    }
    if token:
        errors[401] = {"model": ErrorBody, "description": "Missing or wrong control token."}
    return protected, errors
