"""FT's event shapes, built from the platform's own records (facts file, section 2.5).

Each builder returns an `FtEvent`: the FT event type, its REST method and path, and the exact JSON
body. The platform never sends a field FT does not know under a name it does not use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["FT_ROUTES", "FtEvent", "build", "ft_timestamp"]

# FT's REST route of every event the platform publishes (facts file, table 2.4).
FT_ROUTES: dict[str, tuple[str, str]] = {
    "USER_CREATE_V2": ("POST", "/v2/integration/user"),
    "USER_UPDATE_V2": ("PUT", "/v2/integration/user"),
    "LOGIN_V2": ("POST", "/v2/integration/login"),
    "USER_CONSENTS_V2": ("PUT", "/v2/integration/user/consents"),
    "USER_BLOCK_V2": ("PUT", "/v2/integration/user/blocks"),
    "PAYMENT": ("POST", "/v1/integration/payment"),
    "CASINO": ("POST", "/v1/integration/casino"),
    "SPORTSBOOK": ("POST", "/v1/integration/sports"),
    "BONUS": ("POST", "/v1/integration/bonus"),
    "USER_BALANCES_UPDATE": ("POST", "/v1/integration/user/balances"),
    "CUSTOM": ("POST", "/v1/integration/custom"),
}


@dataclass(slots=True, frozen=True)
class FtEvent:
    """One event to publish to FT."""

    event_type: str
    user_id: str
    payload: dict[str, Any]

    @property
    def method(self) -> str:
        """HTTP method of the event's REST route."""
        return FT_ROUTES[self.event_type][0]

    @property
    def path(self) -> str:
        """Path of the event's REST route."""
        return FT_ROUTES[self.event_type][1]


def ft_timestamp(moment: datetime | None = None) -> str:
    """RFC 3339 in UTC with milliseconds, as FT expects (`2026-11-21T10:15:30.123Z`)."""
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def build(event_type: str, user_id: str, origin: str, **fields: Any) -> FtEvent:
    """An event of `event_type` with the common fields (user_id, timestamp, origin) filled in."""
    if event_type not in FT_ROUTES:
        msg = f"the platform does not publish {event_type!r}"
        raise ValueError(msg)
    payload: dict[str, Any] = {"user_id": user_id, "timestamp": ft_timestamp(), "origin": origin}
    payload.update(fields)
    return FtEvent(event_type, user_id, payload)
