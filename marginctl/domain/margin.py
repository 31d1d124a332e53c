"""Binance Margin's risk arithmetic for one margin wallet (DESIGN §4), valued in one asset (USDT)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from marginctl.domain.money import MONEY_CONTEXT, ZERO, div, format_ratio, mul, round_down, round_up

#: Above this level Binance reports EXCESSIVE (and, by default, transfer-out is allowed).
EXCESSIVE_LEVEL = Decimal(2)

HOURS_PER_DAY = Decimal(24)
#: Binance quotes a yearly rate as the daily rate × 365 (simple, no compounding).
DAYS_PER_YEAR = Decimal(365)


@dataclass(frozen=True)
class MarginRules:
    """The thresholds of one mode (cross 3x, isolated 10x, …); DESIGN §4's table."""

    leverage: int
    transfer_out_level: Decimal
    margin_call_level: Decimal
    liquidation_level: Decimal
    pre_liquidation_margin: Decimal
    liquidation_fee_rate: Decimal

    @property
    def initial_level(self) -> Decimal:
        return initial_level(self.leverage)


def initial_level(leverage: int) -> Decimal:
    """Borrowing stops at L/(L−1): 1.5 at 3x, 1.25 at 5x, 1.111… at 10x."""
    return div(Decimal(leverage), Decimal(leverage - 1))


class AssetBalance(NamedTuple):
    """Binance's per-asset fields of a margin (or spot) wallet (a NamedTuple: cheap to make by the thousand)."""

    asset: str
    free: Decimal = ZERO
    locked: Decimal = ZERO
    borrowed: Decimal = ZERO
    interest: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.free + self.locked

    @property
    def liability(self) -> Decimal:
        return self.borrowed + self.interest

    @property
    def net_asset(self) -> Decimal:
        """Binance's netAsset = free + locked − borrowed − interest."""
        return self.total - self.liability


class Valuation(NamedTuple):
    """A wallet's totals in the valuation asset; `unpriced` lists assets held or owed with no price.

    A NamedTuple, as the other classes every command makes (a frozen dataclass costs ~1 ms a start).
    """

    total_asset_value: Decimal
    collateral_value: Decimal
    liability_value: Decimal
    unpriced: tuple[str, ...] = ()

    @property
    def net_asset_value(self) -> Decimal:
        return self.total_asset_value - self.liability_value


def value_wallet(
    balances: Iterable[AssetBalance],
    prices: Mapping[str, Decimal],
    collateral_ratios: Mapping[str, Decimal],
) -> Valuation:
    """Σ (free + locked) × price, the haircut collateral, and Σ (borrowed + interest) × price.

    `prices` maps an asset to its price in the valuation asset (the valuation asset itself is 1).
    """
    total_asset_value = ZERO
    collateral_value = ZERO
    liability_value = ZERO
    unpriced: list[str] = []
    for balance in balances:
        if balance.total == 0 and balance.liability == 0:
            continue
        price = prices.get(balance.asset)
        if price is None:
            unpriced.append(balance.asset)
            continue
        asset_value = mul(balance.total, price)
        total_asset_value += asset_value
        collateral_value += mul(asset_value, collateral_ratios.get(balance.asset, Decimal(1)))
        liability_value += mul(balance.liability, price)
    return Valuation(total_asset_value, collateral_value, liability_value, tuple(unpriced))


def margin_level(asset_value: Decimal, liability_value: Decimal) -> Decimal | None:
    """Total asset value / liability; None when there is no liability (Binance: EXCESSIVE)."""
    if liability_value <= 0:
        return None
    return div(asset_value, liability_value)


#: What Binance answers for marginLevel and collateralMarginLevel when a wallet owes nothing.
NO_DEBT_MARGIN_LEVEL = "999"
#: The statuses at which a wallet is warned and the risk check acts (a margin call or a liquidation).
IN_DANGER = ("MARGIN_CALL", "PRE_LIQUIDATION", "FORCE_LIQUIDATION")


def margin_level_text(level: Decimal | None) -> str:
    """A margin level as JSON shows it: 8 places rounded down, or Binance's "999" with no liability."""
    return NO_DEBT_MARGIN_LEVEL if level is None else format_ratio(level)


def margin_level_status(level: Decimal | None, rules: MarginRules) -> str:
    """Binance's marginLevelStatus bands (DESIGN §4)."""
    if level is None or level > EXCESSIVE_LEVEL:
        return "EXCESSIVE"
    if level > rules.margin_call_level:
        return "NORMAL"
    if level > rules.liquidation_level + rules.pre_liquidation_margin:
        return "MARGIN_CALL"
    if level > rules.liquidation_level:
        return "PRE_LIQUIDATION"
    return "FORCE_LIQUIDATION"


