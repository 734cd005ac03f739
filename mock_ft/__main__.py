"""`python -m mock_ft` is the `mock-ft` command."""

from __future__ import annotations

from mock_ft.cli import main

if __name__ == "__main__":
    main()
