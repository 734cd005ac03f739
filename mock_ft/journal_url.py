"""What a journal value names: a SQLite file path, `:memory:`, or a database URL.

A value that starts like a URL (`scheme://`) is never taken as a file path: a URL of a scheme
mock-ft cannot keep a journal in is refused, naming the schemes that exist. Before this, a
`postgresql://...` value silently made a folder named `postgresql:` with a SQLite file in it.
Messages never echo a URL's password (`redact`).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

__all__ = ["JOURNAL_SCHEMES", "journal_scheme", "redact", "refusal"]

# URL schemes a journal can be kept in (besides SQLite file paths and `:memory:`).
JOURNAL_SCHEMES: tuple[str, ...] = ("postgresql", "postgres")
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")


def journal_scheme(value: str) -> str | None:
    """The URL scheme of a journal value (lower case), or None for a file path or `:memory:`."""
    found = _URL.match(value)
    return found.group(1).lower() if found else None


def refusal(value: str) -> str | None:
    """Why `value` cannot be a journal (a URL of an unknown scheme), or None when it can."""
    scheme = journal_scheme(value)
    if scheme is None or scheme in JOURNAL_SCHEMES:
        return None
    kinds = ["a SQLite file path", ":memory:", *(f"a {s}:// URL" for s in JOURNAL_SCHEMES[:1])]
    return (
        f"scheme '{scheme}' ({scheme}://...) is not a kind of journal mock-ft has; give "
        f"{', '.join(kinds[:-1])} or {kinds[-1]}"
    )


def redact(value: str) -> str:
    """`value` with the password of a URL replaced by `***` (file paths unchanged)."""
    if journal_scheme(value) is None:
        return value
    parts = urlsplit(value)
    if parts.password is None:
        return value
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
