"""JSON text as the mock takes, keeps and shows it.

FT decodes bodies with Go's encoding/json: any depth, integers of any size, the last of duplicate
keys. The mock keeps each body as the text it received and shows it again through views that
serialise it (pydantic, orjson, the browser), so it also refuses what no view could show: nesting
beyond `MAX_DEPTH` levels and lone surrogates (`"\\ud800"`, which UTF-8 cannot carry). Both are
refused with the JSON path of the offending value; an integer beyond 64 bits is kept exactly.

The usual (flat) body costs orjson's decode plus two searches and one count over its text; only
a body with nested containers is walked, and only one orjson refuses is decoded a second time.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

from mock_ft.problems import Problem, json_path

__all__ = ["MAX_DEPTH", "Refusal", "decode_event", "dumps", "viewable"]

TOO_DEEP, INVALID_UNICODE = "too_deep", "invalid_unicode"  # the refusals' codes
MAX_DEPTH = 64  # containers, the body itself being the first; every view renders this deep
_MAX_INT_DIGITS = 4300  # Python's int/str conversion limit: beyond it an integer cannot be shown
# A string (skipped) or a number, NaN or Infinity outside strings: to locate what was refused.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|(NaN|-?Infinity|-?[0-9][0-9.eE+-]*)')
_LONG_DIGITS = re.compile(r"[0-9]{19}")  # 2**63 has 19 digits: a run this long may exceed it
_SCAN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},:]')  # strings and structure, for a depth path


class Refusal(ValueError):
    """A body the mock refuses: `code` (`too_deep`, `invalid_unicode`), where, and why."""

    def __init__(self, code: str, path: str, message: str) -> None:
        super().__init__(message)
        self.code, self.path, self.message = code, path, message


class _NotJson(ValueError):
    """A literal FT's decoder refuses (NaN, Infinity, a number beyond float64)."""

    def __init__(self, literal: str, why: str) -> None:
        super().__init__(why)
        self.literal, self.why = literal, why


_NONE: tuple[Problem, ...] = ()  # the usual answer: no duplicate keys (shared, never changed)


def decode_event(text: str) -> tuple[Any, tuple[Problem, ...]]:
    """Decode a body as FT would: (value, a warning per duplicate key).

    Raises `Refusal` for what no view could show, `json.JSONDecodeError` (with a real line and
    column) for what is not JSON.
    """
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        value = _decode_slowly(text)
    # Nested (or not an object) unless the only brace is the first character: two memchr-fast
    # searches; the usual flat event is then never walked.
    if "[" in text or text.rfind("{") > 0:
        keys, deep = _walk(value)
        if deep is not None:
            path = json_path(deep)
            message = (
                f"nested deeper than {MAX_DEPTH} levels here; FT events nest a few levels, and "
                f"the mock keeps at most {MAX_DEPTH} so that every view can show the event"
            )
            raise Refusal(TOO_DEEP, path, message)
    else:
        keys = len(value) if type(value) is dict else 0
    # Each key is a string followed by a colon, so `":` occurs at least once per key written
    # (unless a key is followed by spaces): more keys written than decoded means duplicates.
    if text.count('":') == keys:
        return value, _NONE
    return value, tuple(_duplicates(text))


def viewable(text: str) -> Any:
    """A journaled body for the views: decoded JSON, or the text itself when no view could show
    it decoded (not JSON, too deep, lone surrogates)."""
    try:
        # orjson reads an integer beyond 64 bits as a float: such a body is decoded exactly.
        value = _decode_slowly(text) if _LONG_DIGITS.search(text) else orjson.loads(text)
    except orjson.JSONDecodeError:
        try:
            value = _decode_slowly(text)
        except (ValueError, RecursionError):
            return text
    except (ValueError, RecursionError):
        return text
    if text.count("{") + text.count("[") > MAX_DEPTH and _walk(value)[1] is not None:
        return text
    return value


def dumps(value: Any) -> bytes:
    """JSON bytes of `value`; integers beyond 64 bits (orjson refuses them) are written exactly."""
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError: "Integer exceeds 64-bit range"
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _decode_slowly(text: str) -> Any:
    """What orjson refuses: integers beyond 64 bits (kept exactly), NaN and numbers beyond
    float64 (refused, with their position), lone surrogates and depth (refused, with a path)."""
    try:
        value = _DECODER.decode(text)
    except RecursionError:
        path = json_path(_deep_path_in_text(text))
        message = f"nested far deeper than the {MAX_DEPTH} levels the mock keeps"
        raise Refusal(TOO_DEEP, path, message) from None
    except _NotJson as exc:
        position = _locate(text, exc.literal)
        raise json.JSONDecodeError(exc.why, text, position) from None
    found = _lone_surrogate(value)
    if found is not None:
        parts, char = found
        message = (
            f"holds a lone surrogate (\\u{ord(char):04x}), which is not Unicode text; "
            "pair it (high then low) or remove it"
        )
        raise Refusal(INVALID_UNICODE, json_path(parts), message)
    return value


