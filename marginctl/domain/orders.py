"""Order rules (DESIGN §5): pair filters, when stops trigger and limits cross, and what a fill moves."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from typing import NamedTuple

from marginctl.domain.clock import hours_after
from marginctl.domain.errors import InvalidAmount, InvalidInput, MinNotional
from marginctl.domain.ledger import FREE, LOCKED, Posting
from marginctl.domain.margin import hourly_interest
from marginctl.domain.money import MONEY_CONTEXT, div, mul, parse_amount, round_down, round_up
from marginctl.domain.names import echoed, match_name

BUY = "BUY"
SELL = "SELL"
MARKET = "MARKET"
LIMIT = "LIMIT"
#: A limit order refused if it would fill at once (an OCO's limit leg; Binance's post-only order).
LIMIT_MAKER = "LIMIT_MAKER"
STOP_LOSS_LIMIT = "STOP_LOSS_LIMIT"
TAKE_PROFIT_LIMIT = "TAKE_PROFIT_LIMIT"

NEW = "NEW"
FILLED = "FILLED"
CANCELED = "CANCELED"

#: The sides by the names the CLI takes.
SIDES = {"buy": BUY, "sell": SELL}

#: Binance's sideEffectType values, by the names the CLI takes.
SIDE_EFFECTS = {
    "normal": "NO_SIDE_EFFECT",
    "auto-borrow": "MARGIN_BUY",
    "auto-repay": "AUTO_REPAY",
    "auto-borrow-repay": "AUTO_BORROW_REPAY",
}
NO_SIDE_EFFECT = "NO_SIDE_EFFECT"
MARGIN_BUY = "MARGIN_BUY"
AUTO_REPAY = "AUTO_REPAY"
AUTO_BORROW_REPAY = "AUTO_BORROW_REPAY"
#: The side effects that borrow what the order lacks when it is placed, and those whose fill repays debt.
BORROWING = (MARGIN_BUY, AUTO_BORROW_REPAY)
REPAYING = (AUTO_REPAY, AUTO_BORROW_REPAY)

#: Binance answers every margin order with timeInForce GTC (good till cancelled).
TIME_IN_FORCE = "GTC"


def parse_side(text: str) -> str:
    """`buy` or `sell`, as Binance's BUY or SELL (exit 2 otherwise)."""
    side = match_name(text, SIDES)
    if side is None:
        raise InvalidInput(f"side must be buy or sell, got {echoed(text, 20)!r}")
    return side


def round_to_step(quantity: Decimal, step_size: Decimal) -> Decimal:
    """Quantities are rounded down to the pair's step (Binance's LOT_SIZE filter)."""
    steps = (quantity / step_size).to_integral_value(rounding=ROUND_DOWN, context=MONEY_CONTEXT)
    return mul(steps, step_size)


def quantity_for_quote(quote_amount: Decimal, price: Decimal, step_size: Decimal) -> Decimal:
    """`--quote`: as much base as that quote amount buys (or fetches) at the price, down to the step."""
    return round_to_step(div(quote_amount, price), step_size)


def check_min_notional(quantity: Decimal, price: Decimal, min_notional: Decimal) -> None:
    notional = mul(quantity, price)
    if notional < min_notional:
        raise MinNotional(f"order value {notional.normalize():f} is below the pair's minimum notional {min_notional:f}")


def parse_quantity(text: str, places: int, step_size: Decimal) -> Decimal:
    """A typed base quantity, rounded down to the step; one that rounds to nothing is refused."""
    rounded = round_to_step(parse_amount(text, places, what="quantity"), step_size)
    if rounded <= 0:
        raise InvalidAmount(f"quantity {echoed(text)} is below the pair's step size {step_size.normalize():f}")
    return rounded


def stop_type(side: str, stop_price: Decimal, last_price: Decimal) -> str | None:
    """Binance's stop-limit kinds: a stop against the move is a stop-loss, one with it a take-profit.

    None when the stop equals the last price: the order would trigger immediately (Binance -2010).
    """
    if stop_price == last_price:
        return None
    if side == SELL:
        return STOP_LOSS_LIMIT if stop_price < last_price else TAKE_PROFIT_LIMIT
    return STOP_LOSS_LIMIT if stop_price > last_price else TAKE_PROFIT_LIMIT


def stop_reached(order_type: str, side: str, stop_price: Decimal, price: Decimal) -> bool:
    """A stop-loss sell triggers at price ≤ stop, a stop-loss buy at price ≥ stop; take-profits mirror."""
    falling_trigger = (side == SELL) == (order_type == STOP_LOSS_LIMIT)
    return price <= stop_price if falling_trigger else price >= stop_price


def limit_crossed(side: str, limit_price: Decimal, price: Decimal) -> bool:
    """A buy fills when the price is at or below its limit, a sell at or above (DESIGN §5)."""
    return price <= limit_price if side == BUY else price >= limit_price


@dataclass(frozen=True)
class Fill:
    """What one fill moves: the user pays `paid` of one asset, receives `received` of the other after `fee`."""

    quantity: Decimal
    price: Decimal
    quote_amount: Decimal
    paid: Decimal
    fee: Decimal
    received: Decimal


