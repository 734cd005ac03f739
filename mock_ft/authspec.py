"""Operator auth specs: `api-key:KEY`, `basic:USER:PASS`, `oauth:TOKEN_URL:CLIENT_ID:SECRET`.

Parsed here, at the base of the package, so settings can reject a malformed spec at load time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["AuthSpec", "parse_operator_auth"]


@dataclass(slots=True, frozen=True)
class AuthSpec:
    """A parsed operator auth spec (holds the secret: never log it)."""

    scheme: Literal["api-key", "basic", "oauth"]
    user_or_url: str
    secret: str = field(repr=False)
    client_id: str = ""


def parse_operator_auth(spec: str) -> AuthSpec:
    """Parse an auth spec; ValueError (without the secret) explains a malformed one."""
    scheme, _, rest = spec.partition(":")
    if scheme == "api-key" and rest:
        return AuthSpec("api-key", "", rest)
    if scheme == "basic":
        user, sep, password = rest.partition(":")
        if user and sep:
            return AuthSpec("basic", user, password)
    if scheme == "oauth":
        parts = rest.rsplit(":", 2)
        if len(parts) == 3 and parts[0].startswith(("http://", "https://")) and parts[1]:
            return AuthSpec("oauth", parts[0], parts[2], client_id=parts[1])
    # Name the scheme only when it is a known one: an unknown "scheme" may be a pasted secret.
    got = f"a malformed {scheme} spec" if scheme in ("api-key", "basic", "oauth") else "no scheme"
    msg = (
        "operator auth must be api-key:KEY, basic:USER:PASS or "
        f"oauth:TOKEN_URL:CLIENT_ID:SECRET ({got})"
    )
    raise ValueError(msg)
