"""Which prices can put a wallet in danger: the price of its one moving asset at which its margin level
reaches the margin-call level (DESIGN §4), so a price update need only look at wallets it can reach.

The risk check acts on a wallet at or below its margin-call level (margin call, pre-liquidation,
liquidation: the lower bands lie inside it), so that level is the one threshold a price must cross.
With one asset X besides the valuation asset (whose price is 1), the margin level is

    (a0 + qa·p) / (l0 + ql·p)        a0, l0: valuation-asset holdings and debts; qa, ql: X's; p: X's price

and the wallet is at or below level k exactly when (qa − k·ql)·p ≤ k·l0 − a0: a half-line of prices,
bounded by one trigger price. A wallet whose value moves with two or more prices, or with an asset that
has no price, is checked on every update (`always`), as every wallet was before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from marginctl.domain.margin import AssetBalance, margin_level, value_wallet
from marginctl.domain.money import ZERO, div, mul


@dataclass(frozen=True)
class Reach:
    """Where a wallet is in danger: at prices of `asset` ≤ `at_or_below` or ≥ `at_or_above`; at any price
    when `always`; never (until its balances or rules change) when neither bound is set."""

    asset: str | None = None
    at_or_below: Decimal | None = None
    at_or_above: Decimal | None = None
    always: bool = False

    def in_danger_at(self, price: Decimal) -> bool:
        """Exact: for a wallet whose one moving asset is priced at `price` (valuation prices)."""
        if self.always:
            return True
        if self.at_or_below is not None and price <= self.at_or_below:
            return True
        return self.at_or_above is not None and price >= self.at_or_above


ALWAYS = Reach(always=True)
NEVER = Reach()


def wallet_reach(
    balances: Iterable[AssetBalance],
    prices: Mapping[str, Decimal],
    valuation_asset: str,
    margin_call_level: Decimal,
) -> Reach:
    """The wallet's reach at `margin_call_level`; `prices` only tell which assets are priced."""
    held = [balance for balance in balances if balance.total != 0 or balance.liability != 0]
    moving = {balance.asset for balance in held if balance.asset != valuation_asset}
    if any(asset not in prices for asset in moving) or len(moving) > 1:
        return ALWAYS
    if not moving:
        valuation = value_wallet(held, {valuation_asset: Decimal(1)}, {})
        level = margin_level(valuation.total_asset_value, valuation.liability_value)
        return ALWAYS if level is not None and level <= margin_call_level else NEVER
    (asset,) = moving
    assets_fixed = sum((balance.total for balance in held if balance.asset == valuation_asset), ZERO)
    debts_fixed = sum((balance.liability for balance in held if balance.asset == valuation_asset), ZERO)
    assets_moving = sum((balance.total for balance in held if balance.asset == asset), ZERO)
    debts_moving = sum((balance.liability for balance in held if balance.asset == asset), ZERO)
    slope = assets_moving - mul(margin_call_level, debts_moving)
    bound = mul(margin_call_level, debts_fixed) - assets_fixed
    if slope == 0:
        # The level does not move with the price: in danger at every price or at none.
        return Reach(asset, always=bound >= 0)
    trigger = div(bound, slope)
    if slope > 0:
        # In danger at p ≤ trigger; a trigger ≤ 0 is below every price.
        return Reach(asset, at_or_below=trigger) if trigger > 0 else Reach(asset)
    # slope < 0: in danger at p ≥ trigger; a trigger ≤ 0 is below every price, so at all of them.
    return Reach(asset, at_or_above=trigger) if trigger > 0 else Reach(asset, always=True)
