"""The band of prices around the last one in which nothing can happen: no stop triggers, no limit
crosses, no wallet changes its marginLevelStatus. A kline replay does database work only when a price
leaves the band, which is what makes a year of one-minute candles take seconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from marginctl.domain.margin import AssetBalance, MarginRules, level_prices, margin_level, value_wallet
from marginctl.domain.money import div
from marginctl.domain.orders import BUY, SELL, STOP_LOSS_LIMIT

SAFETY = Decimal("1E-9")


@dataclass(frozen=True)
class OpenOrder:
    order_type: str
    side: str
    limit_price: Decimal
    stop_price: Decimal | None
    triggered: bool


@dataclass(frozen=True)
class Band:
    """Something may happen at a price ≤ `low` or ≥ `high` (None: never on that side)."""

    low: Decimal | None = None
    high: Decimal | None = None

    def contains(self, price: Decimal) -> bool:
        return (self.low is None or price > self.low) and (self.high is None or price < self.high)

    def narrow(self, other: Band) -> Band:
        lows = [value for value in (self.low, other.low) if value is not None]
        highs = [value for value in (self.high, other.high) if value is not None]
        return Band(max(lows) if lows else None, min(highs) if highs else None)

    def shrunk(self, around: Decimal, parts: int) -> Band:
        """The band 1/parts as wide on each side of `around` (a price inside it), never wider."""
        if parts <= 1:
            return self
        low = None if self.low is None else around - div(around - self.low, Decimal(parts))
        high = None if self.high is None else around + div(self.high - around, Decimal(parts))
        return Band(low, high)


def _side_band(threshold: Decimal, fires_at_or_below: bool) -> Band:
    return Band(low=threshold) if fires_at_or_below else Band(high=threshold)


def order_band(orders: Iterable[OpenOrder]) -> Band:
    """Stops trigger and limits cross only at their own prices (DESIGN §5)."""
    band = Band()
    for order in orders:
        if order.stop_price is not None and not order.triggered:
            falling = (order.side == SELL) == (order.order_type == STOP_LOSS_LIMIT)
            band = band.narrow(_side_band(order.stop_price, falling))
        else:
            band = band.narrow(_side_band(order.limit_price, order.side == BUY))
    return band


def risk_band(
    wallets: Iterable[tuple[list[AssetBalance], MarginRules]],
    asset: str,
    prices: Mapping[str, Decimal],
    quote_price: Decimal,
) -> Band:
    """Where a wallet's margin level crosses the margin-call, pre-liquidation or liquidation level.

    `prices` are valuation prices; thresholds are returned as prices of the pair (÷ its quote's price).
    """
    current = prices[asset]
    low: Decimal | None = None
    high: Decimal | None = None
    for balances, rules in wallets:
        levels = (
            rules.margin_call_level,
            rules.liquidation_level + rules.pre_liquidation_margin,
            rules.liquidation_level,
        )
        for threshold in level_prices(asset, balances, prices, levels):
            if threshold is None:
                continue
            # The band narrows to the highest threshold at or below the price and the lowest above it.
            value = div(threshold, quote_price)
            if threshold <= current:
                low = value if low is None or value > low else low
            else:
                high = value if high is None or value < high else high
    return Band(low, high)


def in_danger(balances: list[AssetBalance], prices: Mapping[str, Decimal], rules: MarginRules) -> bool:
    valuation = value_wallet(balances, prices, {})
    level = margin_level(valuation.total_asset_value, valuation.liability_value)
    return level is not None and level <= rules.margin_call_level
