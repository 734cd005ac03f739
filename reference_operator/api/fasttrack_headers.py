"""The `X-Fasttrack-*` headers on every call FT makes to the operator (lookups, credits, callbacks).

`X-Fasttrack-Id` is unique per trigger and user, so it is the key that makes a repeated call
harmless; the others identify the activity and action, and are echoed back in events.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

__all__ = ["fasttrack_id", "fasttrack_references"]

_REFERENCE_HEADERS = {  # X-Fasttrack-* header: (fasttrack_references key, is integer)
    "x-fasttrack-id": ("id", False),
    "x-fasttrack-actionid": ("action_id", True),
    "x-fasttrack-actiongroupid": ("action_group_id", True),
    "x-fasttrack-actioncommunicationprofileid": ("action_communication_profile_id", True),
    "x-fasttrack-activityid": ("activity_id", True),
    "x-fasttrack-triggerhash": ("trigger_hash", False),
    "x-fasttrack-playeroriginid": ("player_origin_id", True),
}


def fasttrack_id(request: Request) -> str | None:
    """The call's `X-Fasttrack-Id`, or None when FT sent none (or an empty one)."""
    return request.headers.get("x-fasttrack-id") or None


def fasttrack_references(request: Request) -> dict[str, Any]:
    """The X-Fasttrack-* headers FT sent, as the BONUS event's `fasttrack_references`."""
    out: dict[str, Any] = {}
    for header, (key, integer) in _REFERENCE_HEADERS.items():
        value = request.headers.get(header)
        if value is not None:
            out[key] = int(value) if integer and value.lstrip("-").isdigit() else value
    return out
