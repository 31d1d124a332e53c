"""Closing a margin wallet (`marginctl close`): how much to buy back and how much to sell, as plain numbers.

A debt the wallet cannot repay from its free balance is bought back with a market buy whose quantity,
after the fee taken in the base asset, covers the shortfall (DESIGN §5); a debt in the quote asset is
covered by selling just enough of another asset. Every quantity is on the pair's step and meets its
minimum notional, as an order must.
"""

from __future__ import annotations

from decimal import ROUND_UP, Decimal

from marginctl.domain.money import MONEY_CONTEXT, ZERO, div, mul
from marginctl.domain.orders import BUY, SELL, close_quantity, fill, hold_for, round_to_step


def step_up(quantity: Decimal, step_size: Decimal) -> Decimal:
    """The smallest multiple of the step at or above `quantity`."""
    steps = (quantity / step_size).to_integral_value(rounding=ROUND_UP, context=MONEY_CONTEXT)
    return mul(steps, step_size)


def buy_back_quantity(
    needed: Decimal,
    price: Decimal,
    fee_rate: Decimal,
    step_size: Decimal,
    base_places: int,
    min_notional: Decimal,
) -> Decimal:
    """The buy that brings in at least `needed` base after the fee, raised to the minimum notional if below.

    0.01000002 BTC short at 60000 with a 0.1 % fee: 0.01000002 / 0.999 = 0.010010030…, up to the step
    0.00001 → 0.01002 (receives 0.01002 − 0.00001002 = 0.01000998 ≥ 0.01000002), worth 601.2 ≥ 5.
    """
    quantity = close_quantity(needed, fee_rate, step_size, base_places)
    if quantity > 0 and mul(quantity, price) < min_notional:
        quantity = step_up(div(min_notional, price), step_size)
    return quantity


def sell_quantity_for(
    needed: Decimal,
    price: Decimal,
    fee_rate: Decimal,
    step_size: Decimal,
    quote_places: int,
    min_notional: Decimal,
    available: Decimal,
) -> Decimal:
    """The smallest sell whose proceeds after the fee reach `needed` quote, at most all of `available`.

    0 when even the whole available quantity is below the minimum notional (dust that cannot be sold).
    Raising 100 USDT at 60000 with a 0.1 % fee: 100 / (60000 × 0.999) = 0.0016683…, up to the step →
    0.00167 (sells for 100.2 − 0.1002 = 100.0998 ≥ 100).
    """
    most = round_to_step(available, step_size)
    if needed <= 0 or most <= 0:
        return ZERO
    quantity = step_up(div(needed, mul(price, Decimal(1) - fee_rate)), step_size)
    while quantity < most and fill(SELL, quantity, price, fee_rate, 0, quote_places).received < needed:
        quantity += step_size
    quantity = min(quantity, most)
    if mul(quantity, price) < min_notional:
        quantity = min(step_up(div(min_notional, price), step_size), most)
    return quantity if mul(quantity, price) >= min_notional else ZERO


def buy_cost(quantity: Decimal, price: Decimal, quote_places: int) -> Decimal:
    """What a market buy of `quantity` pays in the quote asset (rounded up: the user pays)."""
    return hold_for(BUY, quantity, price, quote_places)
