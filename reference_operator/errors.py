"""The reference operator's exceptions.

OperatorError
 ├── SettingsError   bad configuration (flags, REFERENCE_OPERATOR_* environment)
 ├── NotFound        a player, payment, round, bet or bonus that does not exist (HTTP 404)
 └── Conflict        a request that contradicts the platform's state (HTTP 409)
"""

from __future__ import annotations

__all__ = ["Conflict", "NotFound", "OperatorError", "SettingsError"]


class OperatorError(Exception):
    """Base of every error the reference operator raises on purpose."""


class SettingsError(OperatorError):
    """The configuration cannot be used; the message says which value and how to fix it."""


class NotFound(OperatorError):
    """Something the request names does not exist."""


class Conflict(OperatorError):
    """The request is well-formed but the platform's state forbids it."""
