"""Notice other load on this small machine: CPU used by processes that are not the benchmark's.

On 2 cores one stray test run halves a figure. Every measured run is bracketed by CPU counters:
machine-wide busy time minus the time of the servers, the load generators and this process is what
something else took; the hypervisor's steal time is recorded too. Disturbed runs are redone.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import psutil
from rich.console import Console

__all__ = ["MAX_ATTEMPTS", "THRESHOLD_CORES", "Load", "Meter"]

T = TypeVar("T")
THRESHOLD_CORES = 0.2  # more foreign + stolen CPU than this during a run marks it disturbed
MAX_ATTEMPTS = 3
_QUIET_WAIT_SECONDS = 120.0


@dataclass(slots=True, frozen=True)
class _Snapshot:
    wall: float
    busy: float
    steal: float
    own: float


@dataclass(slots=True, frozen=True)
class Load:
    """CPU taken by others during a window, in cores (1.0 = one core fully busy)."""

    foreign_cores: float
    steal_cores: float

    @property
    def disturbed(self) -> bool:
        """True when something outside the benchmark (or the hypervisor) took noticeable CPU."""
        return self.foreign_cores + self.steal_cores > THRESHOLD_CORES


class Meter:
    """Measures foreign CPU load around a run; `pids()` lists the server processes to discount."""

    def __init__(
        self, pids: Callable[[], list[int]], console: Console, *, patient: bool = True
    ) -> None:
        self.pids = pids
        self.console = console
        self.patient = patient  # False: measure at once, once (the load is still recorded)

    def _own(self) -> float:
        mine = os.times()  # this process and every child it has waited for (wrk, hey)
        total = mine.user + mine.system + mine.children_user + mine.children_system
        for pid in self.pids():
            try:
                process = psutil.Process(pid)
                for proc in [process, *process.children(recursive=True)]:
                    times = proc.cpu_times()
                    total += times.user + times.system
            except psutil.NoSuchProcess:
                continue
        return total

    def snapshot(self) -> _Snapshot:
        """Counters now."""
        cpu = psutil.cpu_times()
        busy = cpu.user + cpu.nice + cpu.system
        return _Snapshot(time.monotonic(), busy, cpu.steal, self._own())

    def since(self, before: _Snapshot) -> Load:
        """Foreign and stolen CPU since `before`, averaged over the window."""
        after = self.snapshot()
        wall = max(after.wall - before.wall, 1e-6)
        foreign = (after.busy - before.busy) - (after.own - before.own)
        return Load(
            round(max(foreign, 0.0) / wall, 3), round((after.steal - before.steal) / wall, 3)
        )

    def wait_quiet(self) -> Load:
        """Wait (up to 2 minutes) for a one-second window without foreign load."""
        deadline = time.monotonic() + (_QUIET_WAIT_SECONDS if self.patient else 0.0)
        said = False
        while True:
            before = self.snapshot()
            time.sleep(1.0)
            load = self.since(before)
            if not load.disturbed or time.monotonic() > deadline:
                return load
            if not said:
                self.console.print(
                    f"  [yellow]other processes use {load.foreign_cores:.2f} cores (steal "
                    f"{load.steal_cores:.2f}); waiting for a quiet machine[/]"
                )
                said = True

    def measure(self, label: str, run: Callable[[], T]) -> tuple[T, Load]:
        """Run `run()`; redo it (up to 3 tries in all) while other processes disturb it."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            self.wait_quiet()
            before = self.snapshot()
            result = run()
            load = self.since(before)
            if not load.disturbed or attempt == MAX_ATTEMPTS or not self.patient:
                return result, load
            self.console.print(
                f"  [yellow]{label}: other processes used {load.foreign_cores:.2f} cores (steal "
                f"{load.steal_cores:.2f}); redoing ({attempt}/{MAX_ATTEMPTS - 1})[/]"
            )
        raise AssertionError("unreachable")  # pragma: no cover
