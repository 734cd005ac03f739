"""RFC 3339 read as leniently as FT's Go validator reads it, and no more leniently."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache

__all__ = ["parse_ft_timestamp"]

# FT's own tests accept a one-digit hour (2015-03-02T8:27:58.721607Z) and offsets; they reject
# dates without time (2015-03), compact forms (20150302) and non-strings. All else fixed-width.
_RFC3339 = re.compile(
    r"(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})T(?P<h>\d{1,2}):(?P<mi>\d{2}):(?P<s>\d{2})"
    r"(?:\.(?P<frac>\d{1,9}))?(?P<tz>Z|[+-]\d{2}:\d{2})"
)


@lru_cache(maxsize=256)  # validation and latency both parse each event's timestamp
def parse_ft_timestamp(value: str) -> datetime | None:
    """Return the aware datetime FT would read from `value`, or None if FT would reject it."""
    match = _RFC3339.fullmatch(value)
    if match is None:
        return None
    tz_text = match["tz"]
    if tz_text == "Z":
        tz = UTC
    else:
        hours, minutes = int(tz_text[1:3]), int(tz_text[4:6])
        if hours > 23 or minutes > 59:
            return None
        sign = -1 if tz_text[0] == "-" else 1
        tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
    micros = int((match["frac"] or "0")[:6].ljust(6, "0"))
    try:
        return datetime(
            int(match["y"]),
            int(match["mo"]),
            int(match["d"]),
            int(match["h"]),
            int(match["mi"]),
            int(match["s"]),
            micros,
            tzinfo=tz,
        )
    except ValueError:  # month 13, February 30th, hour 24, second 60, ...
        return None
