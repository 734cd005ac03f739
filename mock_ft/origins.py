"""Origins and host names, compared the way browsers compare them.

Used by the settings (allowed hosts, callback origins), the control API's Host and cross-site
checks, and the callback rules' target check: one parser, so all three agree on what
"the same origin" means (scheme, lower-case host, port with its default filled in).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

__all__ = ["Origin", "host_name", "is_loopback", "origin_text", "parse_origin", "url_origin"]

Origin = tuple[str, str, int]  # scheme, host (lower case, IPv6 without brackets), port
_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (IPv6 with or without brackets)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def url_origin(url: str) -> Origin | None:
    """The origin of an http(s) URL; None when it has none (another scheme, no host, bad port)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.scheme, parts.hostname, port or _DEFAULT_PORTS[parts.scheme]


def parse_origin(text: str) -> Origin | None:
    """`scheme://host[:port]` exactly (a trailing `/` allowed); None for anything more or less."""
    origin = url_origin(text)
    if origin is None:
        return None
    parts = urlsplit(text)
    if parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc:
        return None
    return origin


def origin_text(origin: Origin) -> str:
    """`http://host:port`, the port left out when it is the scheme's default."""
    scheme, host, port = origin
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}" if _DEFAULT_PORTS[scheme] == port else f"{scheme}://{shown}:{port}"


def host_name(value: str) -> str | None:
    """The host name of a Host header (`mock:8765` -> `mock`, `[::1]:80` -> `::1`), lower case;
    None when the value is not `host[:port]`."""
    if not value or any(c in value for c in "/\\@?#% \t"):
        return None
    try:
        parts = urlsplit(f"//{value}")
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return None
    return parts.hostname or None
