"""Average-cost PnL with plain numbers: the README's worked example, and the rules one at a time."""

from __future__ import annotations

from decimal import Decimal

from marginctl.domain.pnl import (
    BUY,
    SELL,
    Fill,
    average_cost,
    fee_value,
    interest_value,
    moved_quantity,
    net_pnl,
    report_figure,
)

D = Decimal


def fill(
    trade_id: int, side: str, price: str, qty: str, fee: str = "0", counted: bool = True, moved: str | None = None
) -> Fill:
    return Fill(trade_id, f"t{trade_id}", side, D(price), D(qty), D(fee), counted, None if moved is None else D(moved))


#: The long of the worked example: buy 0.1 at 60000, buy 0.05 at 63000, sell 0.06 at 64000.
#: Fees at 0.1 %: 0.0001 BTC × 60000 = 6, 0.00005 BTC × 63000 = 3.15, 3840 USDT × 0.001 = 3.84.
#: The buys' fees are taken in BTC, so they bring in 0.1 − 0.0001 = 0.0999 and 0.05 − 0.00005 = 0.04995.
LONG_FILLS = [
    fill(1, BUY, "60000", "0.1", "6", moved="0.0999"),
    fill(2, BUY, "63000", "0.05", "3.15", moved="0.04995"),
    fill(3, SELL, "64000", "0.06", "3.84", moved="0.06"),
]

#: The short: sell 1 ETH at 3000, cover 0.4 at 2800 and 0.6 at 2900.
#: Fees: 3000 × 0.001 = 3; 0.0004 ETH × 2800 = 1.12; 0.0006 ETH × 2900 = 1.74.
#: The covers bring in 0.4 − 0.0004 = 0.3996 and 0.6 − 0.0006 = 0.5994 ETH.
SHORT_FILLS = [
    fill(4, SELL, "3000", "1", "3", moved="1"),
    fill(5, BUY, "2800", "0.4", "1.12", moved="0.3996"),
    fill(6, BUY, "2900", "0.6", "1.74", moved="0.5994"),
]


def test_a_buy_with_a_base_fee_moves_the_position_by_the_quantity_received() -> None:
    # 0.1 − 0.0001 = 0.0999
    assert moved_quantity(BUY, D("0.1"), D("0.0001"), "BTC", "BTC") == D("0.0999")


def test_a_buy_with_a_fee_in_another_asset_moves_the_position_by_the_whole_quantity() -> None:
    assert moved_quantity(BUY, D("0.1"), D("0.5"), "BNB", "BTC") == D("0.1")


def test_a_sell_moves_the_position_by_the_quantity_given() -> None:
    # the fee of a sell is taken in the quote it receives: 0.0999 BTC leaves the wallet
    assert moved_quantity(SELL, D("0.0999"), D("5.994"), "USDT", "BTC") == D("0.0999")


def test_selling_what_a_buy_brought_in_leaves_the_position_flat() -> None:
    # buy 0.1 (0.0999 received), sell that 0.0999 at 65000: (65000 − 60000) × 0.0999 = 499.5
    position = average_cost([fill(1, BUY, "60000", "0.1", "6", moved="0.0999"), fill(2, SELL, "65000", "0.0999")])
    assert (position.quantity, position.side, position.average_entry_price) == (D(0), "FLAT", D(0))
    assert position.realized == D("499.5")


def test_a_long_at_an_unchanged_price_loses_only_its_fee() -> None:
    position = average_cost([fill(1, BUY, "60000", "0.1", "6", moved="0.0999")])
    # (60000 − 60000) × 0.0999 = 0; net 0 − 6 = −6 = 0.0999 × 60000 − 6000 = 5994 − 6000
    assert net_pnl(position.realized, position.unrealized(D("60000")), position.fees, D(0)) == D("-6")
    # at 65000: 5000 × 0.0999 − 6 = 499.5 − 6 = 493.5 = 0.0999 × 65000 − 6000 = 6493.5 − 6000
    assert net_pnl(position.realized, position.unrealized(D("65000")), position.fees, D(0)) == D("493.5")


def test_a_fill_without_a_moved_quantity_moves_the_position_by_its_qty() -> None:
    assert average_cost([fill(1, BUY, "100", "0.3")]).quantity == D("0.3")


def test_a_second_buy_moves_the_average_entry_to_the_cost_of_the_whole_position() -> None:
    position = average_cost(LONG_FILLS[:2])
    # (0.0999 × 60000 + 0.04995 × 63000) / 0.14985 = (5994 + 3146.85) / 0.14985 = 9140.85 / 0.14985 = 61000
    assert position.average_entry_price == D("61000")
    # 0.0999 + 0.04995 = 0.14985
    assert position.quantity == D("0.14985")
    assert position.side == "LONG"


def test_a_partial_sell_realizes_price_minus_average_and_keeps_the_average() -> None:
    position = average_cost(LONG_FILLS)
    # (64000 − 61000) × 0.06 = 180
    assert [result.realized for result in position.fills] == [D(0), D(0), D("180")]
    assert position.realized == D("180")
    # 0.14985 − 0.06 = 0.08985
    assert position.quantity == D("0.08985")
    assert position.average_entry_price == D("61000")


