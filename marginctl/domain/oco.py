"""OCO order lists (Binance's POST /sapi/v1/margin/order/oco): one quantity, two exits, one filling expires the other.

The limit leg is a LIMIT_MAKER at `price`; the stop leg a STOP_LOSS_LIMIT that triggers at `stop` and then
becomes a limit order at `stop_limit`. Binance's price rules: a SELL needs limit > last > stop, a BUY
limit < last < stop.
"""

from __future__ import annotations

from decimal import Decimal

from marginctl.domain.errors import InvalidOcoPrices, WouldMatchImmediately, WouldTriggerImmediately
from marginctl.domain.orders import BUY, SELL, check_min_notional, hold_for

OCO = "OCO"
#: Binance's status of the leg that the other leg's fill (or trigger) cancelled.
EXPIRED = "EXPIRED"

#: Binance's listStatusType and listOrderStatus, while the legs work and once the list is done.
EXEC_STARTED = "EXEC_STARTED"
EXECUTING = "EXECUTING"
ALL_DONE = "ALL_DONE"


def check_prices(side: str, price: Decimal, stop: Decimal) -> None:
    """The part of Binance's price rule that holds at any last price (usage error)."""
    if side == SELL and price <= stop:
        raise InvalidOcoPrices(
            f"a sell OCO needs --price above --stop (take profit above, stop loss below), got {price} and {stop}"
        )
    if side == BUY and price >= stop:
        raise InvalidOcoPrices(
            f"a buy OCO needs --price below --stop (take profit below, stop loss above), got {price} and {stop}"
        )


def check_against_last(side: str, price: Decimal, stop: Decimal, last: Decimal) -> None:
    """Binance: a SELL needs limit > last > stop, a BUY limit < last < stop (refused by a rule)."""
    limit_marketable = price <= last if side == SELL else price >= last
    if limit_marketable:
        where = "above" if side == SELL else "below"
        raise WouldMatchImmediately(
            f"the limit leg {price} would fill at once at the last price {last}; a {side.lower()} OCO's --price must "
            f"be {where} it"
        )
    stop_reached = stop >= last if side == SELL else stop <= last
    if stop_reached:
        where = "below" if side == SELL else "above"
        raise WouldTriggerImmediately(
            f"the stop {stop} would trigger at once at the last price {last}; a {side.lower()} OCO's --stop must be "
            f"{where} it"
        )


def check_notional(quantity: Decimal, price: Decimal, stop_limit: Decimal, min_notional: Decimal) -> None:
    """Each leg is an order of its own: both must reach the pair's minimum notional at their limit prices."""
    check_min_notional(quantity, price, min_notional)
    check_min_notional(quantity, stop_limit, min_notional)


def oco_hold(side: str, quantity: Decimal, price: Decimal, stop_limit: Decimal, quote_places: int) -> Decimal:
    """What the list locks, once: a sell its quantity; a buy the most either leg can spend, rounded up.

    Buy 0.01 BTC with limit 55000 and stop-limit 65100: 0.01 × 65100 = 651 USDT.
    """
    return hold_for(side, quantity, max(price, stop_limit), quote_places)
