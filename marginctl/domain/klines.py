"""Binance kline CSV rows (data.binance.vision): 12 columns, no header; µs timestamps from 2025, ms before."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from marginctl.domain.errors import InvalidInput
from marginctl.domain.money import MAX_AMOUNT
from marginctl.domain.times import RANGE_TEXT, in_range

#: A timestamp above this is in microseconds (spot files from 2025-01-01 on), otherwise milliseconds.
MICROSECOND_THRESHOLD = 10**14
HEADER_FIRST_CELL = "open_time"
_FILE_NAME = re.compile(r"(?P<symbol>[A-Z0-9]+)-(?P<interval>\d+[smhdwM])-")


class Candle(NamedTuple):
    """One kline (a NamedTuple: a year of one-minute candles is half a million of them)."""

    open_time: datetime
    close_time: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal

    def price_path(self) -> list[Decimal]:
        """The order prices were most likely seen: open, the far extreme first, then close.

        A falling candle (close < open) went up to its high before its low; a rising one down first.
        """
        middle = [self.high, self.low] if self.close < self.open else [self.low, self.high]
        return [self.open, *middle, self.close]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def timestamp(value: str) -> datetime:
    number = int(value)
    if number < 0:
        raise ValueError("negative timestamp")
    return _EPOCH + timedelta(microseconds=number if number > MICROSECOND_THRESHOLD else number * 1000)


class Timestamps:
    """`timestamp` for a file's rows, which step by the same few intervals: each moment is the previous one
    plus a step whose timedelta is made once (integer microseconds: the same moments, half the work)."""

    def __init__(self) -> None:
        self.micros = 0
        self.moment = _EPOCH
        self.steps: dict[int, timedelta] = {}

    def __call__(self, value: str) -> datetime:
        number = int(value)
        if number < 0:
            raise ValueError("negative timestamp")
        micros = number if number > MICROSECOND_THRESHOLD else number * 1000
        step = micros - self.micros
        delta = self.steps.get(step)
        if delta is None:
            delta = timedelta(microseconds=step)
            if len(self.steps) < 16:
                self.steps[step] = delta
        self.moment = self.moment + delta
        self.micros = micros
        return self.moment


def parse_candle(cells: list[str], where: str, moment_of: Callable[[str], datetime] = timestamp) -> Candle:
    """One CSV row; `where` (file:line) goes into every error. `moment_of` reads a time cell (`Timestamps`)."""
    if len(cells) != 12:
        raise InvalidInput(f"{where}: a kline row has 12 columns, this one has {len(cells)}")
    try:
        # int() and Decimal() ignore surrounding whitespace as str.strip() would.
        open_time, close_time = moment_of(cells[0]), moment_of(cells[6])
        open_price, high, low, close = Decimal(cells[1]), Decimal(cells[2]), Decimal(cells[3]), Decimal(cells[4])
    except (ValueError, InvalidOperation, OverflowError):
        raise InvalidInput(f"{where}: malformed kline row (times must be integers, prices decimals)") from None
    try:
        # A well-formed row (all of a year of candles): 0 < low ≤ open, close ≤ high ≤ 10^15 implies every check
        # below; a NaN raises here and takes the checks one by one, which name what is wrong.
        well_formed = 0 < low <= open_price <= high <= MAX_AMOUNT and low <= close <= high
    except InvalidOperation:
        well_formed = False
    if not well_formed:
        _check_prices(open_price, high, low, close, where)
    if close_time < open_time:
        raise InvalidInput(f"{where}: close_time is before open_time")
    if not (in_range(open_time) and in_range(close_time)):
        raise InvalidInput(f"{where}: kline times must lie in {RANGE_TEXT}")
    return Candle(open_time, close_time, open_price, high, low, close)


def _check_prices(open_price: Decimal, high: Decimal, low: Decimal, close: Decimal, where: str) -> None:
    prices = (open_price, high, low, close)
    if any(not price.is_finite() or not 0 < price <= MAX_AMOUNT for price in prices):
        raise InvalidInput(f"{where}: prices must be positive numbers no larger than 10^15")
    if high < max(open_price, close, low) or low > min(open_price, close):
        raise InvalidInput(f"{where}: high/low do not contain open and close")


def symbol_of_file(name: str) -> tuple[str, str] | None:
    """(symbol, interval) from a Binance file name like BTCUSDT-1m-2025-01-01.zip, if it is one."""
    match = _FILE_NAME.match(name)
    return (match["symbol"], match["interval"]) if match else None
