"""The durable journal of every ingest attempt (SQLite, or PostgreSQL: `postgresql://...`)."""

from __future__ import annotations

from mock_ft.journal.models import EventFilter, JournalEntry, NewEntry
from mock_ft.journal.store import Journal

__all__ = ["EventFilter", "Journal", "JournalEntry", "NewEntry"]
