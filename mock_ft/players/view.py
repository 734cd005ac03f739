"""`PlayerModel`: each player's state folded from the journal, plus what the lookups returned.

Nothing here is stored apart from the journal, so the model is rebuilt from it after a restart by
construction. Folds are cached per player (least recently used first out), so following a player
event by event costs one fold per new event; a fold runs as a journal job, so two callers never
fold into the same cached state at once.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from mock_ft.journal import Journal
from mock_ft.journal.tx import Tx
from mock_ft.players.model import PlayerState

__all__ = ["PlayerModel", "PlayerPage"]

_FOLD = (
    "SELECT id, event_type, payload FROM events WHERE user_id = ? AND id > ? AND id <= ? "
    "AND verdict = 'accepted' AND duplicate_of IS NULL ORDER BY id"
)
_LATEST_LOOKUPS = (
    "SELECT endpoint, response, started_at FROM lookups WHERE id IN (SELECT MAX(id) FROM lookups "
    "WHERE user_id = ? AND ok = 1 GROUP BY endpoint)"
)
_NO_LIMIT = 2**63 - 1


@dataclass(slots=True, frozen=True)
class PlayerPage:
    """A page of players ordered by user id; pass `next_cursor` as `after` for the next."""

    players: list[dict[str, Any]]
    next_cursor: str | None


class PlayerModel:
    """Player views for the control API and the callback rules."""

    def __init__(self, journal: Journal, *, capacity: int = 10_000) -> None:
        self.journal = journal
        self.capacity = capacity
        self._cache: OrderedDict[str, PlayerState] = OrderedDict()

    def clear(self) -> None:
        """Forget every cached fold (after the journal was reset)."""
        self._cache.clear()

    async def view(self, user_id: str, upto: int | None = None) -> dict[str, Any] | None:
        """The player as of event `upto` (default: now), or None when no event of theirs counts."""
        return await self.journal.run(self.view_job(user_id, upto))

    def view_job(
        self, user_id: str, upto: int | None = None
    ) -> Callable[[Tx], dict[str, Any] | None]:
        """The journal job behind `view`, for callers that batch several reads."""

        def job(tx: Tx) -> dict[str, Any] | None:
            state = self._fold(tx, user_id, upto)
            if state is None:
                return None
            data = state.public()
            data.update(_from_lookups(tx, user_id))
            return data

        return job

    async def page(self, after: str | None, limit: int) -> PlayerPage:
        """Players with accepted events, ordered by user id."""

        def job(tx: Tx) -> PlayerPage:
            rows = tx.conn.execute(
                "SELECT user_id FROM users WHERE user_id > ? ORDER BY user_id LIMIT ?",
                (after or "", limit),
            ).fetchall()
            players = [self.view_job(row[0])(tx) for row in rows]
            cursor = rows[-1][0] if len(rows) == limit else None
            return PlayerPage([p for p in players if p is not None], cursor)

        return await self.journal.run(job)

    def _fold(self, tx: Tx, user_id: str, upto: int | None) -> PlayerState | None:
        cached = self._cache.get(user_id)
        # A view from before the cached fold is folded afresh and leaves the cache as it is.
        keep = cached is None or upto is None or cached.last_event_id <= upto
        state = cached if cached is not None and keep else PlayerState(user_id)
        rows = tx.conn.execute(
            _FOLD, (user_id, state.last_event_id, _NO_LIMIT if upto is None else upto)
        ).fetchall()
        for event_id, event_type, payload in rows:
            try:
                body = orjson.loads(payload)
            except orjson.JSONDecodeError:  # >64-bit integers: orjson refuses, the mock accepts
                body = json.loads(payload)
            if isinstance(body, dict):
                state.apply(event_id, event_type, body)
        if state.event_count == 0:
            return None
        if keep:
            self._cache[user_id] = state
            self._cache.move_to_end(user_id)
            while len(self._cache) > self.capacity:
                self._cache.popitem(last=False)
        return state


def _from_lookups(tx: Tx, user_id: str) -> dict[str, Any]:
    """Profile, consents and blocks from the latest successful lookups of each kind."""
    bodies: dict[str, Any] = {}
    seen: dict[str, float] = {}
    for endpoint, response, started_at in tx.conn.execute(_LATEST_LOOKUPS, (user_id,)):
        try:
            bodies[endpoint] = orjson.loads(response or "")
        except orjson.JSONDecodeError:  # the evidence is cut at 4 KiB
            continue
        seen[endpoint] = started_at
    profile = bodies.get("userdetails") if isinstance(bodies.get("userdetails"), dict) else None
    consents = {
        item["type"]: item.get("opted_in")
        for item in (bodies.get("userconsents") or {}).get("consents", [])
        if isinstance(item, dict) and isinstance(item.get("type"), str)
    }
    blocks = {
        item["type"]: item.get("active")
        for item in (bodies.get("userblocks") or {}).get("blocks", [])
        if isinstance(item, dict) and isinstance(item.get("type"), str)
    }
    fallback = profile or {}
    return {
        "profile": profile,
        "consents": consents or None,
        "blocked": blocks.get("Blocked", fallback.get("is_blocked")),
        "excluded": blocks.get("Excluded", fallback.get("is_excluded")),
        "lookups": seen,
    }
