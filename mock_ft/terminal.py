"""The consoles every command writes to, and how every user mistake ends: `fail`."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import NoReturn, ParamSpec

from rich.console import Console

from mock_ft.errors import MockFTError

__all__ = ["counts_line", "err", "fail", "friendly", "human_ms", "human_seconds", "out"]

P = ParamSpec("P")

err = Console(stderr=True, highlight=False, soft_wrap=True)  # no hard breaks in logs
# Wide enough for tables when output is piped (make, CI logs).
out = Console(highlight=False, width=None if sys.stdout.isatty() else 120)


def fail(exc: MockFTError) -> NoReturn:
    """One red headline, one explanation, exit 2: how every user mistake ends."""
    err.print(f"[bold red]{exc.headline}[/]")
    err.print(exc.message)
    raise SystemExit(2)


def friendly(command: Callable[P, None]) -> Callable[P, None]:
    """Turn a MockFTError raised by a command into `fail` (works under CliRunner too)."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            command(*args, **kwargs)
        except MockFTError as exc:
            fail(exc)

    return wrapper


def human_ms(ms: float | None) -> str:
    """A duration for people: 0.4 ms, 12 ms, 3.8 s, 2 min 5 s ("-" when there is none)."""
    if ms is None:
        return "-"
    if ms < 10:
        return f"{ms:.1f} ms"
    if ms < 1000:
        return f"{ms:.0f} ms"
    return human_seconds(ms / 1000)


def human_seconds(seconds: float) -> str:
    """Seconds for people: 8.1 s, 2 min 5 s (under a second, in ms)."""
    if seconds < 1:
        return human_ms(seconds * 1000)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"


def counts_line(failed: int, passed: int, skipped: int, seconds: float) -> str:
    """The one-line outcome, as pytest prints it: `2 failed, 70 passed, 3 skipped in 8.1 s`."""
    parts = [f"{n} {word}" for n, word in ((failed, "failed"), (passed, "passed")) if n]
    parts += [f"{skipped} skipped"] if skipped else []
    return f"{', '.join(parts) or 'nothing ran'} in {human_seconds(seconds)}"
