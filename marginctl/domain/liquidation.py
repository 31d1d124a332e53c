"""Liquidation at market price (DESIGN §4), planned as plain numbers before anything is posted.

Every asset is turned into the valuation asset at the last price, each debt is bought back and repaid
(interest first), and the liquidation fee goes to the insurance fund: 2 % of the wallet's total asset
value, but never more than the equity left (cash − debt), so the fund never pays a fee to itself. When
the cash does not cover the debt, the insurance fund pays the shortfall (debt − proceeds): a user never
owes more than the account held.
Example: 0.04995 BTC at 44000 → 2197.8 USDT, debt 2000.02, equity 197.78, fee 43.956 → 153.824 stays.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from marginctl.domain.ledger import BORROWED, FREE, INTEREST, INTEREST_RECEIVABLE, LOANED, Posting
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
    #: What the insurance fund pays the lending pool: max(0, debt − proceeds) (Binance's insurancePayout).
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
    equity = cash - debt_in_cash
    fee = liquidation_fee(total_asset_value, fee_rate, equity, value_places)
    shortfall = max(-equity, ZERO)
    repayments = {balance.asset: (balance.interest, balance.borrowed) for balance in holdings if balance.liability > 0}
    return LiquidationPlan(
        total_asset_value=total_asset_value,
        sells=sells,
        buys=buys,
        repayments=repayments,
        fee=fee,
        shortfall=shortfall,
        left_over=max(equity - fee, ZERO),
    )


def liquidation_fee(total_asset_value: Decimal, fee_rate: Decimal, equity: Decimal, places: int) -> Decimal:
    """2 % of the total asset value (rounded up), capped at the equity left; 0 when the equity is negative.

    2197.8 USDT of assets, 197.78 of equity: min(43.956, 197.78) = 43.956; 1498.5 of assets owing 2000.02: 0.
    """
    return min(round_up(mul(total_asset_value, fee_rate), places), max(equity, ZERO))


class SystemAccounts(NamedTuple):
    """The counterparties of a liquidation: the exchange, the insurance fund, the lending pool."""

    exchange: int
    insurance_fund: int
    lending_pool: int


def liquidation_postings(
    plan: LiquidationPlan, owner: tuple[int, str], valuation_asset: str, system: SystemAccounts
) -> list[Posting]:
    """The plan as one balanced entry of the wallet `owner` (account id, wallet): the sales, the insurance
    payout, the fee, the buy-backs, then each repayment (interest first); lines of zero are left out."""
    user, wallet = owner
    exchange, fund, pool = system
    cash = valuation_asset

    def swap(given: str, given_amount: Decimal, taken: str, taken_amount: Decimal) -> list[Posting]:
        """The wallet gives `given` to the exchange at market price and takes `taken` from it."""
        return [
            Posting(user, wallet, given, FREE, -given_amount),
            Posting(exchange, "spot", given, FREE, given_amount),
            Posting(exchange, "spot", taken, FREE, -taken_amount),
            Posting(user, wallet, taken, FREE, taken_amount),
        ]

    postings: list[Posting] = []
    for asset, (quantity, proceeds) in plan.sells.items():
        postings += swap(asset, quantity, cash, proceeds)
    if plan.shortfall:
        postings += [
            Posting(fund, "spot", cash, FREE, -plan.shortfall),
            Posting(user, wallet, cash, FREE, plan.shortfall),
        ]
    postings += [Posting(user, wallet, cash, FREE, -plan.fee), Posting(fund, "spot", cash, FREE, plan.fee)]
    for asset, (quantity, cost) in plan.buys.items():
        postings += swap(cash, cost, asset, quantity)
    for asset, (interest, principal) in plan.repayments.items():
        postings += [
            Posting(user, wallet, asset, FREE, -(interest + principal)),
            Posting(user, wallet, asset, INTEREST, interest),
            Posting(user, wallet, asset, BORROWED, principal),
            Posting(pool, "spot", asset, FREE, interest + principal),
            Posting(pool, "spot", asset, INTEREST_RECEIVABLE, -interest),
            Posting(pool, "spot", asset, LOANED, -principal),
        ]
    return [posting for posting in postings if posting.amount != 0]
