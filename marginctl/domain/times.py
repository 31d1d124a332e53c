"""UTC instants as typed and as stored: fixed width, so text order is time order."""

from __future__ import annotations

from datetime import UTC, datetime

from marginctl.domain.errors import InvalidTime

#: Every time a user types lies in this range (README "Times"): an interest catch-up across the whole of
#: it stays bounded, and no hour arithmetic near the calendar's end (year 9999) can overflow.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2099, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
RANGE_TEXT = "2000-01-01T00:00:00Z to 2099-12-31T23:59:59.999999Z"


def parse_time(text: str) -> datetime:
    """ISO 8601 within EARLIEST…LATEST; a time without an offset is taken as UTC (DESIGN §6: all times are UTC)."""

    candidate = text.strip()
    if candidate.endswith(("Z", "z")):
        candidate = candidate[:-1] + "+00:00"
    shown = text if len(text) <= 40 else text[:40] + "…"
    try:
        typed = datetime.fromisoformat(candidate)
    except ValueError:
        raise InvalidTime(f"not an ISO 8601 time: {shown!r} (example: 2026-01-05T10:20:00Z)") from None
    moment: datetime | None
    try:
        moment = (typed if typed.tzinfo is not None else typed.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError:  # its offset moves it before year 1 or past 9999
        moment = None
    if moment is None or not in_range(moment):
        raise InvalidTime(f"time {shown!r} is outside the accepted range {RANGE_TEXT}")
    return moment


def in_range(moment: datetime) -> bool:
    return EARLIEST <= moment <= LATEST


def to_storage(moment: datetime) -> str:
    """Fixed-width UTC text with microseconds ("2026-01-05T10:20:00.000000Z"): sorts as time sorts."""
    # isoformat is several times faster than strftime, and a catch-up stores one of these per loan and hour.
    return moment.astimezone(UTC).isoformat(timespec="microseconds")[:26] + "Z"


def from_storage(text: str) -> datetime:
    return datetime.fromisoformat(text)


def display_stored(stored: str | None) -> str | None:
    """A stored time as JSON shows it; None stays None."""
    return to_display(from_storage(stored)) if stored else None


def to_display(moment: datetime) -> str:
    """ISO 8601 UTC as the JSON contract shows it: "2026-11-24T10:00:00Z"."""
    moment = moment.astimezone(UTC)
    if moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
