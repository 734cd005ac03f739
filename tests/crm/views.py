"""Reading the mock's views back in tests: the live stream's first message."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.waiting import HANG_GUARD


def stream_first(client: httpx.Client, event_id: int) -> list[dict[str, Any]]:
    """The first `events` message of the live stream from just before `event_id`."""
    params = {"after_id": event_id - 1}
    with client.stream("GET", "/_mock/stream", params=params, timeout=HANG_GUARD) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("data: "):
                data: list[dict[str, Any]] = json.loads(line.removeprefix("data: "))
                return data
    raise AssertionError("the stream ended without an events message")
