"""Valid FT events for tests: the contract's example of a type, with fields overridden."""

from __future__ import annotations

from typing import Any

from mock_ft.samples import ft_timestamp, sample_events

_SAMPLES = {route.event_type: (route.path, payload) for route, payload in sample_events()}


def ft_event(event_type: str, **fields: Any) -> tuple[str, dict[str, Any]]:
    """(REST path, payload) of a valid `event_type` event; `fields` replace the example's.

    Stamped at the time of this call, so the event is fresh when sent at once.
    """
    path, example = _SAMPLES[event_type]
    return path, {**example, "timestamp": ft_timestamp(), **fields}
