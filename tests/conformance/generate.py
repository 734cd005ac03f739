"""Build the conformance corpus from facts.yaml: `python -m tests.conformance.generate` rewrites
corpus.json (reviewable data; a test fails when it and the facts drift apart).

Each case is one payload of one event type with FT's expected verdict: `accept`, `warn` (accepted
with a warning `code` at `path`) or `refuse` (400 with a problem at `path`). The verdicts follow
from the field kinds in facts.yaml, which are written from the facts file, not from the mock.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
FACTS = HERE / "facts.yaml"
CORPUS = HERE / "corpus.json"

Case = dict[str, Any]
_NESTED_TIMESTAMPS = ("2015-03-02T8:27:58Z", "2015-03")  # one FT accepts, one it refuses


def _accept() -> dict[str, Any]:
    return {"expect": "accept"}


def _warn(code: str) -> dict[str, Any]:
    return {"expect": "warn", "code": code}


def _refuse() -> dict[str, Any]:
    return {"expect": "refuse"}


# kind -> [(label, value, verdict)]: the single-field mutations and what FT answers to each.
_WRONG_TYPE = {"str": 12345, "num": "1", "bool": "true", "obj": "x", "arr": "x"}
_MUTATIONS: dict[str, list[tuple[str, Any, dict[str, Any]]]] = {
    "uid": [
        ("empty", "", _refuse()),
        ("number", 7001, _refuse()),
        ("null", None, _refuse()),
    ],
    "origin": [("empty", "", _warn("doc_min_length")), ("number", 1, _refuse())],
    "origin!": [("empty", "", _refuse()), ("number", 1, _refuse())],
    "str": [("empty", "", _accept()), ("number", 12345, _refuse()), ("null", None, _refuse())],
    "str!": [("empty", "", _refuse()), ("number", 12345, _refuse())],
    "sid": [("empty", "", _warn("doc_min_length")), ("number", 12345, _refuse())],
    "id": [
        ("empty", "", _warn("doc_min_length")),
        ("number", 42, _accept()),
        ("zero", 0, _accept()),
        ("boolean", True, _refuse()),
        ("null", None, _refuse()),
    ],
    "vid": [
        ("empty", "", _warn("doc_min_length")),
        ("negative-number", -1, _refuse()),
        ("zero", 0, _accept()),
        ("negative-string", "-1", _accept()),
        ("boolean", True, _refuse()),
    ],
    "cur": [
        ("lower-case", "eur", _warn("doc_pattern")),
        ("mixed-case", "Eur", _warn("doc_pattern")),
        ("four-letters", "EURO", _warn("doc_pattern")),
        ("empty", "", _warn("doc_pattern")),
        ("number", 978, _refuse()),
    ],
    "amt": [
        ("zero", 0, _accept()),
        ("large", 1e9, _accept()),
        ("negative", -0.01, _refuse()),
        ("string", "1", _refuse()),
        ("null", None, _refuse()),
    ],
    "damt": [
        ("zero", 0, _accept()),
        ("negative", -1, _warn("doc_minimum")),
        ("string", "1", _refuse()),
    ],
    "num": [
        ("negative", -1, _accept()),
        ("zero", 0, _accept()),
        ("string", "1", _refuse()),
        ("null", None, _refuse()),
    ],
    "int": [("zero", 0, _accept()), ("fraction", 1.5, _refuse()), ("string", "1", _refuse())],
    "int0": [
        ("zero", 0, _accept()),
        ("negative", -1, _refuse()),
        ("fraction", 1.5, _refuse()),
    ],
    "bool": [("string", "true", _refuse()), ("number", 0, _refuse()), ("null", None, _refuse())],
    "obj": [("empty", {}, _accept()), ("string", "x", _refuse()), ("array", [], _refuse())],
    "meta": [
        ("null", None, _accept()),
        ("empty", {}, _accept()),
        ("string", "x", _refuse()),
        ("array", [], _refuse()),
    ],
    "arr": [("empty", [], _accept()), ("string", "x", _refuse()), ("object", {}, _refuse())],
    "arr1": [
        ("empty", [], _warn("doc_min_items")),
        ("string", "x", _refuse()),
        ("object", {}, _refuse()),
    ],
    "strarr": [
        ("empty", "", _warn("doc_min_length")),
        ("number", 1, _refuse()),
        ("array", ["sub.example.com"], {**_refuse(), "deviation": "Game.origin"}),
    ],
}


def json_path(dotted: str) -> str:
    """`bets.0.odds` -> `$.bets[0].odds`."""
    out = "$"
    for part in dotted.split("."):
        out += f"[{part}]" if part.isdigit() else f".{part}"
    return out


def _set(payload: Any, dotted: str, value: Any, *, drop: bool = False) -> Any:
    payload = copy.deepcopy(payload)
    *parents, last = [int(p) if p.isdigit() else p for p in dotted.split(".")]
    node = payload
    for part in parents:
        node = node[part]
    if drop:
        del node[last]
    else:
        node[last] = value
    return payload


def _field_cases(event_type: str, facts: dict[str, Any], field: str, kind: Any) -> list[Case]:
    base = facts["base"]
    required = set(facts.get("required", ())) | set(facts.get("nested_required", ()))
    doc_required = set(facts.get("doc_required", ()))
    path = json_path(field)
    cases: list[Case] = []

    def case(label: str, payload: Any, verdict: dict[str, Any]) -> None:
        entry = {"id": f"{event_type}/{field}/{label}", "type": event_type, "payload": payload}
        entry.update(verdict)
        if verdict["expect"] != "accept":
            entry.setdefault("path", path)
        cases.append(entry)

    if _exists(base, field):
        if field in required:
            case("missing", _set(base, field, None, drop=True), _refuse())
        elif field in doc_required:
            case("missing", _set(base, field, None, drop=True), _warn("doc_required"))
        else:
            case("missing", _set(base, field, None, drop=True), _accept())
    if kind == "ts":
        if "." in field or field != "timestamp":
            for value in _NESTED_TIMESTAMPS:
                verdict = _refuse() if value == "2015-03" else _accept()
                case(f"rfc3339-{value}", _set(base, field, value), verdict)
        return cases
    if isinstance(kind, dict):
        values: list[str] = kind.get("enum") or kind["denum"]
        docs: list[str] = kind.get("docs", values)
        first = values[0]
        for value in values:
            verdict = _accept() if value in docs else _warn("doc_enum")
            case(f"value-{value}", _set(base, field, value), verdict)
        if first.lower() != first:
            case("lower-case", _set(base, field, first.lower()), _refuse())
        if first.upper() != first:
            case("upper-case", _set(base, field, first.upper()), _refuse())
        case("unknown", _set(base, field, "Unknown"), _refuse())
        case("number", _set(base, field, 1), _refuse())
        return cases
    for label, value, verdict in _MUTATIONS[kind]:
        case(label, _set(base, field, value), verdict)
    return cases


def _exists(payload: Any, dotted: str) -> bool:
    node = payload
    for part in dotted.split("."):
        key: Any = int(part) if part.isdigit() else part
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return False
    return True


def _event_cases(
    event_type: str, facts: dict[str, Any], stamps: dict[str, list[Any]]
) -> list[Case]:
    base = facts["base"]
    cases: list[Case] = [
        {"id": f"{event_type}/valid", "type": event_type, "payload": base, "expect": "accept"}
    ]
    cases.append(
        {
            "id": f"{event_type}/body-array",
            "type": event_type,
            "payload": [base],
            "expect": "refuse",
            "path": "$",
        }
    )
    for field, kind in facts.get("fields", {}).items():
        cases.extend(_field_cases(event_type, facts, field, kind))
    if "timestamp" in base:
        for verdict, values in (("accept", stamps["accept"]), ("refuse", stamps["refuse"])):
            for value in values:
                entry: Case = {
                    "id": f"{event_type}/timestamp/rfc3339-{json.dumps(value)}",
                    "type": event_type,
                    "payload": {**base, "timestamp": value},
                    "expect": verdict,
                }
                if verdict == "refuse":
                    entry["path"] = "$.timestamp"
                cases.append(entry)
    enriched = facts.get("enriched")
    if enriched:
        for field, value in enriched.items():
            cases.append(
                {
                    "id": f"{event_type}/enriched/{field}-{value}",
                    "type": event_type,
                    "payload": {**base, field: value},
                    "expect": "refuse",
                    "path": json_path(field),
                    "hint": "FT's internal enriched events",
                }
            )
    for extra in facts.get("extra", ()):
        payload = base
        for field, value in extra["set"].items():
            payload = _set(payload, field, value)
        entry = {"id": f"{event_type}/{extra['name']}", "type": event_type, "payload": payload}
        entry.update({k: v for k, v in extra.items() if k not in ("name", "set")})
        cases.append(entry)
    return cases


def generate() -> list[Case]:
    """Every case of the corpus, in a stable order."""
    facts = yaml.safe_load(FACTS.read_text(encoding="utf-8"))
    stamps = facts.pop("timestamps")
    cases: list[Case] = []
    for event_type, event_facts in facts.items():
        cases.extend(_event_cases(event_type, event_facts, stamps))
    return cases


def render(cases: list[Case]) -> str:
    """corpus.json's text: one case per line, so a review diff shows each changed verdict."""
    lines = ",\n".join(json.dumps(case, sort_keys=True) for case in cases)
    return f"[\n{lines}\n]\n"


if __name__ == "__main__":
    CORPUS.write_text(render(generate()), encoding="utf-8")
