"""A small operator platform that integrates with Fast Track the right way (and can be broken).

It talks to FT (or mock-ft) only over the wire. Public API: `create_app`, `OperatorSettings`.
"""

from __future__ import annotations

from .app import create_app
from .settings import OperatorSettings

__all__ = ["OperatorSettings", "create_app"]
