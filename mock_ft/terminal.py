"""The consoles every command writes to, and how every user mistake ends: `fail`."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import NoReturn, ParamSpec

from rich.console import Console
from rich.markup import escape

from mock_ft.errors import MockFTError

__all__ = ["err", "fail", "friendly", "out"]

P = ParamSpec("P")

err = Console(stderr=True, highlight=False, soft_wrap=True)  # no hard breaks in logs
# Wide enough for tables when output is piped (make, CI logs).
out = Console(highlight=False, width=None if sys.stdout.isatty() else 120)


def fail(exc: MockFTError) -> NoReturn:
    """One red headline, one explanation, exit 2: how every user mistake ends."""
    # Escaped: plain text, or Rich eats `[verify]` in "pip install 'mock-ft[verify]'".
    err.print(f"[bold red]{escape(exc.headline)}[/]")
    err.print(exc.message, markup=False)
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
