"""Public names that load on first use (PEP 562), for the packages whose imports must stay cheap.

pytest imports `mock_ft.pytest_plugin` in every run of an operator's suite and `mock-ft --help`
should not pay for FastAPI, pydantic or Faker, so `mock_ft`, `mock_ft.settings` and
`mock_ft.scenarios` name their API here and import each part only when it is first read.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(
    package: str, where: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A package's `__getattr__` and `__dir__` for `where`: public name -> module defining it."""

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            msg = f"module {package!r} has no attribute {name!r}"
            raise AttributeError(msg)
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)  # looked up once
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *where})

    return __getattr__, __dir__
