"""Problems (errors and warnings) with the JSON path of the value they are about."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

__all__ = ["Problem", "json_path", "json_type", "pydantic_problems"]


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


def pydantic_problems(exc: ValidationError, model: type[BaseModel]) -> list[Problem]:
    """pydantic's errors as Problems with JSON paths; a misspelt key gets a "did you mean"."""
    problems = []
    for err in exc.errors():
        loc = [p for p in err["loc"] if isinstance(p, str | int)]
        message = str(err["msg"])
        if err["type"] == "extra_forbidden" and loc and isinstance(loc[-1], str):
            known = _known_keys(model, loc[:-1])
            near = difflib.get_close_matches(loc[-1], known, n=1, cutoff=0.6)
            message = f"unknown key {loc[-1]!r}" + (f"; did you mean {near[0]}?" if near else "")
            if known:
                message += f" (known: {', '.join(known)})"
        elif err["type"] == "missing":
            message = "required key missing"
        problems.append(Problem(json_path(loc), str(err["type"]), message))
    return problems


def _known_keys(model: type[BaseModel], loc: list[str | int]) -> list[str]:
    """The keys the model at `loc` (inside `model`) accepts."""
    current: Any = model
    for part in loc:
        if isinstance(part, int) or not (
            isinstance(current, type) and issubclass(current, BaseModel)
        ):
            continue
        field = current.model_fields.get(part)
        if field is None:
            return []
        current = _inner_model(field.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or name for name, f in current.model_fields.items()]
    return []


def _inner_model(annotation: Any) -> Any:
    """The BaseModel inside list[...], X | None and the like, else the annotation itself."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _inner_model(arg)
        if isinstance(found, type) and issubclass(found, BaseModel):
            return found
    return annotation
