"""Default values the commands show in their help, importable without pydantic.

`mock-ft --help` shows some of these; importing them must not load the settings classes.
"""

from __future__ import annotations

__all__ = ["DEFAULT_API_KEY", "DEFAULT_URL", "LOOKUP_CONCURRENCY", "MIN_CONTROL_TOKEN"]

DEFAULT_API_KEY = "mock-ft-local-key"
DEFAULT_URL = "http://127.0.0.1:8765"  # where the commands find a running mock by default
MIN_CONTROL_TOKEN = 16  # characters of a control token for a bind beyond loopback
# Lookups in flight at once, as FT makes them while events arrive; `verify` drives each read
# endpoint with this many concurrent callers by default. Here, not in lookups/, so that the CLI
# can show it as a default without importing the lookup runner (and with it the journal).
LOOKUP_CONCURRENCY = 4
