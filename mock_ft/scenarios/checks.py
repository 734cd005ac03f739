"""Expectations: each polled until it holds; when it does not, an expected-versus-got diff.

Every check looks only at what happened since the scenario started (`Window.after_id`), so
scenarios can share one mock, even an operator's staging one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from mock_ft.callbacks.rules import Condition
from mock_ft.callbacks.templates import MISSING, resolve
from mock_ft.scenarios.spec import (
    CallbackExpect,
    DeliveryExpect,
    EventsExpect,
    LookupsExpect,
    PlayerExpect,
)
from mock_ft.scenarios.target import Target, get_json

__all__ = ["Failure", "Window", "check", "condition_diff", "conditions", "subset_diff"]

_PAGE = 1000
Client = httpx.AsyncClient


class Failure(Exception):
    """A step's verdict: what was expected, and the diff of what came instead."""

    def __init__(self, message: str, diff: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.diff = diff or []
        self.progress: tuple[int, int] | None = None  # (matching so far, wanted), for a live bar


def fail(message: str, diff: list[str] | None = None) -> Failure:
    """A Failure to raise (keeps each raise a one-liner)."""
    return Failure(message, diff)


@dataclass(slots=True)
class Window:
    """What belongs to this scenario: journal entries after `after_id`."""

    after_id: int


def _show(value: Any) -> str:
    return "(absent)" if value is MISSING else orjson.dumps(value).decode()


def conditions(where: Mapping[str, Any]) -> list[Condition]:
    """`{path: value | {op: operand}}` as Conditions (operators were checked at load)."""
    found = []
    for path, spec in where.items():
        parts = tuple(str(path).split("."))
        if isinstance(spec, dict) and spec:
            found += [Condition(parts, str(op), operand) for op, operand in spec.items()]
        else:
            found.append(Condition(parts, "eq", spec))
    return found


def condition_diff(conds: list[Condition], data: Mapping[str, Any]) -> list[str]:
    lines = []
    for cond in conds:
        if not cond.holds(data):
            got = _show(resolve(data, cond.path))
            want = _show(cond.operand) if cond.op == "eq" else f"{cond.op} {_show(cond.operand)}"
            lines.append(f"  {'.'.join(cond.path)}: expected {want}, got {got}")
    return lines


def _numbers(a: Any, b: Any) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b))


def subset_diff(expected: Any, got: Any, path: str = "$") -> list[str]:
    """Where `got` differs from `expected` (objects: only the keys `expected` names)."""
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return [f"  {path}: expected an object, got {_show(got)}"]
        lines = []
        for key, value in expected.items():
            lines += subset_diff(value, got.get(key, MISSING), f"{path}.{key}")
        return lines
    if isinstance(expected, list):
        if not isinstance(got, list) or len(got) != len(expected):
            return [f"  {path}: expected {_show(expected)}, got {_show(got)}"]
        pairs = enumerate(zip(expected, got, strict=True))
        return [line for n, (e, g) in pairs for line in subset_diff(e, g, f"{path}[{n}]")]
    same_type = type(expected) is type(got) or _numbers(expected, got)
    if got is MISSING or expected != got or not same_type:
        return [f"  {path}: expected {_show(expected)}, got {_show(got)}"]
    return []


async def check(client: Client, target: Target, window: Window, kind: str, want: Any) -> None:
    """Raise Failure unless the expectation holds now."""
    if kind == "events":
        await _events(client, target, window, want)
    elif kind == "callback":
        await _callback(client, target, window, want)
    elif kind == "player":
        await _player(client, target, want)
    elif kind == "lookups":
        await _lookups(client, target, window, want)
    elif kind == "no_validation_errors":
        await _no_validation_errors(client, target, window)
    else:
        await _delivery(client, target, window, want)


async def _all_events(client: Client, target: Target, after: int, **params: Any) -> list[Any]:
    found: list[Any] = []
    while True:
        page = await get_json(
            client, target, "/_mock/events", after_id=after, limit=_PAGE, **params
        )
        found += page["data"]
        if page["next_cursor"] is None:
            return found
        after = page["next_cursor"]


