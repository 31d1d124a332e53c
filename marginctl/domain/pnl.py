"""Profit and loss by average cost: fills in, a position with its realized PnL and fees out.

Every figure is in the valuation asset. A position (per wallet and base asset) has a signed quantity
(long > 0, short < 0) and an average entry price: the average cost of the open quantity at the fill prices.
The position moves by the quantity the wallet actually gained or gave (`moved_quantity`), not the gross
traded quantity: a BUY adds qty − commission when the commission is taken in the base asset (qty when it is
not), a SELL removes qty. So a buy of 0.1 BTC with a 0.0001 BTC fee opens 0.0999 BTC, and selling that
0.0999 leaves the position flat, exactly as the wallet is. A fill that reduces the position realizes
(price − average) × moved for a long, (average − price) × moved for a short; one that crosses zero closes
the old position at the average and opens the rest at the fill price. Fees are never folded into the
average nor into the moved quantity's price: they are a total of their own, valued at the fill
(`fee_value`), so a base fee counts once, as a fee, and the net matches the wallet's real gain.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

from marginctl.domain.money import MONEY_CONTEXT, ZERO, div, mul

BUY = "BUY"
SELL = "SELL"

LONG = "LONG"
SHORT = "SHORT"
FLAT = "FLAT"


@dataclass(frozen=True)
class Fill:
    """One trade as PnL sees it: `price` and `fee` already in the valuation asset.

    `qty` is the gross traded quantity (the trade's own); `moved` the base the wallet gained (BUY) or gave
    (SELL), by which the position moves: see `moved_quantity`. Left out, it is `qty` (no base fee).
    """

    trade_id: int
    at: str
    side: str
    price: Decimal
    qty: Decimal
    fee: Decimal
    #: False for a fill before `--since`: it moves the position but its realized PnL and fee are not totalled.
    counted: bool = True
    moved: Decimal | None = None

    @property
    def position_change(self) -> Decimal:
        """The unsigned quantity the position moves by."""
        return self.qty if self.moved is None else self.moved


@dataclass(frozen=True)
class FillPnl:
    fill: Fill
    realized: Decimal


@dataclass(frozen=True)
class Position:
    quantity: Decimal = ZERO
    average_entry_price: Decimal = ZERO
    realized: Decimal = ZERO
    fees: Decimal = ZERO
    fills: tuple[FillPnl, ...] = field(default_factory=tuple)

    @property
    def side(self) -> str:
        return LONG if self.quantity > 0 else SHORT if self.quantity < 0 else FLAT

    def unrealized(self, last_price: Decimal) -> Decimal:
        """(last − average) × qty for a long, (average − last) × |qty| for a short: one signed product."""
        return mul(last_price - self.average_entry_price, self.quantity)


def average_cost(fills: Iterable[Fill]) -> Position:
    """The position after `fills`, in the order given (trade id order)."""
    quantity, average, realized, fees = ZERO, ZERO, ZERO, ZERO
    results = []
    for fill in fills:
        moved = fill.position_change
        signed = moved if fill.side == BUY else -moved
        gain = ZERO
        if moved == 0:
            pass  # nothing reached the wallet (a fee that took the whole fill): the position stays
        elif quantity == 0 or (quantity > 0) == (signed > 0):
            # Opening or adding: the average is the cost of the whole open quantity.
            average = div(mul(average, abs(quantity)) + mul(fill.price, moved), abs(quantity) + moved)
            quantity += signed
        else:
            closed = min(moved, abs(quantity))
            direction = Decimal(1) if quantity > 0 else Decimal(-1)
            gain = mul(mul(fill.price - average, closed), direction)
            quantity += signed
            if quantity == 0:
                average = ZERO
            elif (quantity > 0) != (direction > 0):
                # Crossed zero: the rest opens a new position at the fill price.
                average = fill.price
        if fill.counted:
            realized += gain
            fees += fill.fee
            results.append(FillPnl(fill, gain))
    return Position(quantity, average, realized, fees, tuple(results))


def moved_quantity(side: str, qty: Decimal, commission: Decimal, commission_asset: str, base: str) -> Decimal:
    """The base a fill moved in the wallet: a BUY brings in qty less a base commission, a SELL gives qty."""
    if side == BUY and commission_asset == base:
        return qty - commission
    return qty


def fee_value(commission: Decimal, commission_asset: str, base: str, price: Decimal, quote_price: Decimal) -> Decimal:
    """A base-asset commission at the fill price × the quote's valuation price; a quote commission × that price."""
    if commission_asset == base:
        return mul(mul(commission, price), quote_price)
    return mul(commission, quote_price)


def interest_value(interest_by_asset: dict[str, Decimal], prices: dict[str, Decimal]) -> Decimal:
    """Interest charged, each asset at its current valuation price (the valuation asset's at exactly 1)."""
    return sum((mul(amount, prices[asset]) for asset, amount in interest_by_asset.items()), ZERO)


def net_pnl(realized: Decimal, unrealized: Decimal, fees: Decimal, interest: Decimal) -> Decimal:
    return realized + unrealized - fees - interest


def report_figure(value: Decimal, places: int) -> str:
    """The one rounding of every PnL figure shown: to the valuation asset's places, half to even.

    A report figure is not money that moves (DESIGN §2 rounds only money), so neither side is favoured;
    the figures are computed at full precision and rounded only here, so a net may differ from the sum
    of its rounded parts by one unit in the last place.
    """
    quantum = Decimal(1).scaleb(-places)
    rounded = value.quantize(quantum, rounding=ROUND_HALF_EVEN, context=MONEY_CONTEXT)
    return format(abs(rounded) if rounded == 0 else rounded, "f")
