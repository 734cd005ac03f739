"""One TLS context for all of a process's outgoing HTTP clients.

An `httpx` client built without one loads the CA bundle into a new SSL context: 20-30 ms of CPU
(measured 2026-12-07), paid by each of the mock's runners on every app start, by every
verification and replay, and by each client of the pytest plugin, mostly for plain-HTTP calls.
An `ssl.SSLContext` may be shared by any number of clients and threads, so the first client a
process builds makes it, with httpx's own defaults (certifi's bundle, or SSL_CERT_FILE /
SSL_CERT_DIR), and the others reuse it.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ssl

__all__ = ["client_tls"]


@functools.cache
def client_tls() -> ssl.SSLContext:
    """The process's TLS context for outgoing requests: pass it as an httpx client's `verify`."""
    import httpx  # here: `mock-ft --help` and the pytest plugin's import stay cheap

    return httpx.create_ssl_context()
