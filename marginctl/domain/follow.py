"""`price follow`'s rules: its options, reading a Binance ticker answer, the back-off and the jump rule.

Pure: the answer comes in as bytes, the clock and the sleeping stay in the service.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from urllib.parse import urlencode, urlsplit

from marginctl.domain.errors import InvalidInput
from marginctl.domain.money import MAX_AMOUNT, MONEY_CONTEXT, PLAIN_DECIMAL, div, mul
from marginctl.domain.names import echoed
from marginctl.domain.prices import price_places

#: Binance's public REST API, the default source.
DEFAULT_SOURCE = "https://api.binance.com"
TICKER_PATH = "/api/v3/ticker/price"
DEFAULT_EVERY = "2"
DEFAULT_TIMEOUT = "5"
DEFAULT_MAX_JUMP = "20"
#: Bounds of --every and --timeout, in seconds.
EVERY_RANGE = (Decimal("0.1"), Decimal(3600))
TIMEOUT_RANGE = (Decimal("0.1"), Decimal(60))
#: Bounds of --max-jump, in percent: above 0, and up to a tenfold rise.
MAX_JUMP_RANGE = (Decimal("0.01"), Decimal(1000))
#: The back-off grows to this many seconds at most (or to --every, if that is longer).
BACKOFF_CAP = Decimal(60)
#: Binance's bans (418) last from 2 minutes to 3 days; a longer Retry-After is taken as 3 days.
RETRY_AFTER_CAP = Decimal(3 * 24 * 3600)
#: An answer longer than this is not a ticker answer.
MAX_ANSWER_BYTES = 1 << 20
_SECONDS = r"(?:0|[1-9][0-9]{0,5})(?:\.[0-9]{1,3})?"


class MalformedAnswer(ValueError):
    """A ticker answer that is not JSON, or lacks a valid price for a pair asked for: nothing of it is used."""


def parse_source(text: str) -> str:
    """A base URL, http or https, with no user name or password, query or fragment; returned without a
    trailing slash. The URL is never echoed when it holds a user part (it may be a password)."""
    try:
        parts = urlsplit(text.strip())
        parts.port  # noqa: B018  (a port that is not a number, or above 65535, raises here)
    except ValueError:
        raise InvalidInput(f"--source {_shown(text)} is not a valid URL") from None
    if "@" in parts.netloc:
        raise InvalidInput(
            "--source must not hold a user name or password: the ticker is public and marginctl sends no credentials"
        )
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"--source must be an http:// or https:// URL, got {_shown(text)!r}")
    if parts.query or parts.fragment or "?" in text or "#" in text:
        raise InvalidInput(f"--source takes a base URL without ?query or #fragment, got {_shown(text)!r}")
    return f"{parts.scheme.lower()}://{parts.netloc}{parts.path.rstrip('/')}"


def _shown(text: str) -> str:
    return "(hidden: it has a user part)" if "@" in text else echoed(text)


def parse_seconds(text: str, option: str, bounds: tuple[Decimal, Decimal]) -> Decimal:
    """A number of seconds like 2 or 0.5 (at most 3 decimal places), within `bounds`."""
    low, high = bounds
    if not re.fullmatch(_SECONDS, text) or not low <= Decimal(text) <= high:
        raise InvalidInput(f"{option} must be a number of seconds from {low} to {high}, got {echoed(text, 20)!r}")
    return Decimal(text)


def parse_max_jump(text: str) -> Decimal:
    """--max-jump PERCENT (20 means 20 %), as a fraction (0.2)."""
    low, high = MAX_JUMP_RANGE
    if not re.fullmatch(r"(?:0|[1-9][0-9]{0,3})(?:\.[0-9]{1,2})?", text) or not low <= Decimal(text) <= high:
        raise InvalidInput(f"--max-jump must be a percentage from {low} to {high}, got {echoed(text, 20)!r}")
    return div(Decimal(text), Decimal(100))


def symbol_of(pair: str) -> str:
    """Binance's symbol of a pair: BTC/USDT → BTCUSDT."""
    return pair.replace("/", "")


def ticker_url(source: str, pairs: list[str]) -> str:
    """One request for every pair: `symbol=` for one, `symbols=["A","B"]` (a JSON array) for several."""
    symbols = [symbol_of(pair) for pair in pairs]
    if len(symbols) == 1:
        query = urlencode({"symbol": symbols[0]})
    else:
        query = urlencode({"symbols": json.dumps(symbols, separators=(",", ":"))})
    return f"{source}{TICKER_PATH}?{query}"


