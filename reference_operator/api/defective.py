"""How some defect switches break the Operator API: each a realistic bug, on purpose.

Kept apart from the correct code paths in `operator_api.py`, which only choose one of these
when its switch is on.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import suppress
from typing import Any

from fastapi import HTTPException, Request
from pydantic import ValidationError

from reference_operator.api.operator_models import Consent

__all__ = ["ConcurrencySlowdown", "apply_item_by_item", "leaky_user_lock"]

_LOCK_HOLD_SECONDS = 0.2  # `abandoned_calls_lock_user`: slow enough for FT to give up
_CONTENDED_SECONDS = 0.75  # `slow_under_concurrency`: over FT's 500 ms budget


def leaky_user_lock() -> Callable[[Request], Awaitable[None]]:
    """The `abandoned_calls_lock_user` defect: a per-user lock released only if the caller waits."""
    locked: set[str] = set()

    async def hold(request: Request) -> None:
        user_id = request.path_params.get("user_id")
        if user_id is None:  # a credit names its user in the body (FastAPI has read it already)
            with suppress(ValueError, TypeError, KeyError):
                user_id = str(json.loads(await request.body())["user_id"])
        if user_id is None:
            return
        if user_id in locked:
            raise HTTPException(
                status_code=503, detail={"error": f"user {user_id} is locked", "code": 503}
            )
        locked.add(user_id)
        await asyncio.sleep(_LOCK_HOLD_SECONDS)
        if await request.is_disconnected():
            return  # the bug: bailing out early skips the release below
        locked.discard(user_id)

    return hold


class ConcurrencySlowdown:
    """The `slow_under_concurrency` defect: a lookup that finds another in flight waits.

    Like a single shared database connection: fast one at a time, slow as soon as FT's lookups
    overlap.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._in_flight = 0

    def __call__(self, request: Request) -> Iterator[None]:
        """FastAPI dependency (sync, so it runs in the thread pool like the routes)."""
        with self._lock:
            self._in_flight += 1
            contended = self._in_flight > 1
        try:
            if contended and request.method == "GET":
                time.sleep(_CONTENDED_SECONDS)
            yield
        finally:
            with self._lock:
                self._in_flight -= 1


def apply_item_by_item(body: Any, apply: Callable[[dict[str, bool]], None]) -> None:
    """The `refused_request_changes_state` defect: each consent is applied as it is checked.

    A body whose second item is invalid is refused after its first item changed the player.
    """
    items = body.get("consents") if isinstance(body, dict) else None
    if not isinstance(items, list) or not 1 <= len(items) <= 6:
        raise HTTPException(400, {"error": "consents must be a list of 1 to 6 items", "code": 400})
    for index, item in enumerate(items):
        try:
            consent = Consent.model_validate(item)
        except ValidationError as exc:
            detail = f"$.consents[{index}]: {exc.errors()[0]['msg']}"
            raise HTTPException(400, {"error": detail, "code": 400}) from None
        apply({consent.type: consent.opted_in})
