"""Schemathesis hooks for `make fuzz` (loaded through SCHEMATHESIS_HOOKS=fuzz.hooks).

Generated callback rules may name any URL: each is pointed at a closed loopback port, so the
fuzzed mock never calls anything but this machine. Generated fault rules and callback rules are
removed after their call, as a rule answering 503 to every event would hide the cases after it.
"""

from __future__ import annotations

from typing import Any

import httpx
import schemathesis

LOOPBACK_SINK = "http://127.0.0.1:9/fuzz-callback"  # port 9 (discard): nothing listens


def _loopback_urls(value: Any) -> Any:
    """`value` with every "url" string inside replaced by the loopback sink."""
    if isinstance(value, dict):
        return {
            key: LOOPBACK_SINK if key == "url" and isinstance(item, str) else _loopback_urls(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_loopback_urls(item) for item in value]
    return value


@schemathesis.hook
def before_call(ctx: Any, case: Any, **kwargs: Any) -> None:
    if case.path.startswith("/_mock/callbacks"):
        case.body = _loopback_urls(case.body)


@schemathesis.hook
def after_call(ctx: Any, case: Any, response: Any) -> None:
    if case.method.upper() == "POST" and case.path.startswith(
        ("/_mock/faults", "/_mock/callbacks")
    ):
        base = str(response.request.url).split("/_mock/")[0]
        json_type = {"Content-Type": "application/json"}  # as the control API asks of changes
        httpx.delete(f"{base}/_mock/faults", headers=json_type, timeout=10)
        httpx.delete(f"{base}/_mock/callbacks/rules", headers=json_type, timeout=10)


@schemathesis.hook
def filter_failure(ctx: Any, failure: Any, case: Any, response: Any) -> bool:
    """Keep every failure but one documented answer: a callback rule's templates and field paths
    must name what the contract defines, which JSON Schema cannot say, so a schema-valid rule
    may get the documented 422 `invalid_rule` (as in tests/test_openapi_schemathesis.py)."""
    refused_rule = case.path.startswith("/_mock/callbacks/") and response.status_code == 422
    return not (refused_rule and "invalid_rule" in response.text)
