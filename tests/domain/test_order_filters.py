"""Order filters (DESIGN §5): their errors quote the quantity as typed and show sizes in plain notation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from marginctl.domain.errors import InvalidAmount, MinNotional
from marginctl.domain.orders import check_min_notional, parse_quantity


def test_parse_quantity_rounds_down_to_the_step() -> None:
    # 0.123456 on a 0.001 step → 0.123
    assert parse_quantity("0.123456", 8, Decimal("0.001")) == Decimal("0.123")


@pytest.mark.parametrize("typed", ["0.0000001", "0.00000010", "0.000009"])
def test_a_quantity_below_the_step_is_quoted_as_typed(typed: str) -> None:
    # str(Decimal("0.0000001")) is "1E-7"; str(Decimal("0.00000010")) is "1.0E-7".
    with pytest.raises(InvalidAmount) as refused:
        parse_quantity(typed, 8, Decimal("0.00001"))
    assert refused.value.message == f"quantity {typed} is below the pair's step size 0.00001"


def test_a_step_size_with_seven_places_is_shown_plain() -> None:
    with pytest.raises(InvalidAmount) as refused:
        parse_quantity("0.0000001", 8, Decimal("0.0000002"))
    assert refused.value.message == "quantity 0.0000001 is below the pair's step size 0.0000002"


def test_a_tiny_minimum_notional_is_shown_plain() -> None:
    # 0.00001 × 0.001 = 0.00000001, below 0.0000001 (str() would print 1E-8 and 1E-7)
    with pytest.raises(MinNotional) as refused:
        check_min_notional(Decimal("0.00001"), Decimal("0.001"), Decimal("0.0000001"))
    assert refused.value.message == "order value 0.00000001 is below the pair's minimum notional 0.0000001"


def test_close_quantity_covers_the_debt_after_the_fee_taken_in_base() -> None:
    from marginctl.domain.orders import close_quantity

    # 0.02 / 0.999 = 0.020020…, up to the step: 0.02003; fee 0.02003 × 0.001 = 0.00002003 → 0.02000997 ≥ 0.02.
    # One step less, 0.02002, receives 0.02002 − 0.00002002 = 0.01999998 < 0.02.
    assert close_quantity(Decimal("0.02"), Decimal("0.001"), Decimal("0.00001"), 8) == Decimal("0.02003")
    assert close_quantity(Decimal("0"), Decimal("0.001"), Decimal("0.00001"), 8) == 0
