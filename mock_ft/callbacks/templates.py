"""FT's Callback Action templates: checked when a rule is loaded, rendered when it fires.

Placeholders (facts file, section 4; FT's full catalogue is not published):
- `{action_field:NAME}`: another field of the same action (the rule's `action_fields`);
- `#UserId#` and the other segmentation values in `SEGMENTATION`;
- `{event.PATH}`: a field of the triggering event (plus `event_id`, `event_type`, `amount_base`);
- `{player.PATH}`: a value of the player model (see `GET /_mock/players/{user_id}`).
A string that is exactly one placeholder takes the value's JSON type (`"{event.amount}"` renders
as a number); inside a longer string the value is written as text.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from mock_ft.journal.jsontext import dumps
from mock_ft.players import PLAYER_FIELDS
from mock_ft.problems import Problem, json_path

__all__ = [
    "EVENT_EXTRAS",
    "MISSING",
    "SEGMENTATION",
    "Context",
    "check_path",
    "check_template",
    "has_placeholder",
    "render",
    "render_url",
    "resolve",
]

# `#Name#`: the player value it stands for, as a path in the player view.
SEGMENTATION: dict[str, tuple[str, ...]] = {
    "UserId": ("user_id",),
    "Origin": ("origin",),
    "Email": ("profile", "email"),
    "Username": ("profile", "username"),
    "FirstName": ("profile", "first_name"),
    "LastName": ("profile", "last_name"),
    "Currency": ("profile", "currency"),
    "Country": ("profile", "country"),
    "Language": ("profile", "language"),
    "Mobile": ("profile", "mobile"),
}
# Values the mock adds to every event for templates and conditions.
EVENT_EXTRAS = ("event_id", "event_type", "amount_base")
_PLACEHOLDER = re.compile(
    r"#(?P<seg>[A-Za-z][A-Za-z0-9]*)#|\{(?P<ns>[A-Za-z_][A-Za-z0-9_]*)(?P<sep>[.:])(?P<name>[^{}\s]*)\}"
)
_NAMESPACES = ("action_field:", "event.", "player.")
MISSING = object()  # what `resolve` returns where a path ends


@dataclass(slots=True)
class Context:
    """What a firing rule renders from."""

    event: dict[str, Any]
    player: dict[str, Any]
    action_fields: dict[str, Any]
    notes: list[str]


def _near(word: str, choices: Sequence[str]) -> str:
    match = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean {match[0]}?" if match else ""


def check_path(kind: str, path: str, event_fields: Sequence[str] | None) -> str | None:
    """Why `kind.path` (kind `event` or `player`) names nothing, or None when it is known.

    `event_fields` None: the event type is unknown (reported on its own), so any field goes.
    """
    head = path.split(".")[0]
    if not head:
        example = "amount" if kind == "event" else "deposit_count"
        return f"{{{kind}.}} names no field; write e.g. {{{kind}.{example}}}"
    if kind == "event" and event_fields is None:
        return None
    known = list(event_fields or ()) if kind == "event" else list(PLAYER_FIELDS)
    if head in known:
        return None
    where = "this event type" if kind == "event" else "the player model"
    return f"{kind} field {head!r} is not in {where}{_near(head, known)}"


def _placeholders(
    template: Any, trail: tuple[str | int, ...]
) -> Iterator[tuple[tuple[str | int, ...], re.Match[str]]]:
    if isinstance(template, str):
        for match in _PLACEHOLDER.finditer(template):
            yield trail, match
    elif isinstance(template, dict):
        for key, value in template.items():
            yield from _placeholders(value, (*trail, str(key)))
    elif isinstance(template, list):
        for index, value in enumerate(template):
            yield from _placeholders(value, (*trail, index))


def check_template(
    template: Any,
    trail: tuple[str | int, ...],
    *,
    event_fields: Sequence[str] | None,
    action_fields: Sequence[str] | None,
) -> list[Problem]:
    """Every placeholder in `template` that names nothing, with its JSON path.

    `action_fields` None means the template is itself an action field, which may not refer to
    another one (FT resolves them in one pass).
    """
    problems = []
    for where, match in _placeholders(template, trail):
        path = json_path(list(where))
        message = _check_one(match, event_fields, action_fields)
        if message is not None:
            problems.append(Problem(path, "unknown_placeholder", f"{match.group(0)}: {message}"))
    return problems


def _check_one(
    match: re.Match[str], event_fields: Sequence[str] | None, action_fields: Sequence[str] | None
) -> str | None:
    if match.group("seg") is not None:
        name = match.group("seg")
        if name in SEGMENTATION:
            return None
        return f"unknown segmentation value #{name}#{_near(name, list(SEGMENTATION))}; known: " + (
            ", ".join(f"#{n}#" for n in SEGMENTATION)
        )
    ns, sep, name = match.group("ns"), match.group("sep"), match.group("name")
    if ns == "action_field" and sep == ":":
        if action_fields is None:
            return "an action field cannot refer to another action field"
        if name in action_fields:
            return None
        defined = ", ".join(action_fields) or "none"
        hint = _near(name, list(action_fields))
        return f"no action field {name!r}{hint} (this rule defines: {defined})"
    if ns in ("event", "player") and sep == ".":
        return check_path(ns, name, event_fields)
    hint = _near(ns + sep, list(_NAMESPACES))
    return (
        "unknown placeholder; use {action_field:NAME}, {event.PATH}, {player.PATH} or "
        f"#UserId#{hint}"
    )


def resolve(data: Any, path: Sequence[str]) -> Any:
    """Follow a dotted path through dicts (and list indexes); `MISSING` where it ends."""
    for part in path:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return MISSING
    return data


def _value(match: re.Match[str], ctx: Context) -> Any:
    if match.group("seg") is not None:
        return resolve(ctx.player, SEGMENTATION[match.group("seg")])
    ns, name = match.group("ns"), match.group("name")
    if ns == "action_field":
        return ctx.action_fields.get(name, MISSING)
    return resolve(ctx.event if ns == "event" else ctx.player, name.split("."))


def render(template: Any, ctx: Context) -> Any:
    """The template with every placeholder replaced; what had no value is noted in ctx.notes."""
    if isinstance(template, dict):
        return {key: render(value, ctx) for key, value in template.items()}
    if isinstance(template, list):
        return [render(value, ctx) for value in template]
    if not isinstance(template, str):
        return template
    whole = _PLACEHOLDER.fullmatch(template)
    if whole is not None:
        value = _value(whole, ctx)
        if value is MISSING:
            ctx.notes.append(f"{template} had no value; sent null")
            return None
        return value

    def text(match: re.Match[str]) -> str:
        value = _value(match, ctx)
        if value is MISSING or value is None:
            ctx.notes.append(f"{match.group(0)} had no value; left empty")
            return ""
        return value if isinstance(value, str) else dumps(value).decode()

    return _PLACEHOLDER.sub(text, template)


def has_placeholder(text: str) -> bool:
    """True when `text` holds a placeholder of any kind."""
    return _PLACEHOLDER.search(text) is not None


def render_url(template: str, ctx: Context) -> str:
    """A URL template rendered with each value percent-encoded."""

    def part(match: re.Match[str]) -> str:
        value = _value(match, ctx)
        if value is MISSING or value is None:
            ctx.notes.append(f"{match.group(0)} in the URL had no value; left empty")
            return ""
        return quote(value if isinstance(value, str) else dumps(value).decode(), safe="")

    return _PLACEHOLDER.sub(part, template)