def _not_json(literal: str) -> Any:
    msg = f"{literal} is not a JSON value"
    raise _NotJson(literal, msg)


def _float(literal: str) -> float:
    value = float(literal)
    if value in (float("inf"), float("-inf")):
        raise _NotJson(literal, f"the number {literal} is beyond float64 (FT refuses it)")
    return value


def _int(literal: str) -> int:
    if len(literal) > _MAX_INT_DIGITS:
        why = (
            f"an integer of {len(literal)} digits is beyond what the mock keeps ({_MAX_INT_DIGITS})"
        )
        raise _NotJson(literal, why)
    return int(literal)


_DECODER = json.JSONDecoder(parse_constant=_not_json, parse_float=_float, parse_int=_int)


def _walk(root: Any) -> tuple[int, list[str | int] | None]:
    """(keys in every object, the path of the first container beyond MAX_DEPTH or None)."""
    keys = 0
    # (container, depth, parent entry, key in the parent): parents are linked, not copied.
    stack: list[tuple[Any, int, Any, str | int]] = [(root, 1, None, "")]
    while stack:
        entry = stack.pop()
        value, depth = entry[0], entry[1]
        if depth > MAX_DEPTH:
            parts: list[str | int] = []
            while entry[2] is not None:
                parts.append(entry[3])
                entry = entry[2]
            return keys, parts[::-1]
        if type(value) is dict:
            keys += len(value)
            children = [(v, depth + 1, entry, k) for k, v in value.items() if type(v) in _NESTS]
        elif type(value) is list:
            children = [(v, depth + 1, entry, i) for i, v in enumerate(value) if type(v) in _NESTS]
        else:
            continue
        stack.extend(reversed(children))  # document order: the first child is popped first
    return keys, None


_NESTS = (dict, list)


def _duplicates(text: str) -> list[Problem]:
    """A warning for each key written twice in one object, FT keeping the last value."""
    found: list[Problem] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        repeated = []
        for key, value in items:
            if key in seen:
                repeated.append(key)
            seen[key] = value
        if repeated:
            marked = _Object(seen)
            marked.repeated = repeated
            return marked
        return seen

    decoder = json.JSONDecoder(
        object_pairs_hook=pairs, parse_constant=_not_json, parse_float=_float, parse_int=_int
    )
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(decoder.decode(text), ())]
    while stack:
        value, parts = stack.pop()
        if isinstance(value, _Object):
            for key in dict.fromkeys(value.repeated):
                last = json.dumps(value[key])[:40]
                found.append(
                    Problem(
                        json_path([*parts, key]),
                        "duplicate_key",
                        f"key {key!r} appears more than once in this object; FT (Go's "
                        f"encoding/json) keeps the last value, {last}; send it once",
                    )
                )
        if isinstance(value, dict):
            stack.extend((v, (*parts, k)) for k, v in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((v, (*parts, i)) for i, v in reversed(list(enumerate(value))))
    return found


class _Object(dict[str, Any]):
    """An object in which some keys were written more than once."""

    repeated: list[str]


def _lone_surrogate(root: Any) -> tuple[list[str | int], str] | None:
    """The path of the first string (or key) holding a lone surrogate, and that surrogate."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(root, ())]
    while stack:
        value, parts = stack.pop()
        if isinstance(value, str):
            bad = _surrogate_in(value)
            if bad is not None:
                return list(parts), bad
        elif isinstance(value, dict):
            for key in value:
                bad = _surrogate_in(key)
                if bad is not None:
                    shown = key.encode("utf-8", "backslashreplace").decode()
                    return [*parts, shown], bad
            stack.extend((v, (*parts, k)) for k, v in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((v, (*parts, i)) for i, v in reversed(list(enumerate(value))))
    return None


def _surrogate_in(text: str) -> str | None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return text[exc.start]
    return None


def _locate(text: str, literal: str) -> int:
    """Index of the first `literal` token outside strings (0 if not found)."""
    for match in _TOKEN.finditer(text):
        if match.group(1) == literal:
            return match.start(1)
    return 0


def _deep_path_in_text(text: str) -> list[str | int]:
    """The path of the first container beyond MAX_DEPTH, read from the text (for bodies too deep
    to decode at all)."""
    parts: list[str | int] = []  # per open container, its key in its parent (the root's: "")
    key: str | int = ""  # where we are in the innermost container
    last = '""'  # the last string mark: a key once its colon follows
    for match in _SCAN.finditer(text):
        mark = match.group()
        if mark in ("{", "["):
            if len(parts) >= MAX_DEPTH:
                return [*parts[1:], key]
            parts.append(key)
            key = 0 if mark == "[" else ""
        elif mark in ("}", "]"):
            key = parts.pop() if parts else ""
        elif mark == ",":
            key = key + 1 if isinstance(key, int) else key
        elif mark == ":":
            key = json.loads(last)
        else:
            last = mark
    return parts[1:]
