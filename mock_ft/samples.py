"""Sample events built from the contract's examples, stamped with the current time."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from mock_ft.contracts import EventRoute, integration_contract

__all__ = ["ft_timestamp", "sample_events"]


def ft_timestamp(moment: datetime | None = None) -> str:
    """An RFC 3339 UTC timestamp with microseconds, as FT's docs show them."""
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def sample_events(moment: datetime | None = None) -> list[tuple[EventRoute, dict[str, Any]]]:
    """One valid event of every type (registration first), timestamps set to `moment` or now."""
    stamp = ft_timestamp(moment)
    samples = []
    for route in integration_contract().routes:
        payload = copy.deepcopy(route.example)
        if "timestamp" in payload:
            payload["timestamp"] = stamp
        samples.append((route, payload))
    samples.sort(key=lambda pair: pair[0].event_type != "USER_CREATE_V2")
    return samples
