"""`python -m reference_operator` is the `reference-operator` command."""

from __future__ import annotations

from .cli import main

if __name__ == "__main__":
    main()