def _describe_events(want: EventsExpect) -> str:
    what = f"{want.verdict} {want.type or 'any'} event(s)"
    if want.user_id:
        what += f" of user {want.user_id}"
    if want.where:
        what += " where " + ", ".join(f"{k} {_show(v)}" for k, v in want.where.items())
    return what


async def _events(client: Client, target: Target, window: Window, want: EventsExpect) -> None:
    filters = {"type": want.type, "user_id": want.user_id, "transport": want.transport}
    rows = await _all_events(client, target, window.after_id, verdict=want.verdict, **filters)
    conds = conditions(want.where)
    matching = [
        r
        for r in rows
        if isinstance(r["payload"], dict) and all(c.holds(r["payload"]) for c in conds)
    ]
    if want.error_path is not None:
        matching = [r for r in matching if any(e["path"] == want.error_path for e in r["errors"])]
    expected = want.count if want.count is not None else (want.at_least or 1)
    enough = len(matching) == expected if want.count is not None else len(matching) >= expected
    if not enough:
        relation = "exactly" if want.count is not None else "at least"
        message = f"expected {relation} {expected} {_describe_events(want)}; got {len(matching)}"
        diff = _closest(rows, conds, want)
        progress = (len(matching), expected)
        if not rows and want.verdict == "accepted":  # refused instead? say why
            refused = await _all_events(
                client, target, window.after_id, verdict="rejected", **filters
            )
            diff += [
                f"  but #{r['id']} was rejected: {e['path']}: {e['message']}"
                for r in refused[:3]
                for e in r["errors"][:1]
            ]
        failure = fail(message, diff)
        failure.progress = progress
        raise failure
    warned = [r for r in matching if r["warnings"]] if want.no_warnings else []
    if warned:
        first = warned[0]["warnings"][0]
        message = f"event #{warned[0]['id']} has warning {first['code']} at {first['path']}"
        raise fail(message, [f"  {first['path']}: {first['message']}"])


def _closest(rows: list[Any], conds: list[Condition], want: EventsExpect) -> list[str]:
    """The diff against the candidate that meets the most conditions."""
    candidates = [r for r in rows if isinstance(r["payload"], dict)]
    if not candidates:
        return ["  no candidate: nothing of that type, user and verdict since the scenario began"]
    best = max(candidates, key=lambda r: (sum(c.holds(r["payload"]) for c in conds), r["id"]))
    lines = [f"  closest: event #{best['id']} ({best['event_type']}, user {best['user_id']})"]
    lines += condition_diff(conds, best["payload"])
    if want.error_path is not None:
        paths = ", ".join(e["path"] for e in best["errors"]) or "none"
        lines.append(f"  error paths: expected {want.error_path}, got {paths}")
    return lines


async def _callback(client: Client, target: Target, window: Window, want: CallbackExpect) -> None:
    path = "/_mock/callbacks"
    page = await get_json(client, target, path, rule_id=want.rule, user_id=want.user_id, limit=1000)
    mine = [c for c in page["data"] if (c["event_id"] or 0) > window.after_id]
    # `count: 0` means none fired at all: a call that fired and failed counts too.
    good = [
        c
        for c in mine
        if (want.count == 0 or c["ok"] == want.ok)
        and (want.body is None or not subset_diff(want.body, c["request_body"]))
    ]
    expected = want.count if want.count is not None else 1
    enough = len(good) == expected if want.count is not None else len(good) >= 1
    if not enough:
        what = f"{'ok' if want.ok else 'failed'} callback(s)"
        what += (f" of rule {want.rule}" if want.rule else "") + (
            f" for user {want.user_id}" if want.user_id else ""
        )
        relation = "exactly" if want.count is not None else "at least"
        raise fail(
            f"expected {relation} {expected} {what}; got {len(good)}", _nearest_call(mine, want)
        )
    if want.attempts is not None and len(good[0]["attempts"]) != want.attempts:
        codes = [a["status_code"] for a in good[0]["attempts"]]
        raise fail(f"expected {want.attempts} attempt(s); got {len(codes)}: {codes}")


