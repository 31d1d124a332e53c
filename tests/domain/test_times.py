"""Times as typed (--now, --at) and as stored (DESIGN §6: all times are UTC)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from marginctl.domain.errors import InvalidTime
from marginctl.domain.times import from_storage, parse_time, to_display, to_storage

TEN_TWENTY = datetime(2026, 1, 5, 10, 20, tzinfo=UTC)


def test_parse_time_reads_a_z_suffixed_instant() -> None:
    assert parse_time("2026-01-05T10:20:00Z") == TEN_TWENTY


def test_parse_time_takes_a_time_without_offset_as_utc() -> None:
    moment = parse_time("2026-01-05T10:20:00")
    assert moment == TEN_TWENTY
    assert moment.utcoffset() == timedelta(0)


def test_parse_time_converts_an_offset_to_utc() -> None:
    # 12:20 at +02:00 is 10:20 UTC.
    moment = parse_time("2026-01-05T12:20:00+02:00")
    assert moment == TEN_TWENTY
    assert moment.utcoffset() == timedelta(0)
    assert (moment.hour, moment.minute) == (10, 20)


def test_parse_time_converts_a_negative_offset_across_midnight() -> None:
    # 23:30 on the 4th at −05:00 is 04:30 UTC on the 5th.
    assert parse_time("2026-01-04T23:30:00-05:00") == datetime(2026, 1, 5, 4, 30, tzinfo=UTC)


@pytest.mark.parametrize("text", ["yesterday", "", "2026-13-01T00:00:00Z", "2026-01-05T25:00:00Z", "10:20"])
def test_parse_time_refuses_garbage(text: str) -> None:
    with pytest.raises(InvalidTime) as refused:
        parse_time(text)
    assert refused.value.code == "invalid_time"


def test_storage_text_sorts_as_time_sorts() -> None:
    moments = [
        parse_time("2026-01-05T10:20:00Z"),
        parse_time("2026-01-05T10:20:00.5Z"),  # half a second later
        parse_time("2026-01-05T09:59:59.999999Z"),
        parse_time("2026-01-05T11:00:00+02:00"),  # 09:00 UTC: earlier, though "11" sorts after "10"
        parse_time("2025-12-31T23:59:59Z"),
        parse_time("2026-11-24T10:00:00Z"),
    ]
    texts = [to_storage(moment) for moment in moments]
    assert sorted(texts) == [to_storage(moment) for moment in sorted(moments)]
    # Fixed width: "2026-01-05T10:20:00.000000Z" is 27 characters.
    assert {len(text) for text in texts} == {27}


def test_storage_text_round_trips_to_the_microsecond() -> None:
    moment = datetime(2026, 1, 5, 10, 20, 0, 123456, tzinfo=UTC)
    assert to_storage(moment) == "2026-01-05T10:20:00.123456Z"
    assert from_storage(to_storage(moment)) == moment


def test_display_text_is_iso_utc_with_z() -> None:
    assert to_display(parse_time("2026-11-24T12:00:00+02:00")) == "2026-11-24T10:00:00Z"


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2000-01-01T00:00:00Z", datetime(2000, 1, 1, tzinfo=UTC)),
        ("2099-12-31T23:59:59.999999Z", datetime(2099, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
        ("2100-01-01T00:30:00+01:00", datetime(2099, 12, 31, 23, 30, tzinfo=UTC)),  # 00:30 at +01:00
        ("1999-12-31T19:00:00-05:00", datetime(2000, 1, 1, tzinfo=UTC)),  # 19:00 at −05:00
    ],
)
def test_parse_time_accepts_the_range_2000_to_2099_in_utc(text: str, utc: datetime) -> None:
    assert parse_time(text) == utc


@pytest.mark.parametrize(
    "text",
    [
        "1999-12-31T23:59:59.999999Z",
        "2100-01-01T00:00:00Z",
        "2000-01-01T00:30:00+01:00",  # 1999-12-31T23:30 UTC
        "9999-12-31T23:59:59Z",
        "9999-12-31T23:59:59-01:00",  # past year 9999 in UTC
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
    ],
)
def test_parse_time_refuses_a_time_outside_the_range_naming_it(text: str) -> None:
    with pytest.raises(InvalidTime) as refused:
        parse_time(text)
    assert refused.value.code == "invalid_time"
    assert "2000-01-01T00:00:00Z to 2099-12-31T23:59:59.999999Z" in refused.value.message
