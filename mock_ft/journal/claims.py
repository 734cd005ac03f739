"""Lookups and callback actions claimed with a lease, so that several instances on one PostgreSQL
journal run each once per event, and another instance runs it when its claimer dies.

The transaction that accepts an event also writes one row in `reactions` per reaction it sets
off (each lookup, and the callback rules' evaluation), already claimed by the accepting instance
with a lease: it runs them at once, as on SQLite. Its keeper renews the leases of the claims it
holds every third of the lease. Every instance's keeper also sweeps, on the same beat, for rows
whose lease has run out (`FOR UPDATE SKIP LOCKED`: sweepers never wait for each other) and takes
them over: their claimer died (`kill -9`, a lost machine), stopped (a clean stop hands its claims
over at once), or stalled beyond the lease.

An outcome is journaled in one transaction with the check that this instance still holds the
claim (the row, locked), and the row goes with the last outcome: a late finisher whose lease was
taken over journals nothing. So the journal holds each lookup and each callback action once; the
operator may be called twice for it (at-least-once calls), when the claimer stalled or died
after calling and before journaling.

SQLite (one process) has no claims: the runners keep their work in memory, as they always did.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from mock_ft.errors import JournalError
from mock_ft.journal.store import Journal
from mock_ft.journal.tx import Tx

__all__ = ["CALLBACKS", "Claimed", "Claims"]

T = TypeVar("T")

CALLBACKS = "callbacks"  # the kind of the callback rules' evaluation; a lookup's is its endpoint
_SWEEP_LIMIT = 200  # claims taken over per sweep; the rest wait for the next beat

_STAGE = (
    "INSERT INTO reactions (event_id, kind, event_type, user_id, claimed_by, lease_until) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
_HELD = (
    "SELECT 1 FROM reactions WHERE event_id = ? AND kind = ? AND claimed_by = ? "
    "FOR UPDATE SKIP LOCKED"
)
_END = "DELETE FROM reactions WHERE event_id = ? AND kind = ? AND claimed_by = ?"
# SKIP LOCKED: a row another instance is taking over is not waited for (nor renewed).
_RENEW = (
    "UPDATE reactions SET lease_until = ? WHERE (event_id, kind) IN (SELECT event_id, kind "
    "FROM reactions WHERE claimed_by = ? AND event_id = ANY(?::bigint[]) FOR UPDATE SKIP LOCKED)"
)
_SWEEP = (
    "UPDATE reactions SET claimed_by = ?, lease_until = ? WHERE (event_id, kind) IN "
    "(SELECT event_id, kind FROM reactions WHERE lease_until < ? AND kind = ANY(?::text[]) "
    "ORDER BY lease_until LIMIT ? FOR UPDATE SKIP LOCKED) "
    "RETURNING event_id, kind, event_type, user_id"
)
_HAND_OVER = "UPDATE reactions SET lease_until = 0 WHERE claimed_by = ?"


@dataclass(frozen=True, slots=True)
class Claimed:
    """A reaction this instance took over from another (or from its own past self)."""

    event_id: int
    kind: str
    event_type: str | None
    user_id: str | None


class Claims:
    """This instance's claims on a shared journal; `start` after the runners, `stop` before."""

    def __init__(self, journal: Journal, instance_id: str, lease: float) -> None:
        self.journal = journal
        self.instance_id = instance_id
        self.lease = lease
        self.held: set[tuple[int, str]] = set()  # (event id, kind): queued or running here
        self.sweeps = 0  # sweeps done (for /_mock/health and tests: "a sweep came and went")
        self.taken = 0  # claims taken over by this instance's sweeps
        self._task: asyncio.Task[None] | None = None

    def stage(
        self, tx: Tx, event_id: int, kinds: Iterable[str], event_type: str | None, user: str | None
    ) -> None:
        """In the accepting transaction: claim the event's reactions for this instance."""
        until = time.time() + self.lease
        for kind in kinds:
            tx.later(_STAGE, (event_id, kind, event_type, user, self.instance_id, until))

    def hold(self, event_id: int, kind: str) -> None:
        """The claim is queued or running here: renew it until it ends."""
        self.held.add((event_id, kind))

    def drop(self, event_id: int, kind: str) -> None:
        """Stop renewing a claim this instance will not finish: another one takes it over."""
        self.held.discard((event_id, kind))

    async def finish(
        self, event_id: int, kind: str, job: Callable[[Tx], T], *, last: bool = True
    ) -> T | None:
        """Journal an outcome with `job` only while this instance holds the claim (None when it
        lost it); `last` ends the claim in the same transaction."""
        key = (event_id, kind, self.instance_id)

        def guarded(tx: Tx) -> T | None:
            if tx.conn.execute(_HELD, key).fetchone() is None:
                return None  # taken over (or emptied by a reset): the taker journals it
            result = job(tx)
            if last:
                tx.conn.execute(_END, key)
            return result

        try:
            return await self.journal.run(guarded)
        finally:
            if last:
                self.held.discard((event_id, kind))

    async def end(self, event_id: int, kind: str) -> None:
        """End a claim whose work is done (or found nothing to do)."""
        self.held.discard((event_id, kind))
        key = (event_id, kind, self.instance_id)
        await self.journal.run(lambda tx: tx.conn.execute(_END, key))

    def start(self, resume: Callable[[Claimed], None], kinds: Callable[[], list[str]]) -> None:
        """Renew and sweep every third of the lease; `resume` queues a claim taken over, of one
        of the `kinds` this instance can run."""
        self._task = asyncio.create_task(self._keep(resume, kinds), name="claims keeper")

    async def stop(self) -> None:
        """Stop the keeper and hand every claim of this instance over to the others at once."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.held.clear()
        with contextlib.suppress(JournalError):  # the journal may be failing: the leases end
            await self.journal.run(lambda tx: tx.conn.execute(_HAND_OVER, (self.instance_id,)))

    async def _keep(
        self, resume: Callable[[Claimed], None], kinds: Callable[[], list[str]]
    ) -> None:
        while True:
            await asyncio.sleep(self.lease / 3)
            with contextlib.suppress(JournalError):  # the next beat may get through
                if self.held:
                    await self.journal.run(self._renew(list({e for e, _ in self.held})))
                for claim in await self.sweep(kinds()):
                    resume(claim)

    async def sweep(self, kinds: list[str]) -> list[Claimed]:
        """Take over the claims of these kinds whose lease ran out; those to run here now."""
        try:
            taken = await self.journal.run(self._sweep(kinds))
        finally:
            self.sweeps += 1
        # One this instance still runs (its renewal came late) keeps running as it is.
        fresh = [c for c in taken if (c.event_id, c.kind) not in self.held]
        self.taken += len(fresh)
        return fresh

    def _renew(self, event_ids: list[int]) -> Callable[[Tx], None]:
        def job(tx: Tx) -> None:
            tx.conn.execute(_RENEW, (time.time() + self.lease, self.instance_id, event_ids))

        return job

    def _sweep(self, kinds: list[str]) -> Callable[[Tx], list[Claimed]]:
        def job(tx: Tx) -> list[Claimed]:
            now = time.time()
            rows = tx.conn.execute(
                _SWEEP, (self.instance_id, now + self.lease, now, kinds, _SWEEP_LIMIT)
            )
            return [Claimed(int(r[0]), r[1], r[2], r[3]) for r in rows]

        return job