def _nearest_call(mine: list[Any], want: CallbackExpect) -> list[str]:
    if not mine:
        return ["  no callback of that rule and user since the scenario began"]
    best = mine[-1]
    lines = [
        f"  closest: callback #{best['id']} ({best['rule_id']}, ok {_show(best['ok'])}, "
        f"error {_show(best['error'])})"
    ]
    if want.body is not None:
        lines += subset_diff(want.body, best["request_body"], "$.body")
    return lines


async def _player(client: Client, target: Target, want: PlayerExpect) -> None:
    url = f"{target.ft_url}/_mock/players/{want.user_id}"
    response = await client.get(url, headers=target.control_headers())
    if response.status_code == 404:
        raise fail(f"player {want.user_id} is not in the player model (no accepted event)")
    response.raise_for_status()
    diff = condition_diff(conditions(want.values), response.json())
    if diff:
        raise fail(f"player {want.user_id} does not have the expected values", diff)


async def _lookups(client: Client, target: Target, window: Window, want: LookupsExpect) -> None:
    filters = {"user_id": want.user_id, "endpoint": want.endpoint, "limit": 1000}
    page = await get_json(client, target, "/_mock/lookups", **filters)
    mine = [row for row in page["data"] if (row["event_id"] or 0) > window.after_id]
    good = [row for row in mine if row["ok"] == want.ok]
    if len(good) < want.at_least:
        what = f"{want.endpoint or 'any'} lookup(s) of user {want.user_id} with ok {_show(want.ok)}"
        diff = [f"  #{row['id']} {row['endpoint']}: {_lookup_verdict(row)}" for row in mine[-5:]]
        message = f"expected at least {want.at_least} {what}; got {len(good)}"
        raise fail(message, diff or ["  no lookup of that user since the scenario began"])


def _lookup_verdict(row: dict[str, Any]) -> str:
    problems = "; ".join(f"{p['path']} {p['message']}" for p in row["problems"])
    return f"status {_show(row['status_code'])}, {row['error'] or problems or 'ok'}"


async def _no_validation_errors(client: Client, target: Target, window: Window) -> None:
    rows = await _all_events(client, target, window.after_id, verdict="rejected")
    if rows:
        diff = [
            f"  #{r['id']} {r['event_type'] or '?'}: {e['path']}: {e['message']}"
            for r in rows[:5]
            for e in (r["errors"] or [{"path": "$", "message": r["error_code"]}])[:2]
        ]
        raise fail(f"expected no rejected event; got {len(rows)}", diff)


async def _delivery(client: Client, target: Target, window: Window, want: DeliveryExpect) -> None:
    params = {
        "after_id": window.after_id,
        "type": want.type,
        "user_id": want.user_id,
        "transport": want.transport,
        "expected": want.expected,
    }
    report = await get_json(client, target, "/_mock/delivery", **params)
    diff = []
    if report["lost"] != want.lost:
        diff.append(f"  lost: expected {want.lost}, got {report['lost']}")
    if report["duplicated"] != want.duplicated:
        diff.append(f"  duplicated: expected {want.duplicated}, got {report['duplicated']}")
    if want.expected is not None and report["missing"]:
        diff.append(f"  missing: expected 0 of {want.expected}, got {report['missing']}")
    p99 = report["latency_ms"].get("p99")
    if want.p99_latency_ms is not None and (p99 is None or p99 > want.p99_latency_ms):
        target_ms = f"{want.p99_latency_ms:g}"
        diff.append(f"  p99 delivery latency: expected <= {target_ms} ms, got {_show(p99)}")
    if diff:
        raise fail("the delivery report is not as expected", diff)
