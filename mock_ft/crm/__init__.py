"""The mock Fast Track server: REST ingest, control API, OpenAPI."""

from __future__ import annotations

from mock_ft.crm.app import create_app

__all__ = ["create_app"]
