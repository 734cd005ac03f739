"""Which mock-ft instances write a journal: each one's heartbeat, a row with a lease.

Every instance has an id (host, pid and a few random hex digits: unique even when a container
restarts a process under the same pid) and renews a row in `instances` every third of its
lease. An instance whose lease has run out is not seen any more: it stopped without saying so
(`kill -9`, a lost machine), or its loop is stuck. A clean stop removes its row at once.

Leases are wall-clock times of each instance's own clock: instances on machines whose clocks
differ by more than a few seconds may see each other come and go. The lease is long (10 s)
beside the beat (a third of it) so that a busy loop does not drop an instance.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

from mock_ft.errors import JournalError
from mock_ft.journal.store import Journal
from mock_ft.journal.tx import Tx

__all__ = ["LEASE_SECONDS", "Heartbeat", "InstanceSeen", "new_instance_id"]

LEASE_SECONDS = 10.0
FORGET_AFTER = 86_400.0  # rows of instances gone for a day are deleted at the next start


def new_instance_id() -> str:
    """An id for this process: `host-pid-xxxx`."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(2)}"


@dataclass(frozen=True, slots=True)
class InstanceSeen:
    """An instance whose lease has not run out."""

    id: str
    started_at: float
    seen_at: float
    lease_until: float


def alive(now: float) -> Callable[[Tx], list[InstanceSeen]]:
    """Job: the instances whose lease runs past `now`, oldest first."""

    def job(tx: Tx) -> list[InstanceSeen]:
        rows = tx.conn.execute(
            "SELECT id, started_at, seen_at, lease_until FROM instances "
            "WHERE lease_until >= ? ORDER BY started_at, id",
            (now,),
        )
        return [InstanceSeen(r[0], r[1], r[2], r[3]) for r in rows]

    return job


class Heartbeat:
    """This instance's row in the journal: written at `start`, renewed, removed at `stop`."""

    def __init__(self, journal: Journal, instance_id: str, lease: float = LEASE_SECONDS) -> None:
        self.journal = journal
        self.instance_id = instance_id
        self.lease = lease
        self.started_at = 0.0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Write the row (so the instance is seen before it serves), then renew it."""
        self.started_at = time.time()
        with contextlib.suppress(JournalError):  # housekeeping: two starts may contend for it
            await self.journal.run(self._forget_long_gone)
        await self.beat()
        self._task = asyncio.create_task(self._renew(), name=f"heartbeat {self.instance_id}")

    async def stop(self) -> None:
        """Stop renewing and remove the row: the others stop seeing this instance at once."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(JournalError):  # the journal may be failing: the lease ends
            await self.journal.run(self._leave)

    async def beat(self) -> None:
        """Renew the row once: seen for another `lease` seconds."""
        await self.journal.run(self._beat)

    async def seen(self) -> list[InstanceSeen]:
        """The instances writing the journal now, this one included."""
        return await self.journal.run(alive(time.time()))

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(self.lease / 3)
            with contextlib.suppress(JournalError):  # the next beat may get through
                await self.beat()

    def _beat(self, tx: Tx) -> None:
        now = time.time()
        tx.conn.execute(
            "INSERT INTO instances (id, started_at, seen_at, lease_until) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at, "
            "lease_until = excluded.lease_until",
            (self.instance_id, self.started_at, now, now + self.lease),
        )

    def _leave(self, tx: Tx) -> None:
        tx.conn.execute("DELETE FROM instances WHERE id = ?", (self.instance_id,))

    @staticmethod
    def _forget_long_gone(tx: Tx) -> None:
        tx.conn.execute(
            "DELETE FROM instances WHERE lease_until < ?", (time.time() - FORGET_AFTER,)
        )
