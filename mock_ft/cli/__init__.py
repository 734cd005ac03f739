"""The `mock-ft` command: one module per command or command group, assembled in `app`.

Exit codes: 0 success, 1 a check failed, 2 usage/config/input error. Each command module imports
only Typer and its own annotations at the top; what a command needs (the server, verify,
Schemathesis, the scenario runner) it imports when it runs, so `mock-ft --help` and
`mock-ft serve` load neither the others' code nor the heavy extras (tests/test_architecture.py).
"""

from __future__ import annotations

from mock_ft.cli.app import app, main

__all__ = ["app", "main"]
