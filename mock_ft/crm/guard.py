"""The control token that protects /_mock/ when one is configured."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from mock_ft.crm.schemas import ErrorBody
from mock_ft.settings import Settings

__all__ = ["ControlAuthError", "control_guard", "unambiguous_query"]

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


_INTEGER_QUERY = frozenset({"limit", "after_id", "before_id", "count", "event_id"})


def unambiguous_query(request: Request) -> None:
    """Refuse what FastAPI would quietly coerce: a repeated parameter (it keeps the last one)
    and an integer parameter written as anything but digits (`0.0`, `1e3`)."""
    seen: set[str] = set()
    errors: list[dict[str, Any]] = []
    for name, value in request.query_params.multi_items():
        if name in seen:
            errors.append(
                {"loc": ("query", name), "msg": "is repeated; send it once", "type": "repeated"}
            )
        seen.add(name)
        if name in _INTEGER_QUERY and _coerced_integer(value):
            errors.append(
                {"loc": ("query", name), "msg": "must be a whole number", "type": "int_parsing"}
            )
    if errors:
        raise RequestValidationError(errors)


def _coerced_integer(value: str) -> bool:
    """True for text pydantic would turn into an integer though it is not one (`0.0`, `1e3`);
    other bad text is left to FastAPI, which reports it with every other problem."""
    if value.lstrip("-").isdigit():
        return False
    try:
        return float(value).is_integer()
    except ValueError:
        return False