def test_unrealized_of_a_long_is_last_minus_average_times_quantity() -> None:
    # (65000 − 61000) × 0.08985 = 359.4
    assert average_cost(LONG_FILLS).unrealized(D("65000")) == D("359.4")


def test_fees_are_a_total_of_their_own_not_part_of_the_average() -> None:
    position = average_cost(LONG_FILLS)
    # 6 + 3.15 + 3.84 = 12.99, and the average stays 61000
    assert position.fees == D("12.99")
    assert position.average_entry_price == D("61000")


def test_a_short_covered_in_two_fills_realizes_average_minus_price_on_the_quantity_received() -> None:
    position = average_cost(SHORT_FILLS)
    # (3000 − 2800) × 0.3996 = 79.92; (3000 − 2900) × 0.5994 = 59.94; 79.92 + 59.94 = 139.86
    assert [result.realized for result in position.fills] == [D(0), D("79.92"), D("59.94")]
    assert position.realized == D("139.86")


def test_a_short_covered_by_its_gross_quantity_keeps_the_fee_dust_as_a_short() -> None:
    position = average_cost(SHORT_FILLS)
    # −1 + 0.3996 + 0.5994 = −0.001: the ETH the wallet still owes, at the 3000 average
    assert (position.quantity, position.side, position.average_entry_price) == (D("-0.001"), "SHORT", D("3000"))
    # (3000 − 2900) × 0.001 = 0.1
    assert position.unrealized(D("2900")) == D("0.1")


def test_an_open_short_has_a_negative_quantity_and_gains_when_the_price_falls() -> None:
    position = average_cost(SHORT_FILLS[:2])
    # −1 + 0.3996 = −0.6004
    assert position.quantity == D("-0.6004")
    assert position.side == "SHORT"
    # (3000 − 2700) × 0.6004 = 180.12
    assert position.unrealized(D("2700")) == D("180.12")


def test_a_fill_that_crosses_zero_closes_at_the_average_and_opens_the_rest_at_its_price() -> None:
    position = average_cost([fill(1, BUY, "100", "0.1"), fill(2, SELL, "120", "0.3")])
    # closes 0.1: (120 − 100) × 0.1 = 2; the other 0.2 opens a short at 120
    assert position.realized == D("2")
    assert position.quantity == D("-0.2")
    assert position.average_entry_price == D("120")


def test_a_buy_that_crosses_zero_opens_a_long_with_what_it_received_beyond_the_short() -> None:
    position = average_cost([fill(1, SELL, "100", "0.1"), fill(2, BUY, "90", "0.3", moved="0.2997")])
    # closes 0.1: (100 − 90) × 0.1 = 1; 0.2997 − 0.1 = 0.1997 opens a long at 90
    assert position.realized == D("1")
    assert (position.quantity, position.average_entry_price) == (D("0.1997"), D("90"))


def test_fills_before_since_move_the_position_but_are_not_totalled() -> None:
    fills = [fill(1, BUY, "100", "1", "0.1", counted=False), fill(2, SELL, "110", "0.5", "0.055")]
    position = average_cost(fills)
    # realized (110 − 100) × 0.5 = 5 from the average of the uncounted buy; fees only 0.055
    assert position.realized == D("5")
    assert position.fees == D("0.055")
    assert [result.fill.trade_id for result in position.fills] == [2]


def test_a_base_commission_is_valued_at_the_fill_price_times_the_quote_price() -> None:
    # 0.0001 ETH × 0.05 BTC × 60000 USDT = 0.3
    assert fee_value(D("0.0001"), "ETH", "ETH", D("0.05"), D("60000")) == D("0.3")
    # 0.00005 BTC (the quote) × 60000 = 3
    assert fee_value(D("0.00005"), "BTC", "ETH", D("0.05"), D("60000")) == D("3")


def test_interest_is_valued_at_each_assets_last_price_and_the_valuation_asset_exactly() -> None:
    # 0.000008 ETH × 2900 + 0.5 USDT × 1 = 0.0232 + 0.5 = 0.5232
    assert interest_value({"ETH": D("0.000008"), "USDT": D("0.5")}, {"ETH": D("2900"), "USDT": D(1)}) == D("0.5232")


def test_the_worked_example_nets_realized_plus_unrealized_minus_fees_and_interest() -> None:
    long, short = average_cost(LONG_FILLS), average_cost(SHORT_FILLS)
    realized = long.realized + short.realized  # 180 + 139.86 = 319.86
    unrealized = long.unrealized(D("65000")) + short.unrealized(D("2900"))  # 359.4 + 0.1 = 359.5
    fees = long.fees + short.fees  # 12.99 + 5.86 = 18.85
    # 319.86 + 359.5 − 18.85 − 0.0232 = 660.4868
    assert net_pnl(realized, unrealized, fees, D("0.0232")) == D("660.4868")


def test_report_figures_round_half_to_even_at_the_valuation_places() -> None:
    # 9150 / 0.15 is exact, but 6100 / 0.09 = 67777.777…; the half cases go to the even digit
    assert report_figure(D("6100") / D("0.09"), 8) == "67777.77777778"
    assert report_figure(D("0.000000125"), 8) == "0.00000012"
    assert report_figure(D("0.000000135"), 8) == "0.00000014"
    assert report_figure(D("-0.000000001"), 8) == "0.00000000"
