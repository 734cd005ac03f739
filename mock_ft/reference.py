"""Where the reference operator and the scenario library live, installed or in a checkout.

The repository keeps them as top-level folders (`reference_operator/`, `scenarios/`); the wheel
packs them inside mock_ft (`mock_ft.reference_operator`, `mock_ft/_scenarios`), so installing
mock-ft puts no generic `reference_operator` package in site-packages where it could collide.
"""

from __future__ import annotations

import importlib
from functools import cache
from importlib.util import find_spec
from pathlib import Path

from mock_ft.extras import require

__all__ = ["library_dir", "main", "operator_module"]

_CHECKOUT = Path(__file__).resolve().parent.parent


@cache
def operator_module() -> str:
    """The import name of the reference operator: `python -m <it> serve` starts one."""
    return (
        "mock_ft.reference_operator"
        if find_spec("mock_ft.reference_operator")
        else ("reference_operator")
    )


def library_dir() -> Path:
    """The scenario library: bundled in the wheel, or the repository's own in a checkout."""
    bundled = Path(__file__).resolve().parent / "_scenarios"
    return bundled if bundled.is_dir() else _CHECKOUT / "scenarios"


def main() -> None:
    """The `reference-operator` command."""
    from mock_ft.errors import MissingExtra
    from mock_ft.terminal import fail

    try:
        require("scenarios", needed_by="reference-operator")
    except MissingExtra as exc:
        fail(exc)
    importlib.import_module(f"{operator_module()}.cli").main()