def hourly_interest(principal: Decimal, daily_rate: Decimal, places: int) -> Decimal:
    """One hour of simple interest, rounded up (Binance: 45.3313 × 0.00013233 / 24 → 0.00024995)."""
    return round_up(div(mul(principal, daily_rate), HOURS_PER_DAY), places)


def repayable(free: Decimal, owed: Decimal) -> Decimal:
    """`repay ASSET max`: as much of the debt as the free balance pays, min(free, owed), never below 0."""
    return max(min(free, owed), ZERO)


def borrow_headroom(valuation: Valuation, rules: MarginRules, price: Decimal, places: int) -> Decimal:
    """(L−1) × (collateral − liability) − liability, in the asset, rounded down, ≥ 0.

    This is exactly the borrow that brings the collateral margin level to L/(L−1).
    """
    headroom_value = (
        mul(Decimal(rules.leverage - 1), valuation.collateral_value - valuation.liability_value)
        - valuation.liability_value
    )
    return max(round_down(div(headroom_value, price), places), ZERO)


class BorrowLimits(NamedTuple):
    """Each bound on a borrow separately, so a refusal can name the one that bites."""

    headroom: Decimal
    limit_left: Decimal
    pool: Decimal

    @property
    def max(self) -> Decimal:
        """Binance's maxBorrowable: the tightest bound, never below 0."""
        return max(min(self.headroom, self.limit_left, self.pool), ZERO)


def max_borrowable(
    valuation: Valuation,
    rules: MarginRules,
    price: Decimal,
    places: int,
    borrow_limit_left: Decimal,
    pool_available: Decimal,
) -> Decimal:
    """Binance's maxBorrowable: min(headroom, the asset's borrow limit left, what the lending pool holds)."""
    headroom = borrow_headroom(valuation, rules, price, places)
    return BorrowLimits(headroom, round_down(borrow_limit_left, places), round_down(pool_available, places)).max


def max_transferable(
    balance: AssetBalance,
    valuation: Valuation,
    rules: MarginRules,
    price: Decimal | None,
    collateral_ratio: Decimal,
    places: int,
) -> Decimal:
    """The most of one asset that can leave a margin wallet with its CML still ≥ the transfer-out level.

    (collateral − x·price·ratio) / liability ≥ level  ⇒  x ≤ (collateral − level·liability) / (price·ratio)
    """
    if valuation.liability_value == 0 or collateral_ratio == 0:
        return balance.free
    if price is None:
        return ZERO
    allowed_value = valuation.collateral_value - mul(rules.transfer_out_level, valuation.liability_value)
    amount = div(allowed_value, mul(price, collateral_ratio))
    return max(min(round_down(amount, places), balance.free), ZERO)


def liquidation_price(
    asset: str,
    balances: Iterable[AssetBalance],
    prices: Mapping[str, Decimal],
    liquidation_level: Decimal,
) -> Decimal | None:
    """The price of `asset`, all other prices fixed, at which the margin level reaches liquidation.

    Solves a0 + qa·p = k·(l0 + ql·p): p = (k·l0 − a0) / (qa − k·ql); None when no positive price does it.
    """
    return level_prices(asset, balances, prices, (liquidation_level,))[0]


def level_prices(
    asset: str,
    balances: Iterable[AssetBalance],
    prices: Mapping[str, Decimal],
    levels: Iterable[Decimal],
) -> list[Decimal | None]:
    """`liquidation_price` at each of `levels`, reading the balances once."""
    other_assets = ZERO
    other_liabilities = ZERO
    quantity_held = ZERO
    quantity_owed = ZERO
    for balance in balances:
        if balance.asset == asset:
            quantity_held += balance.total
            quantity_owed += balance.liability
            continue
        price = prices.get(balance.asset)
        if price is None:
            return [None for _ in levels]
        other_assets += mul(balance.total, price)
        other_liabilities += mul(balance.liability, price)
    found: list[Decimal | None] = []
    for level in levels:
        denominator = quantity_held - mul(level, quantity_owed)
        if denominator == 0:
            found.append(None)
            continue
        price_at_level = div(mul(level, other_liabilities) - other_assets, denominator)
        found.append(None if price_at_level <= 0 else price_at_level.quantize(Decimal("1E-8"), context=MONEY_CONTEXT))
    return found
