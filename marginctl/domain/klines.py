"""Binance kline CSV rows (data.binance.vision): 12 columns, no header; µs timestamps from 2025, ms before."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from marginctl.domain.errors import InvalidInput
from marginctl.domain.money import MAX_AMOUNT
from marginctl.domain.times import RANGE_TEXT, in_range

#: A timestamp above this is in microseconds (spot files from 2025-01-01 on), otherwise milliseconds.
MICROSECOND_THRESHOLD = 10**14
HEADER_FIRST_CELL = "open_time"
_FILE_NAME = re.compile(r"(?P<symbol>[A-Z0-9]+)-(?P<interval>\d+[smhdwM])-")


@dataclass(frozen=True)
class Candle:
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


def timestamp(value: str) -> datetime:
    number = int(value)
    if number < 0:
        raise ValueError("negative timestamp")
    if number > MICROSECOND_THRESHOLD:
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=number)
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=number)


def parse_candle(cells: list[str], where: str) -> Candle:
    """One CSV row; `where` (file:line) goes into every error."""
    if len(cells) != 12:
        raise InvalidInput(f"{where}: a kline row has 12 columns, this one has {len(cells)}")
    try:
        open_time, close_time = timestamp(cells[0].strip()), timestamp(cells[6].strip())
        prices = [Decimal(cell.strip()) for cell in cells[1:5]]
    except (ValueError, InvalidOperation, OverflowError):
        raise InvalidInput(f"{where}: malformed kline row (times must be integers, prices decimals)") from None
    open_price, high, low, close = prices
    if any(not price.is_finite() or not 0 < price <= MAX_AMOUNT for price in prices):
        raise InvalidInput(f"{where}: prices must be positive numbers no larger than 10^15")
    if high < max(open_price, close, low) or low > min(open_price, close):
        raise InvalidInput(f"{where}: high/low do not contain open and close")
    if close_time < open_time:
        raise InvalidInput(f"{where}: close_time is before open_time")
    if not (in_range(open_time) and in_range(close_time)):
        raise InvalidInput(f"{where}: kline times must lie in {RANGE_TEXT}")
    return Candle(open_time, close_time, open_price, high, low, close)


def symbol_of_file(name: str) -> tuple[str, str] | None:
    """(symbol, interval) from a Binance file name like BTCUSDT-1m-2025-01-01.zip, if it is one."""
    match = _FILE_NAME.match(name)
    return (match["symbol"], match["interval"]) if match else None
