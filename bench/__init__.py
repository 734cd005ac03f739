"""REST ingest benchmark of the mock against a bare ASGI baseline (`make bench`)."""

from __future__ import annotations