def fill(side: str, quantity: Decimal, price: Decimal, fee_rate: Decimal, base_places: int, quote_places: int) -> Fill:
    """A fill at `price`; the fee is charged in the asset received (DESIGN §2: the user's side rounds against it).

    Buy 0.01 BTC at 60000: pays 600 USDT, fee 0.00001 BTC, receives 0.00999 BTC.
    Sell 0.01 BTC at 60000: pays 0.01 BTC, receives 600 − 0.6 = 599.4 USDT.
    """
    notional = mul(quantity, price)
    if side == BUY:
        paid = round_up(notional, quote_places)
        fee = round_up(mul(quantity, fee_rate), base_places)
        return Fill(quantity, price, paid, paid, fee, quantity - fee)
    gross = round_down(notional, quote_places)
    fee = round_up(mul(gross, fee_rate), quote_places)
    return Fill(quantity, price, gross, quantity, fee, gross - fee)


class FilledOrder(NamedTuple):
    """A fill decided: its amounts and the two journal entries it books (`fee` is empty without a fee)."""

    result: Fill
    received_asset: str
    trade: list[Posting]
    fee: list[Posting]


def fill_entries(
    account_id: int,
    wallet: str,
    assets: tuple[str, str],
    side: str,
    result: Fill,
    locked: Decimal,
    exchange_id: int,
    fees_id: int,
) -> FilledOrder:
    """The entries of a whole fill against the exchange: a `trade` entry with the gross amounts (what the
    order held leaves `locked`), then a `fee` entry from the asset received to the fees account.

    A buy resting at its limit pays exactly what it locked; one filling below its limit gets the rest back
    to free. `assets` is (base, quote); `locked` is 0 for an order that never rested.
    """
    base, quote = assets
    paid_asset, received_asset = (quote, base) if side == BUY else (base, quote)
    gross = result.received + result.fee
    trade = [
        Posting(account_id, wallet, paid_asset, LOCKED, -locked),
        Posting(account_id, wallet, paid_asset, FREE, locked - result.paid),
        Posting(exchange_id, "spot", paid_asset, FREE, result.paid),
        Posting(exchange_id, "spot", received_asset, FREE, -gross),
        Posting(account_id, wallet, received_asset, FREE, gross),
    ]
    fee = (
        [
            Posting(account_id, wallet, received_asset, FREE, -result.fee),
            Posting(fees_id, "spot", received_asset, FREE, result.fee),
        ]
        if result.fee
        else []
    )
    return FilledOrder(result, received_asset, [posting for posting in trade if posting.amount != 0], fee)


def hold_for(side: str, quantity: Decimal, price: Decimal, quote_places: int) -> Decimal:
    """What an order locks: a buy the quote it may spend (rounded up), a sell its base quantity."""
    return round_up(mul(quantity, price), quote_places) if side == BUY else quantity


def close_quantity(needed: Decimal, fee_rate: Decimal, step_size: Decimal, base_places: int) -> Decimal:
    """The smallest quantity on the step whose buy brings in at least `needed` base after the fee.

    The fee is taken in the base received (DESIGN §5), so covering a debt of 0.02 BTC at 0.1 % needs
    0.02 / 0.999 = 0.0200200…, up to the step 0.00001: 0.02003 (fee 0.00002003 → 0.00002003 rounded up to
    8 places, receives 0.02000997 ≥ 0.02).
    """
    if needed <= 0:
        return Decimal(0)
    quantity = mul(
        (div(needed, Decimal(1) - fee_rate) / step_size).to_integral_value(rounding=ROUND_UP, context=MONEY_CONTEXT),
        step_size,
    )
    while quantity - round_up(mul(quantity, fee_rate), base_places) < needed:
        quantity += step_size
    return quantity


def marketable_on_placing(order_type: str, side: str, limit_price: Decimal | None, last_price: Decimal) -> bool:
    """A market order, or a limit whose price crosses the last price, takes the book at once (DESIGN §5)."""
    if order_type == MARKET:
        return True
    return order_type == LIMIT and limit_price is not None and limit_crossed(side, limit_price, last_price)


def with_min_notional(quantity: Decimal, price: Decimal, min_notional: Decimal, step_size: Decimal) -> Decimal:
    """`quantity`, or the smallest step quantity whose value at `price` meets the minimum notional if it is below."""
    if mul(quantity, price) >= min_notional:
        return quantity
    steps = (div(min_notional, price) / step_size).to_integral_value(rounding=ROUND_UP, context=MONEY_CONTEXT)
    return max(quantity, mul(steps, step_size))


def interest_on_order_loan(
    borrowed: Decimal,
    rate_at: Callable[[datetime], Decimal],
    places: int,
    placed_at: datetime,
    cancelled_at: datetime,
) -> Decimal:
    """What an order's MARGIN_BUY loan was charged by its cancel: the ON_BORROW hour, then one PERIODIC hour for
    every UTC hour boundary after the order was placed up to the cancel (Binance's autoRepayAtCancel repays both),
    each at the daily rate in force then (`rate_at`).

    950 USDT at daily 0.00048 cancelled in the hour it was placed: 950 × 0.00048 / 24 = 0.019.
    """
    moments = [placed_at, *hours_after(placed_at, cancelled_at)]
    return sum((hourly_interest(borrowed, rate_at(moment), places) for moment in moments), Decimal(0))
