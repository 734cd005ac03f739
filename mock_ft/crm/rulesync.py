"""The mock's fault and callback rules and its reset, the same on every instance of a journal.

On SQLite (one process) the rules live in this process's memory, as they always did. On a
PostgreSQL journal they live in the journal (journal/rules.py), shared by every instance
writing it: a change is committed there, this instance reloads its copy, and the call answers
once every running instance has loaded it (or after `_SETTLE_SECONDS`, saying who lags), so the
next attempt after the answer meets the new rules on whichever instance it arrives. Other
instances' changes are heard through `NOTIFY mock_ft_rules`; a reset is one too, so every
instance forgets its cached player folds.

Start-up rules (`--fault`, `callback_rules`): the first instance up on a journal sets the rules
from its configuration, replacing what an earlier cluster left, as a restarted single mock
would; an instance joining running ones takes their rules as they stand, so replicas with one
configuration have it once and a rolling restart brings back no rule that was deleted.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from mock_ft.callbacks import CallbackRunner, Rule, RuleCompiler, RuleSpec
from mock_ft.errors import RuleError
from mock_ft.faults import FaultInjector, FaultRule
from mock_ft.faultspec import FaultSpec
from mock_ft.journal import Journal
from mock_ft.journal import rules as stored
from mock_ft.journal.tx import Tx
from mock_ft.players import PlayerModel
from mock_ft.problems import Problem

__all__ = ["RuleSync"]

T = TypeVar("T")
_SETTLE_SECONDS = 10.0  # how long a change waits for every running instance to load it
_SETTLE_POLL = 0.01
log = logging.getLogger(__name__)


class RuleSync:
    """Changes, lists and shares this mock's rules; `start()` in the app's lifespan."""

    def __init__(
        self,
        journal: Journal,
        instance_id: str,
        parts: tuple[FaultInjector, CallbackRunner, PlayerModel, RuleCompiler],
        startup: tuple[Sequence[FaultSpec], Sequence[Rule]] = ((), ()),
        fault_seed: int = 0,
    ) -> None:
        self.journal = journal
        self.instance_id = instance_id
        self.faults, self.callbacks, self.players, self.compiler = parts
        self.fault_seed = fault_seed
        # Held here as this process's rules until `start` finds the journal shared.
        self._startup = startup
        if journal.shared:  # known from the URL: a rule that cannot be shared stops the start
            for rule in startup[1]:
                _callback_row(rule)
        for spec in startup[0]:
            self.faults.add(**spec.model_dump())
        for rule in startup[1]:
            self.callbacks.add(rule)
        self.generation = 0  # of the shared rules this instance holds
        self._resets = 0
        self._lock = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reloads: set[asyncio.Task[None]] = set()
        self._stopped = False

    @property
    def shared(self) -> bool:
        """Whether the rules live in the journal (PostgreSQL) rather than in this process."""
        return self.journal.shared

    async def start(self) -> None:
        """On a shared journal, seed the start-up rules there (or join the running instances'
        rules) and take them; the heartbeat has written this instance's row already."""
        if not self.shared:
            return
        faults, callbacks = self._startup
        self._loop = asyncio.get_running_loop()
        self.faults.shared = self._decides
        self.journal.watch_rules(self._heard)
        seeded_faults = [_fault_row(spec) for spec in faults]
        seeded_callbacks = [_callback_row(rule) for rule in callbacks]
        job = stored.seed_or_join(
            self.instance_id, seeded_faults, seeded_callbacks, self.fault_seed
        )
        await self.journal.run(job, stored.RULES)
        await self.reload()

    async def stop(self) -> None:
        """Stop reloading."""
        self._stopped = True
        for task in list(self._reloads):
            task.cancel()
        await asyncio.gather(*self._reloads, return_exceptions=True)

    # -- fault rules ---------------------------------------------------------------------

    async def fault_rules(self) -> list[FaultRule]:
        """The fault rules, oldest first, with their counters as the cluster counted them."""
        if not self.shared:
            return self.faults.rules()
        return [_fault_rule(f) for f in (await self.journal.run(stored.load)).faults]

    async def add_fault(self, spec: FaultSpec) -> FaultRule:
        """Add a fault rule; the rule as added."""
        if not self.shared:
            return self.faults.add(**spec.model_dump())
        rule_id = await self._change(stored.add_fault(*_fault_row(spec)))
        return next(r for r in await self.fault_rules() if r.id == rule_id)

    async def remove_fault(self, rule_id: int) -> bool:
        """Remove one fault rule; False when there is none of that id."""
        if not self.shared:
            return self.faults.remove(rule_id)
        return bool(await self._change(stored.remove_fault(rule_id)))

    async def clear_faults(self) -> int:
        """Remove every fault rule; how many went."""
        if not self.shared:
            return self.faults.clear()
        return await self._change(stored.clear_faults)

    # -- callback rules ------------------------------------------------------------------

    def callback_rules(self) -> list[Rule]:
        """The callback rules, in the order loaded."""
        return list(self.callbacks.rules.values())

    async def add_callbacks(self, rules: Sequence[Rule]) -> None:
        """Load callback rules (one with the same id is replaced); RuleError when a rule carries
        its own api_key on a shared journal, where it would be stored."""
        if not self.shared:
            for rule in rules:
                self.callbacks.add(rule)
            return
        rows = [_callback_row(rule) for rule in rules]
        await self._change(lambda tx: (None, stored.add_callbacks(rows)(tx)))

    async def remove_callback(self, rule_id: str) -> bool:
        """Unload one callback rule; False when there is none of that id."""
        if not self.shared:
            return self.callbacks.remove(rule_id)
        return bool(await self._change(stored.remove_callback(rule_id)))

    async def clear_callbacks(self) -> int:
        """Unload every callback rule; how many there were."""
        if not self.shared:
            return self.callbacks.clear()
        return await self._change(stored.clear_callbacks)

    # -- reset ---------------------------------------------------------------------------

    async def reset(self) -> int:
        """Empty the journal (the rules stay); every instance forgets its player folds."""
        if not self.shared:
            removed = await self.journal.run(Journal.reset)
            self.players.clear()
            return removed

        def job(tx: Tx) -> tuple[int, int]:
            return Journal.reset(tx), stored.bump(tx, reset=True)

        return await self._change(job)

    # -- sharing -------------------------------------------------------------------------

    async def _change(self, job: Callable[[Tx], tuple[T, int]]) -> T:
        """Commit a change, take it here, and wait until every running instance holds it."""
        value, generation = await self.journal.run(job, stored.RULES)
        await self.reload()
        deadline = asyncio.get_running_loop().time() + _SETTLE_SECONDS
        while await self.journal.run(stored.lagging(generation)):
            if asyncio.get_running_loop().time() > deadline:
                log.warning(
                    "rules generation %d: not every running instance has loaded it after %g s; "
                    "see /_mock/health for the instances",
                    generation,
                    _SETTLE_SECONDS,
                )
                break
            await asyncio.sleep(_SETTLE_POLL)
        return value

    async def _decides(self, matching: list[tuple[FaultRule, bytes | None]]) -> FaultRule | None:
        """The first matching rule that acts on an attempt, decided and counted in the journal in
        one transaction for all of them (journal/rules.py `decide`)."""
        candidates = [
            stored.Candidate(rule.id, rule.first_attempts, _hex(digest), rule.probability)
            for rule, digest in matching
        ]
        fired = await self.journal.run(stored.decide(candidates), stored.RULES)
        return next((rule for rule, _ in matching if rule.id == fired), None)

    def _heard(self) -> None:
        """Another instance changed the rules (called from the listening thread)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._spawn_reload)

    def _spawn_reload(self) -> None:
        if self._stopped:  # the journal closes next
            return
        task = asyncio.create_task(self.reload(), name="mock-ft rules reload")
        self._reloads.add(task)
        task.add_done_callback(self._reloads.discard)

    async def reload(self) -> None:
        """Take the rules as the journal holds them, then say so in this instance's row."""
        async with self._lock:
            found = await self.journal.run(stored.load)
            if found.generation <= self.generation:
                return
            self.faults.replace([_fault_rule(f) for f in found.faults])
            self.callbacks.rules = self._compiled(found.callbacks)
            if found.resets != self._resets:
                self.players.clear()
            self.generation, self._resets = found.generation, found.resets
            instance, generation = self.instance_id, found.generation
            await self.journal.run(lambda tx: stored.acknowledge(tx, instance, generation))

    def _compiled(self, rows: list[tuple[str, str]]) -> dict[str, Rule]:
        rules: dict[str, Rule] = {}
        for rule_id, spec in rows:
            try:
                rules[rule_id] = self.compiler(RuleSpec.model_validate(json.loads(spec)))
            except (RuleError, ValueError) as exc:  # this instance's settings refuse it
                log.warning("callback rule %r is not loaded on this instance: %s", rule_id, exc)
        return rules


def _hex(digest: bytes | None) -> str | None:
    return None if digest is None else digest.hex()


def _fault_row(spec: FaultSpec) -> tuple[str, int | None]:
    fields = spec.model_dump()
    times = fields.pop("times")
    return json.dumps(fields), times


def _fault_rule(row: stored.StoredFault) -> FaultRule:
    fields: dict[str, Any] = json.loads(row.spec)
    return FaultRule(id=row.id, **fields, times=row.times, hits=row.hits)


def _callback_row(rule: Rule) -> tuple[str, str]:
    if rule.spec.request.api_key is not None:
        message = (
            f"callback rule {rule.id!r} carries its own api_key: on a shared PostgreSQL journal "
            "rules are stored in it, and secrets never are; remove it and set "
            "callback_api_key (MOCK_FT_CALLBACK_API_KEY) on every instance"
        )
        problem = Problem("request.api_key", "secret_not_shared", message)
        raise RuleError(message, (problem,))
    return rule.id, rule.spec.model_dump_json()
