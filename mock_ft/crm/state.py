"""Everything one mock is made of, built complete in one go; the app's lifespan runs it.

`MockState.build(settings)` only constructs (no socket, no file, no task): the journal, the
pipeline that feeds it, the fault rules, the lookup and callback runners, the player model and the
broker consumers, each given what it needs in its constructor. `running()` starts them in that
order and stops them in reverse, so whatever the brokers hold is journaled and acked before the
journal shuts. The routes reach this object through crm/deps.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from mock_ft.brokers import Brokers
from mock_ft.callbacks import CallbackRunner, RuleCompiler
from mock_ft.contracts import IntegrationContract, integration_contract
from mock_ft.extras import require
from mock_ft.faults import FaultInjector
from mock_ft.ingest.pipeline import Pipeline
from mock_ft.journal import Journal
from mock_ft.lookups import LookupRunner
from mock_ft.players import PlayerModel
from mock_ft.settings import Settings

__all__ = ["MockState"]


@dataclass(frozen=True, slots=True)
class MockState:
    """One mock's parts. Build it with `build()`; run it with `async with state.running():`."""

    settings: Settings
    contract: IntegrationContract
    journal: Journal
    owns_journal: bool  # opened and closed by `running()`; False for one passed in, already open
    faults: FaultInjector
    rule_compiler: RuleCompiler
    lookups: LookupRunner
    players: PlayerModel
    callbacks: CallbackRunner
    pipeline: Pipeline
    brokers: Brokers

    @classmethod
    def build(cls, settings: Settings, journal: Journal | None = None) -> MockState:
        """Every part, complete. A bad fault or callback rule in the settings stops here,
        saying why. Pass `journal` to share one already started (tests, the demo)."""
        if settings.rabbitmq_url is not None or settings.kafka_bootstrap is not None:
            require("brokers", needed_by="consuming from RabbitMQ or Kafka")
        contract = integration_contract().with_paths({"game_round_path": settings.game_round_path})
        compiler = RuleCompiler(settings, contract)
        rules = compiler.load(settings.callback_rules)
        faults = FaultInjector(seed=settings.fault_seed)
        for spec in settings.faults:  # from --fault, MOCK_FT_FAULTS or the config file
            faults.add(**spec.model_dump())
        owns_journal = journal is None
        if journal is None:
            journal = Journal(settings.journal, sync=settings.journal_sync)  # opened by running()
        lookups = LookupRunner(settings, journal)
        players = PlayerModel(journal)
        callbacks = CallbackRunner(journal, players, lookups)
        for rule in rules:
            callbacks.add(rule)
        pipeline = Pipeline(
            journal,
            contract,
            freshness_target_ms=settings.freshness_target_ms,
            on_accepted=_reactions(lookups, callbacks),
        )
        return cls(
            settings=settings,
            contract=contract,
            journal=journal,
            owns_journal=owns_journal,
            faults=faults,
            rule_compiler=compiler,
            lookups=lookups,
            players=players,
            callbacks=callbacks,
            pipeline=pipeline,
            brokers=Brokers(settings, pipeline, faults),
        )

    @asynccontextmanager
    async def running(self) -> AsyncIterator[MockState]:
        """Open the journal (when this mock owns it), start the runners and the brokers; on the
        way out stop them in reverse order, also when one failed to start."""
        async with AsyncExitStack() as stack:
            if self.owns_journal:
                self.journal.start()
                stack.callback(self.journal.close)
            await self.lookups.start()
            stack.push_async_callback(self.lookups.stop)
            await self.callbacks.start()
            stack.push_async_callback(self.callbacks.stop)
            await self.brokers.start()
            stack.push_async_callback(self.brokers.stop)
            yield self


def _reactions(
    lookups: LookupRunner, callbacks: CallbackRunner
) -> Callable[[int, str | None, str | None], None]:
    """What an accepted first sighting of an event sets off: FT's lookups and callback rules."""

    def accepted(event_id: int, event_type: str | None, user_id: str | None) -> None:
        lookups.schedule(event_id, event_type, user_id)
        callbacks.offer(event_id, event_type, user_id)

    return accepted