def parse_ticker(body: bytes, ticks: Mapping[str, Decimal]) -> dict[str, tuple[Decimal, Decimal]]:
    """Each pair of `ticks` (pair → tick size) with (price on its tick, price as the answer gave it).

    The answer is Binance's: one `{"symbol", "price"}` object, or a list of them; prices are strings.
    Anything else, a pair missing, listed twice or without a positive plain price, makes the whole answer
    malformed (MalformedAnswer), so nothing of it is recorded.
    """
    try:
        document = json.loads(body, parse_float=Decimal, parse_int=Decimal, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise MalformedAnswer("the answer is not JSON") from None
    items = document if isinstance(document, list) else [document]
    by_symbol = {symbol_of(pair): pair for pair in ticks}
    found: dict[str, tuple[Decimal, Decimal]] = {}
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("symbol"), str):
            raise MalformedAnswer("the answer is not a list of {symbol, price} objects")
        pair = by_symbol.get(item["symbol"])
        if pair is None:
            continue  # a pair not asked for
        if pair in found:
            raise MalformedAnswer(f"{item['symbol']} is listed twice")
        price = _price(item)
        found[pair] = (on_tick(price, ticks[pair], item["symbol"]), price)
    missing = [symbol_of(pair) for pair in ticks if pair not in found]
    if missing:
        raise MalformedAnswer(f"no price for {', '.join(missing)}")
    return found


def _no_constant(name: str) -> None:
    raise ValueError(name)


def _price(item: dict[str, object]) -> Decimal:
    text = item.get("price")
    symbol = echoed(str(item["symbol"]), 20)
    if not isinstance(text, str) or not re.fullmatch(PLAIN_DECIMAL, text):
        raise MalformedAnswer(f"{symbol}'s price is not a plain decimal string")
    price = Decimal(text)
    if not 0 < price <= MAX_AMOUNT:
        raise MalformedAnswer(f"{symbol}'s price {echoed(text, 30)} is not between 0 and 10^15")
    return price


def on_tick(price: Decimal, tick: Decimal, symbol: str) -> Decimal:
    """The nearest price on the pair's tick, a half tick to the even one: the closest price the pair's rules
    allow, with no lean up or down (always down or always up would move every stop's trigger one way).
    Binance's answers carry 8 places ("60000.01000000"), which this leaves unchanged on a 0.01 tick."""
    ticks = div(price, tick).quantize(Decimal(1), rounding=ROUND_HALF_EVEN, context=MONEY_CONTEXT)
    rounded = mul(ticks, tick).quantize(Decimal(1).scaleb(-price_places(tick)), context=MONEY_CONTEXT)
    if rounded <= 0:
        raise MalformedAnswer(f"{echoed(symbol, 20)}'s price {price:f} is less than half a tick ({tick:f})")
    return rounded


def backoff_delay(every: Decimal, failures: int, retry_after: Decimal | None = None) -> Decimal:
    """The wait after `failures` polls in a row went wrong: every × 2^failures, capped at 60 s (or at
    --every when that is longer); never shorter than a Retry-After the server sent (capped at 3 days)."""
    cap = max(BACKOFF_CAP, every)
    doubling = Decimal(2) ** min(failures, 32)
    delay = min(every * doubling, cap)
    if retry_after is not None:
        delay = max(delay, min(retry_after, RETRY_AFTER_CAP))
    return delay


def parse_retry_after(value: str | None) -> Decimal | None:
    """Retry-After in seconds, as Binance sends it; an HTTP date or anything else is ignored (None)."""
    if value is None or not re.fullmatch(r"[0-9]{1,12}", value.strip()):
        return None
    return Decimal(value.strip())


RECORD = "record"
CONFIRMED = "confirmed"
HOLD = "hold"
UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Verdict:
    """What to do with a pair's new price: `action` is RECORD, CONFIRMED (record; it confirms the jump
    held before), HOLD or UNCHANGED; `held` is the price held after this answer; `dropped` a held price
    that this answer did not confirm."""

    action: str
    held: Decimal | None = None
    dropped: Decimal | None = None

    @property
    def records(self) -> bool:
        return self.action in (RECORD, CONFIRMED)


def jump(old: Decimal, new: Decimal) -> Decimal:
    """|new − old| / old: 0.5 for 60000 → 30000 or → 90000."""
    return div(abs(new - old), old)


def judge(last: Decimal | None, held: Decimal | None, price: Decimal, max_jump: Decimal) -> Verdict:
    """The jump rule: one bad tick must not liquidate a wallet.

    A price within `max_jump` of the wallet's last price is recorded (an equal one records nothing). One
    further away is held, not recorded. The next answer confirms it when its price is within `max_jump` of
    the held one (the market did move: that newer price is recorded); otherwise the held price is dropped,
    and a price far from both is held in its place. A pair with no last price records its first one.
    """
    if last is None:
        return Verdict(RECORD)
    if price == last:
        return Verdict(UNCHANGED, dropped=held)
    if jump(last, price) <= max_jump:
        return Verdict(RECORD, dropped=held)
    if held is not None and jump(held, price) <= max_jump:
        return Verdict(CONFIRMED)
    return Verdict(HOLD, held=price, dropped=held)
