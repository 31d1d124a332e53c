"""Hour boundaries for interest (DESIGN §6) and the end of a cooling-off period (DESIGN §4)."""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import datetime, timedelta

from marginctl.domain.errors import InvalidInput

ONE_HOUR = timedelta(hours=1)
COOLING_OFF_PERIODS = ("1d", "1w", "1m")


def floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def ceil_hour(moment: datetime) -> datetime:
    """The hour end at or after `moment`: the end H of the hour (H − 1 h, H] that holds it."""
    floor = floor_hour(moment)
    return floor if floor == moment else floor + ONE_HOUR


def hours_after(start: datetime, until: datetime) -> Iterator[datetime]:
    """Every UTC hour boundary H with start < H ≤ until, in order, one at a time (2000 to 2099 holds 876,599)."""
    boundary = floor_hour(start)
    while until - boundary >= ONE_HOUR:  # never steps past `until`, so never past the calendar's end
        boundary += ONE_HOUR
        yield boundary


def cooling_off_end(period: str, now: datetime) -> datetime:
    """Until 23:59:59 UTC of today (1d), of day +7 (1w), or of the same day next month (1m)."""
    end_of_today = now.replace(hour=23, minute=59, second=59, microsecond=0)
    if period == "1d":
        return end_of_today
    if period == "1w":
        return end_of_today + timedelta(days=7)
    if period == "1m":
        year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
        day = min(now.day, calendar.monthrange(year, month)[1])
        return end_of_today.replace(year=year, month=month, day=day)
    raise InvalidInput(f"cooling-off period must be one of {', '.join(COOLING_OFF_PERIODS)}, got {period[:20]!r}")
