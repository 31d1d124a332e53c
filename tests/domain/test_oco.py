"""OCO price rules and the list's one hold (domain/oco.py), on plain numbers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from marginctl.domain import oco
from marginctl.domain.errors import InvalidOcoPrices, MinNotional, WouldMatchImmediately, WouldTriggerImmediately

D = Decimal


def test_a_sell_needs_its_limit_above_its_stop() -> None:
    oco.check_prices("SELL", D("66000"), D("58000"))
    with pytest.raises(InvalidOcoPrices):
        oco.check_prices("SELL", D("58000"), D("58000"))


def test_a_buy_needs_its_limit_below_its_stop() -> None:
    oco.check_prices("BUY", D("55000"), D("65000"))
    with pytest.raises(InvalidOcoPrices):
        oco.check_prices("BUY", D("65000.01"), D("65000"))


@pytest.mark.parametrize(
    ("side", "price", "stop", "error"),
    [
        ("SELL", "60000", "58000", WouldMatchImmediately),  # limit must be > last 60000
        ("SELL", "66000", "60000", WouldTriggerImmediately),  # stop must be < last
        ("BUY", "60000", "65000", WouldMatchImmediately),  # limit must be < last
        ("BUY", "55000", "60000", WouldTriggerImmediately),  # stop must be > last
    ],
)
def test_binances_rule_against_the_last_price(side: str, price: str, stop: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        oco.check_against_last(side, D(price), D(stop), D("60000"))


def test_prices_on_the_right_sides_of_the_last_price_pass() -> None:
    oco.check_against_last("SELL", D("60000.01"), D("59999.99"), D("60000"))
    oco.check_against_last("BUY", D("59999.99"), D("60000.01"), D("60000"))


def test_each_leg_must_reach_the_minimum_notional_at_its_own_price() -> None:
    oco.check_notional(D("0.0001"), D("66000"), D("50000"), D("5"))  # 6.6 and 5.0
    with pytest.raises(MinNotional):
        oco.check_notional(D("0.0001"), D("66000"), D("49999.99"), D("5"))  # 4.999999 < 5


def test_a_sell_holds_its_quantity_and_a_buy_the_dearer_legs_quote_rounded_up() -> None:
    assert oco.oco_hold("SELL", D("0.01"), D("66000"), D("57900"), 8) == D("0.01")
    assert oco.oco_hold("BUY", D("0.01002"), D("55000"), D("65100"), 8) == D("652.302")  # 0.01002 × 65100
    # 0.00003 × 33333.33 = 0.9999999 → rounded up to 2 places: 1.00
    assert oco.oco_hold("BUY", D("0.00003"), D("33333.33"), D("30000"), 2) == D("1.00")
