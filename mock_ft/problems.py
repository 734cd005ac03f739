"""Problems (errors and warnings) with the JSON path of the value they are about."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Problem", "json_path", "json_type"]


@dataclass(slots=True, frozen=True)
class Problem:
    """One thing wrong with an event: where (`$.bets[0].odds`), a stable code, and a message."""

    path: str
    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """Plain dict for JSON bodies and the journal (`asdict` deep-copies: too slow here)."""
        return {"path": self.path, "code": self.code, "message": self.message}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Problem:
        """Inverse of to_dict."""
        return cls(path=data["path"], code=data["code"], message=data["message"])


def json_path(parts: list[str | int] | tuple[str | int, ...]) -> str:
    """Render path parts as JSONPath: `$.bets[0]['odd key']`."""
    out = ["$"]
    for part in parts:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif part.isidentifier():
            out.append(f".{part}")
        else:
            escaped = part.replace("\\", "\\\\").replace("'", "\\'")
            out.append(f"['{escaped}']")
    return "".join(out)


def json_type(value: Any) -> str:
    """The JSON type name of a decoded value, for messages like 'got string'."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
