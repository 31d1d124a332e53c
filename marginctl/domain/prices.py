"""From the last price of each pair to a price of each asset in the valuation asset."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from marginctl.domain.errors import InvalidAmount
from marginctl.domain.money import mul, parse_amount
from marginctl.domain.names import echoed


def valuation_prices(pair_prices: Mapping[str, Decimal], valuation_asset: str) -> dict[str, Decimal]:
    """Each asset priced through `ASSET/VALUATION`, or one hop further (`ETH/BTC` × `BTC/USDT`)."""
    prices = {valuation_asset: Decimal(1)}
    for pair, price in pair_prices.items():
        base, quote = pair.split("/")
        if quote == valuation_asset:
            prices[base] = price
    for pair, price in pair_prices.items():
        base, quote = pair.split("/")
        if base not in prices and quote in prices:
            prices[base] = mul(price, prices[quote])
    return prices


def price_places(tick_size: Decimal) -> int:
    """A pair's prices have as many decimal places as its tick (0.01 → 2)."""
    exponent = tick_size.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(-exponent, 0)


def parse_price(text: str, tick_size: Decimal, *, what: str = "price") -> Decimal:
    """A positive plain decimal that sits on the pair's tick (DESIGN §5)."""
    price = parse_amount(text, price_places(tick_size), what=what)
    if price % tick_size != 0:
        raise InvalidAmount(f"{what} {echoed(text)} is not on the tick size {tick_size.normalize():f}")
    return price
