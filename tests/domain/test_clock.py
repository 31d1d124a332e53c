"""Hour boundaries (DESIGN §6): streamed one at a time, and safe up to the calendar's last hour."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime

from marginctl.domain.clock import hours_after


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_hours_after_gives_every_boundary_after_start_up_to_until() -> None:
    # after 10:30 and up to 13:00 (inclusive): 11:00, 12:00, 13:00
    assert list(hours_after(at("2026-01-05T10:30"), at("2026-01-05T13:00"))) == [
        at("2026-01-05T11:00"),
        at("2026-01-05T12:00"),
        at("2026-01-05T13:00"),
    ]
    # a start on a boundary is not itself included; an until before the next boundary gives nothing
    assert list(hours_after(at("2026-01-05T10:00"), at("2026-01-05T10:59:59"))) == []


def test_hours_after_streams_a_century_without_building_it() -> None:
    hours = hours_after(at("2000-01-01T00:00"), at("2099-12-31T23:59:59.999999"))
    assert isinstance(hours, Iterator)
    assert list(itertools.islice(hours, 3)) == [at("2000-01-01T01:00"), at("2000-01-01T02:00"), at("2000-01-01T03:00")]
    # 2000-01-01T01:00 … 2099-12-31T23:00: 36,525 days × 24 − 1 = 876,599 boundaries, 3 of them taken above
    assert sum(1 for _ in hours) == 876_599 - 3


def test_hours_after_stops_at_the_calendars_last_hour_without_overflowing() -> None:
    # 9999-12-31T23:00 is the last boundary a datetime can hold; one hour more would overflow
    assert list(hours_after(at("9999-12-31T21:30"), datetime.max.replace(tzinfo=UTC))) == [
        at("9999-12-31T22:00"),
        at("9999-12-31T23:00"),
    ]
