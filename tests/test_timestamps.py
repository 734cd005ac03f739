"""FT's lenient RFC 3339: exactly what FT's own validator tests accept and reject."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_ft.ingest.timestamps import parse_ft_timestamp


@pytest.mark.parametrize(
    "text",
    [
        "2015-03-02T8:27:58.721607Z",  # FT's own test: single-digit hour is valid
        "2015-03-02T08:27:58Z",
        "2015-03-02T08:27:58+01:00",
        "2015-03-02T08:27:58.1-06:30",
        "2026-11-21T23:59:59.123456789+06:00",
        "2024-02-29T00:00:00Z",
    ],
)
def test_accept_ft_valid_timestamps(text: str) -> None:
    """Timestamps FT accepts parse to an aware datetime."""
    parsed = parse_ft_timestamp(text)
    assert parsed is not None
    assert parsed.tzinfo is not None


@pytest.mark.parametrize(
    "text",
    [
        "20150302",  # FT's own test: compact form is invalid
        "2015-03",
        "2015-03-02",
        "2015-03-02 08:27:58Z",
        "2015-03-02T08:27:58",  # no zone
        "2015-03-02T108:27:58Z",
        "2015-13-02T08:27:58Z",
        "2023-02-29T08:27:58Z",
        "2015-03-02T24:00:00Z",
        "2015-03-02T08:60:00Z",
        "2015-03-02T08:27:60Z",
        "2015-03-02T08:27:58+24:00",
        "2015-03-02T08:27:58+01:60",
        "2018-02-18 18:13:06",  # FT's legacy casino example, superseded
        "",
    ],
)
def test_reject_ft_invalid_timestamps(text: str) -> None:
    """Timestamps FT rejects parse to None."""
    assert parse_ft_timestamp(text) is None


def test_parse_offset_timestamp_to_same_instant() -> None:
    """An offset is honoured: 08:00+01:00 is 07:00Z."""
    parsed = parse_ft_timestamp("2015-03-02T08:00:00+01:00")
    assert parsed == datetime(2015, 3, 2, 7, 0, tzinfo=UTC)


@given(
    st.datetimes(
        min_value=datetime(1000, 1, 1),
        max_value=datetime(9999, 12, 31),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))]),
    )
)
def test_parse_any_isoformat_round_trips(moment: datetime) -> None:
    """Any RFC 3339 rendering of an instant parses back to that instant."""
    text = moment.isoformat(timespec="microseconds").replace("+00:00", "Z")
    assert parse_ft_timestamp(text) == moment
