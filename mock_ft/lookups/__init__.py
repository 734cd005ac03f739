"""FT-style lookups: after user events the mock calls the operator's Operator API, as FT does."""

from __future__ import annotations

from mock_ft.lookups.auth import OperatorAuth
from mock_ft.lookups.runner import ENDPOINTS, LOOKUPS_AFTER, LookupRunner

__all__ = ["ENDPOINTS", "LOOKUPS_AFTER", "LookupRunner", "OperatorAuth"]
