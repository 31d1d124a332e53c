"""Pure rules for fills (issue 13): when an order takes the book, min notional for --close, the interest an
order's loan was charged by its cancel."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from marginctl.domain import orders


def test_a_buy_limit_above_the_last_price_is_marketable_and_one_below_rests() -> None:
    assert orders.marketable_on_placing(orders.LIMIT, orders.BUY, Decimal(60000), Decimal(54000))
    assert not orders.marketable_on_placing(orders.LIMIT, orders.BUY, Decimal(50000), Decimal(54000))


def test_a_stop_limit_is_never_marketable_when_placed() -> None:
    assert not orders.marketable_on_placing(orders.STOP_LOSS_LIMIT, orders.SELL, Decimal(50000), Decimal(54000))


def test_a_quantity_below_the_minimum_notional_is_raised_to_the_smallest_step_that_meets_it() -> None:
    # 0.00006 × 60000 = 3.6 < 5; 5 / 60000 = 0.0000833…, up to the step 0.00001: 0.00009
    raised = orders.with_min_notional(Decimal("0.00006"), Decimal(60000), Decimal(5), Decimal("0.00001"))
    assert raised == Decimal("0.00009")


def test_a_quantity_meeting_the_minimum_notional_is_kept() -> None:
    kept = orders.with_min_notional(Decimal("0.001"), Decimal(60000), Decimal(5), Decimal("0.00001"))
    assert kept == Decimal("0.001")


def test_an_order_loan_cancelled_in_its_hour_was_charged_one_hour() -> None:
    placed = datetime(2026, 1, 5, 10, 10, tzinfo=UTC)
    cancelled = datetime(2026, 1, 5, 10, 59, 59, tzinfo=UTC)
    # 950 × 0.00048 / 24 = 0.019
    assert orders.interest_on_order_loan(Decimal(950), lambda _: Decimal("0.00048"), 8, placed, cancelled) == Decimal(
        "0.019"
    )


def test_an_order_loan_is_charged_each_hour_boundary_up_to_and_at_the_cancel() -> None:
    placed = datetime(2026, 1, 5, 10, 10, tzinfo=UTC)
    cancelled = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    # ON_BORROW + 11:00 + 12:00 (at the cancel time counts) = 3 × 0.019 = 0.057
    assert orders.interest_on_order_loan(Decimal(950), lambda _: Decimal("0.00048"), 8, placed, cancelled) == Decimal(
        "0.057"
    )


def test_an_order_placed_on_the_hour_is_not_charged_that_hour_again() -> None:
    placed = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    cancelled = datetime(2026, 1, 5, 10, 30, tzinfo=UTC)
    # the boundary 10:00 is not after the order was placed: only ON_BORROW
    assert orders.interest_on_order_loan(Decimal(950), lambda _: Decimal("0.00048"), 8, placed, cancelled) == Decimal(
        "0.019"
    )


def test_an_order_loan_is_charged_each_hour_at_the_rate_in_force_then() -> None:
    placed = datetime(2026, 1, 5, 10, 10, tzinfo=UTC)
    cancelled = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    change = datetime(2026, 1, 5, 10, 30, tzinfo=UTC)

    def rate_at(moment: datetime) -> Decimal:
        return Decimal("0.00048") if moment < change else Decimal("0.00096")

    # ON_BORROW at 10:10: 950 × 0.00048 / 24 = 0.019; 11:00 and 12:00 at the new rate: 950 × 0.00096 / 24 = 0.038
    # each; 0.019 + 2 × 0.038 = 0.095
    assert orders.interest_on_order_loan(Decimal(950), rate_at, 8, placed, cancelled) == Decimal("0.095")
