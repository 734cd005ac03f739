"""Fault rules: act like a failing FT on purpose (503, 429 with Retry-After, delays, timeouts, ...).

A rule (see `faultspec.FaultSpec` for what each action does) matches attempts by transport, path,
event type and user id (each optional) and acts on them: the next `times` matching attempts, or
the first `first_attempts` attempts of each distinct event (identified by its body), or each
attempt with a `probability` drawn from a seeded random generator, so the same seed gives the same
fault sequence. The first matching rule that fires wins. Error answers, timeouts and resets come
before authentication and validation, as a load balancer in front of FT would produce them.

On a PostgreSQL journal (`shared`) the rules and their counters live in the journal, shared by
every instance writing it (journal/rules.py): the rules here are a copy for matching, and `shared`
(set by crm/rulesync.py) decides which matching rule fires, counted in the rules' rows, in one
transaction per attempt.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from mock_ft.faultspec import ACTIONS_BY_TRANSPORT, DEFAULT_HOLD_MS, DEFAULT_PAUSE_MS

__all__ = ["FaultInjector", "FaultRule"]

_REMEMBERED_EVENTS = 100_000  # bound on per-event attempt counters (first_attempts rules)


@dataclass(slots=True)
class FaultRule:
    """One rule; None matches anything."""

    id: int
    action: str = "status"
    status: int = 503
    retry_after: int | None = None
    delay_ms: int | None = None
    transport: str | None = None
    path: str | None = None
    event_type: str | None = None
    user_id: str | None = None
    times: int | None = None  # how many more attempts to fail; None = no such limit
    first_attempts: int | None = None  # fail this many attempts of each distinct event
    probability: float = 1.0
    hits: int = 0
    _seen: OrderedDict[bytes, int] = field(default_factory=OrderedDict, repr=False)

    def hold_seconds(self) -> float:
        """How long the attempt waits before the rule's action (a timeout's hold by default)."""
        if self.delay_ms is not None:
            return self.delay_ms / 1000
        if self.action == "pause":
            return DEFAULT_PAUSE_MS / 1000
        return DEFAULT_HOLD_MS / 1000 if self.action == "timeout" else 0.0

    def describe(self) -> dict[str, Any]:
        """What the journal records of the rule on each attempt it hit."""
        found: dict[str, Any] = {"rule": self.id, "action": self.action}
        if self.action == "status":
            found["status"] = self.status
            if self.retry_after is not None:
                found["retry_after"] = self.retry_after
        if self.action in ("delay", "timeout", "pause") or self.delay_ms:
            found["delay_ms"] = round(self.hold_seconds() * 1000)
        return found

    def public(self) -> dict[str, Any]:
        """The rule as the control API shows it."""
        return {
            "id": self.id,
            "action": self.action,
            "status": self.status if self.action == "status" else None,
            "retry_after": self.retry_after,
            "delay_ms": self.delay_ms,
            "transport": self.transport,
            "path": self.path,
            "event_type": self.event_type,
            "user_id": self.user_id,
            "times": self.times,
            "first_attempts": self.first_attempts,
            "probability": self.probability,
            "hits": self.hits,
        }


class FaultInjector:
    """The live fault rules of one mock; safe to use from several threads."""

    def __init__(self, seed: int = 0) -> None:
        self._rules: list[FaultRule] = []
        self._next_id = 1
        self._random = random.Random(seed)  # noqa: S311 - reproducible faults, not security
        self._lock = threading.Lock()
        # Told the ids of removed rules: a pause in progress ends with its rule.
        self._on_removed: set[Callable[[frozenset[int]], None]] = set()
        # Where the rules are shared: the matching rules, in order, each with the body digest
        # its first_attempts needs -> the first that fires, decided and counted all at once.
        self.shared: (
            Callable[[list[tuple[FaultRule, bytes | None]]], Awaitable[FaultRule | None]] | None
        ) = None

    @property
    def active(self) -> bool:
        """Whether there are rules at all (the hot path asks before `decide`)."""
        return bool(self._rules)

    def replace(self, rules: list[FaultRule]) -> None:
        """Take the rules as the shared journal holds them now."""
        with self._lock:
            gone = frozenset(r.id for r in self._rules) - {r.id for r in rules}
            self._rules = list(rules)
            self._next_id = max((r.id for r in rules), default=0) + 1
        self._removed(gone)

    def watch_removals(self, listener: Callable[[frozenset[int]], None]) -> Callable[[], None]:
        """Call `listener` with the ids of the rules each remove/clear takes away; returns the
        function that stops it."""
        with self._lock:
            self._on_removed.add(listener)
        return lambda: self._unwatch(listener)

    def _unwatch(self, listener: Callable[[frozenset[int]], None]) -> None:
        with self._lock:
            self._on_removed.discard(listener)

    def _removed(self, ids: frozenset[int]) -> None:
        with self._lock:
            listeners = list(self._on_removed)
        if ids:
            for listener in listeners:
                listener(ids)

    def add(self, **spec: Any) -> FaultRule:
        """Add a rule (fields of FaultRule but id/hits) and return it."""
        with self._lock:
            rule = FaultRule(id=self._next_id, **spec)
            self._next_id += 1
            self._rules.append(rule)
            return rule

    def rules(self) -> list[FaultRule]:
        """The rules, oldest first."""
        with self._lock:
            return list(self._rules)

    def remove(self, rule_id: int) -> bool:
        """Remove one rule; False when there is no such rule."""
        with self._lock:
            kept = [r for r in self._rules if r.id != rule_id]
            removed = len(kept) != len(self._rules)
            self._rules = kept
        if removed:
            self._removed(frozenset({rule_id}))
        return removed

    def clear(self, seed: int | None = None) -> int:
        """Remove every rule (and reseed, when given); return how many went."""
        with self._lock:
            gone = frozenset(rule.id for rule in self._rules)
            self._rules = []
            if seed is not None:
                self._random.seed(seed)
        self._removed(gone)
        return len(gone)

    async def decide(
        self, transport: str, path: str | None, event_type: str | None, body: bytes
    ) -> FaultRule | None:
        """The rule that fails this attempt, if any (and count the hit)."""
        if self.shared is None:
            with self._lock:
                for rule in self._matching(transport, path, event_type, body):
                    if self._fires(rule, body):
                        rule.hits += 1
                        return rule
                return None
        matching = [
            (rule, _digest(body) if rule.first_attempts is not None else None)
            for rule in self._matching(transport, path, event_type, body)
        ]
        return await self.shared(matching) if matching else None

    def _matching(
        self, transport: str, path: str | None, event_type: str | None, body: bytes
    ) -> Iterator[FaultRule]:
        """The rules whose transport, path, event type and user id match, first to act first."""
        user_id: str | None = None
        can_do = ACTIONS_BY_TRANSPORT[transport]
        for rule in self._rules:
            if rule.action not in can_do:
                continue
            if not _matches(rule.transport, transport) or not _matches(rule.path, path):
                continue
            if not _matches(rule.event_type, event_type):
                continue
            if rule.user_id is not None:
                user_id = user_id if user_id is not None else _user_id(body)
                if user_id != rule.user_id:
                    continue
            yield rule

    def _fires(self, rule: FaultRule, body: bytes) -> bool:
        if rule.times is not None and rule.times <= 0:
            return False
        if rule.first_attempts is not None:
            digest = _digest(body)
            attempts = rule._seen.pop(digest, 0) + 1
            rule._seen[digest] = attempts
            if len(rule._seen) > _REMEMBERED_EVENTS:
                rule._seen.popitem(last=False)
            if attempts > rule.first_attempts:
                return False
        if rule.probability < 1.0 and self._random.random() >= rule.probability:
            return False
        if rule.times is not None:
            rule.times -= 1
        return True


def _digest(body: bytes) -> bytes:
    return hashlib.blake2b(body, digest_size=16).digest()


def _matches(wanted: str | None, actual: str | None) -> bool:
    return wanted is None or wanted == actual


def _user_id(body: bytes) -> str:
    try:
        payload = json.loads(body)
    except ValueError:
        return ""
    value = payload.get("user_id") if isinstance(payload, dict) else None
    return "" if value is None else str(value)
