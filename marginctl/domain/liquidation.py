"""Liquidation at market price (DESIGN §4), planned as plain numbers before anything is posted.

Every asset is turned into the valuation asset at the last price, each debt is bought back and repaid
(interest first), 2 % of the wallet's total asset value goes to the insurance fund, and what is left
stays. When that is not enough, the insurance fund pays the shortfall: a user never owes more than the
account held. Example: 0.04995 BTC at 44000 → 2197.8 USDT, fee 43.956, debt 2000.02 → 153.824 stays.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from marginctl.domain.margin import AssetBalance
from marginctl.domain.money import ZERO, mul, round_down, round_up


@dataclass(frozen=True)
class LiquidationPlan:
    total_asset_value: Decimal
    #: asset → (quantity sold, valuation asset received)
    sells: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    #: asset → (quantity bought back, valuation asset paid)
    buys: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    #: asset → (interest repaid, principal repaid)
    repayments: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    fee: Decimal = ZERO
    shortfall: Decimal = ZERO
    left_over: Decimal = ZERO


def plan_liquidation(
    balances: Iterable[AssetBalance],
    prices: Mapping[str, Decimal],
    valuation_asset: str,
    fee_rate: Decimal,
    places: Mapping[str, int],
) -> LiquidationPlan:
    """Balances must have no `locked` left (open orders are cancelled first)."""
    value_places = places[valuation_asset]
    holdings = [balance for balance in balances if balance.free or balance.liability]
    total_asset_value = sum((mul(balance.free, prices[balance.asset]) for balance in holdings), ZERO)
    cash = ZERO
    sells: dict[str, tuple[Decimal, Decimal]] = {}
    buys: dict[str, tuple[Decimal, Decimal]] = {}
    debt_in_cash = ZERO
    for balance in holdings:
        if balance.asset == valuation_asset:
            cash += balance.free
            debt_in_cash += balance.liability
            continue
        # What is held of an owed asset repays it directly; only the excess is sold, the deficit bought.
        excess = balance.free - balance.liability
        if excess > 0:
            proceeds = round_down(mul(excess, prices[balance.asset]), value_places)
            sells[balance.asset] = (excess, proceeds)
            cash += proceeds
        elif excess < 0:
            cost = round_up(mul(-excess, prices[balance.asset]), value_places)
            buys[balance.asset] = (-excess, cost)
            debt_in_cash += cost
    fee = round_up(mul(total_asset_value, fee_rate), value_places)
    remaining = cash - fee - debt_in_cash
    shortfall = -remaining if remaining < 0 else ZERO
    repayments = {balance.asset: (balance.interest, balance.borrowed) for balance in holdings if balance.liability > 0}
    return LiquidationPlan(
        total_asset_value=total_asset_value,
        sells=sells,
        buys=buys,
        repayments=repayments,
        fee=fee,
        shortfall=shortfall,
        left_over=max(remaining, ZERO),
    )
