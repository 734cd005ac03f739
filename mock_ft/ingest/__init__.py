"""The one ingest pipeline every transport feeds: validate, stream-check, journal."""

from __future__ import annotations
