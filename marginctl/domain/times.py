"""UTC instants as typed and as stored: fixed width, so text order is time order."""

from __future__ import annotations

from datetime import UTC, datetime

from marginctl.domain.errors import InvalidTime


def parse_time(text: str) -> datetime:
    """ISO 8601; a time without an offset is taken as UTC (DESIGN §6: all times are UTC)."""

    candidate = text.strip()
    if candidate.endswith(("Z", "z")):
        candidate = candidate[:-1] + "+00:00"
    shown = text if len(text) <= 40 else text[:40] + "…"
    try:
        moment = datetime.fromisoformat(candidate)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except ValueError:
        raise InvalidTime(f"not an ISO 8601 time: {shown!r} (example: 2026-01-05T10:20:00Z)") from None
    except OverflowError:
        raise InvalidTime(f"time {shown!r} is outside the years 1 to 9999 in UTC") from None


def to_storage(moment: datetime) -> str:
    """Fixed-width UTC text with microseconds: sorts as time sorts."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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
