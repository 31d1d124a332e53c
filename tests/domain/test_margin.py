"""Binance Margin's risk arithmetic (DESIGN §4) and valuation prices (DESIGN §5), with hand-worked numbers.

Defaults used throughout: cross 3x (margin call 1.3, liquidation 1.1, pre-liquidation margin 0.05,
transfer-out 2); USDT daily rate 0.00024; BTC daily rate 0.000048; BTC/USDT 60000; 8 places.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from marginctl.domain.errors import InvalidAmount
from marginctl.domain.margin import (
    AssetBalance,
    MarginRules,
    hourly_interest,
    liquidation_price,
    margin_level,
    margin_level_status,
    max_borrowable,
    max_transferable,
    value_wallet,
)
from marginctl.domain.money import format_ratio
from marginctl.domain.prices import parse_price, valuation_prices

CROSS_3X = MarginRules(
    leverage=3,
    transfer_out_level=Decimal(2),
    margin_call_level=Decimal("1.3"),
    liquidation_level=Decimal("1.1"),
    pre_liquidation_margin=Decimal("0.05"),
    liquidation_fee_rate=Decimal("0.02"),
)
CROSS_5X = MarginRules(
    leverage=5,
    transfer_out_level=Decimal(2),
    margin_call_level=Decimal("1.16"),
    liquidation_level=Decimal("1.1"),
    pre_liquidation_margin=Decimal("0.05"),
    liquidation_fee_rate=Decimal("0.02"),
)
ISOLATED_10X = MarginRules(
    leverage=10,
    transfer_out_level=Decimal(2),
    margin_call_level=Decimal("1.08"),
    liquidation_level=Decimal("1.05"),
    pre_liquidation_margin=Decimal("0.05"),
    liquidation_fee_rate=Decimal("0.02"),
)

PRICES = {"USDT": Decimal(1), "BTC": Decimal(60000)}
NO_HAIRCUT: dict[str, Decimal] = {}
USDT_DAILY = Decimal("0.00024")
BTC_DAILY = Decimal("0.000048")
USDT_LIMIT = Decimal(1000000)
USDT_POOL = Decimal(100000000)
BTC_LIMIT = Decimal(100)
BTC_POOL = Decimal(10000)


def usdt(free: str = "0", borrowed: str = "0", interest: str = "0", locked: str = "0") -> AssetBalance:
    return AssetBalance("USDT", Decimal(free), Decimal(locked), Decimal(borrowed), Decimal(interest))


def btc(free: str = "0", borrowed: str = "0", interest: str = "0", locked: str = "0") -> AssetBalance:
    return AssetBalance("BTC", Decimal(free), Decimal(locked), Decimal(borrowed), Decimal(interest))


# --- rules ---------------------------------------------------------------------------------------


def test_initial_level_is_leverage_over_leverage_minus_one() -> None:
    assert CROSS_3X.initial_level == Decimal("1.5")  # 3 / 2
    assert CROSS_5X.initial_level == Decimal("1.25")  # 5 / 4
    assert format_ratio(ISOLATED_10X.initial_level) == "1.11111111"  # 10 / 9 = 1.111…


def test_net_asset_is_free_plus_locked_minus_borrowed_minus_interest() -> None:
    # 1500 + 100 − 500 − 0.005 = 1099.995
    assert usdt(free="1500", locked="100", borrowed="500", interest="0.005").net_asset == Decimal("1099.995")


# --- valuation -----------------------------------------------------------------------------------


def test_value_wallet_counts_free_and_locked_and_borrowed_plus_interest() -> None:
    valuation = value_wallet([btc(free="0.05", locked="0.05"), usdt(borrowed="1000", interest="0.01")], PRICES, {})
    # assets: (0.05 + 0.05) × 60000 = 6000; liability: (1000 + 0.01) × 1 = 1000.01
    assert valuation.total_asset_value == Decimal(6000)
    assert valuation.collateral_value == Decimal(6000)
    assert valuation.liability_value == Decimal("1000.01")
    # net asset = 6000 − 1000.01 = 4999.99
    assert valuation.net_asset_value == Decimal("4999.99")
    assert valuation.unpriced == ()


def test_value_wallet_lists_an_unpriced_asset_instead_of_valuing_it() -> None:
    eth = AssetBalance("ETH", free=Decimal(1))
    empty_bnb = AssetBalance("BNB")
    valuation = value_wallet([usdt(free="100"), eth, empty_bnb], PRICES, {})
    assert valuation.total_asset_value == Decimal(100)
    # BNB is neither held nor owed, so its missing price does not matter.
    assert valuation.unpriced == ("ETH",)


def test_margin_level_is_none_without_liability() -> None:
    assert margin_level(Decimal(1000), Decimal(0)) is None
    assert margin_level_status(None, CROSS_3X) == "EXCESSIVE"


# --- 1000 USDT collateral, no debt (cross 3x) -------------------------------------------------


def test_max_borrowable_usdt_on_1000_usdt_collateral_is_2000() -> None:
    valuation = value_wallet([usdt(free="1000")], PRICES, NO_HAIRCUT)
    # (3 − 1) × (1000 − 0) − 0 = 2000
    assert max_borrowable(valuation, CROSS_3X, Decimal(1), 8, USDT_LIMIT, USDT_POOL) == Decimal(2000)


def test_max_borrowable_btc_on_1000_usdt_collateral_rounds_down() -> None:
    valuation = value_wallet([usdt(free="1000")], PRICES, NO_HAIRCUT)
    # 2000 USDT / 60000 = 0.0333333333… BTC → 0.03333333 (rounded down to 8 places)
    borrowable = max_borrowable(valuation, CROSS_3X, Decimal(60000), 8, BTC_LIMIT, BTC_POOL)
    assert borrowable == Decimal("0.03333333")


def test_max_borrowable_is_capped_by_the_borrow_limit_and_the_pool() -> None:
    valuation = value_wallet([usdt(free="1000")], PRICES, NO_HAIRCUT)
    # min(2000, 500 left of the limit, pool 100000000) = 500
    assert max_borrowable(valuation, CROSS_3X, Decimal(1), 8, Decimal(500), USDT_POOL) == Decimal(500)
    # min(2000, limit 1000000, pool holds 300) = 300
    assert max_borrowable(valuation, CROSS_3X, Decimal(1), 8, USDT_LIMIT, Decimal(300)) == Decimal(300)


def test_max_borrowable_is_never_below_zero() -> None:
    # 1100 USDT held against 1000 owed: 2 × (1100 − 1000) − 1000 = −800 → 0
    valuation = value_wallet([usdt(free="1100", borrowed="1000")], PRICES, NO_HAIRCUT)
    assert max_borrowable(valuation, CROSS_3X, Decimal(1), 8, USDT_LIMIT, USDT_POOL) == 0


# --- hourly interest ----------------------------------------------------------------------------


def test_hourly_interest_on_500_usdt() -> None:
    # 500 × 0.00024 / 24 = 0.12 / 24 = 0.005
    assert hourly_interest(Decimal(500), USDT_DAILY, 8) == Decimal("0.005")


def test_hourly_interest_rounds_up_binance_example() -> None:
    # 45.3313 × 0.00013233 = 0.005998690929; / 24 = 0.000249945455375 → up to 0.00024995
    assert hourly_interest(Decimal("45.3313"), Decimal("0.00013233"), 8) == Decimal("0.00024995")


def test_hourly_interest_on_1200_usdt() -> None:
    # 1200 × 0.00024 / 24 = 0.288 / 24 = 0.012
    assert hourly_interest(Decimal(1200), USDT_DAILY, 8) == Decimal("0.012")


def test_hourly_interest_on_a_hundredth_of_a_btc_is_exact() -> None:
    # 0.01 × 0.000048 / 24 = 0.00000048 / 24 = 0.00000002 exactly (no rounding needed)
    assert hourly_interest(Decimal("0.01"), BTC_DAILY, 8) == Decimal("0.00000002")


def test_hourly_interest_on_a_tiny_principal_is_never_zero() -> None:
    # 0.001 × 0.000048 / 24 = 0.000000002 → rounded up to one unit, 0.00000001
    assert hourly_interest(Decimal("0.001"), BTC_DAILY, 8) == Decimal("0.00000001")


# --- 1500 USDT held, 500 borrowed + 0.005 interest (cross 3x) -----------------------------------

DEBT_WALLET = [usdt(free="1500", borrowed="500", interest="0.005")]


def test_margin_level_with_interest_in_the_liability() -> None:
    valuation = value_wallet(DEBT_WALLET, PRICES, NO_HAIRCUT)
    level = margin_level(valuation.total_asset_value, valuation.liability_value)
    assert level is not None
    # 1500 / 500.005 = 3 − 0.015 / 500.005 = 2.99997000029… → shown rounded down
    assert format_ratio(level) == "2.99997000"
    assert margin_level_status(level, CROSS_3X) == "EXCESSIVE"


def test_max_borrowable_with_existing_debt() -> None:
    valuation = value_wallet(DEBT_WALLET, PRICES, NO_HAIRCUT)
    # 2 × (1500 − 500.005) − 500.005 = 1999.99 − 500.005 = 1499.985
    assert max_borrowable(valuation, CROSS_3X, Decimal(1), 8, USDT_LIMIT, USDT_POOL) == Decimal("1499.985")


def test_max_borrowable_brings_the_level_to_the_initial_level() -> None:
    # After borrowing 1499.985: assets 1500 + 1499.985 = 2999.985; liability 500.005 + 1499.985 = 1999.99;
    # 2999.985 / 1999.99 = 1.5 exactly (1999.99 × 1.5 = 2999.985).
    assert margin_level(Decimal("2999.985"), Decimal("1999.99")) == Decimal("1.5")


def test_max_transferable_keeps_the_level_at_2() -> None:
    valuation = value_wallet(DEBT_WALLET, PRICES, NO_HAIRCUT)
    # (1500 − x) / 500.005 ≥ 2  ⇒  x ≤ 1500 − 1000.01 = 499.99
    moved = max_transferable(DEBT_WALLET[0], valuation, CROSS_3X, Decimal(1), Decimal(1), 8)
    assert moved == Decimal("499.99")
    # What stays: 1000.01 / 500.005 = 2 exactly, so the transfer is allowed (≥).
    assert margin_level(Decimal("1000.01"), Decimal("500.005")) == Decimal(2)


def test_max_transferable_without_debt_is_the_whole_free_balance() -> None:
    balance = usdt(free="1000", locked="50")
    valuation = value_wallet([balance], PRICES, NO_HAIRCUT)
    # No liability: everything free may leave; locked funds stay with their order.
    assert max_transferable(balance, valuation, CROSS_3X, Decimal(1), Decimal(1), 8) == Decimal(1000)


def test_max_transferable_is_zero_below_the_transfer_out_level() -> None:
    # 1500 / 1000 = 1.5 < 2: (1500 − 2 × 1000) / 1 = −500 → nothing may leave
    balance = usdt(free="1500", borrowed="1000")
    valuation = value_wallet([balance], PRICES, NO_HAIRCUT)
    assert max_transferable(balance, valuation, CROSS_3X, Decimal(1), Decimal(1), 8) == 0


# --- isolated 10x -----------------------------------------------------------------------------


def test_isolated_10x_max_borrowable_is_nine_times_collateral() -> None:
    valuation = value_wallet([usdt(free="100")], PRICES, NO_HAIRCUT)
    # (10 − 1) × 100 − 0 = 900
    assert max_borrowable(valuation, ISOLATED_10X, Decimal(1), 8, USDT_LIMIT, USDT_POOL) == Decimal(900)


def test_isolated_10x_level_after_borrowing_the_max() -> None:
    # First hour's interest on 900 USDT: 900 × 0.00024 / 24 = 0.216 / 24 = 0.009
    assert hourly_interest(Decimal(900), USDT_DAILY, 8) == Decimal("0.009")
    valuation = value_wallet([usdt(free="1000", borrowed="900", interest="0.009")], PRICES, NO_HAIRCUT)
    level = margin_level(valuation.total_asset_value, valuation.liability_value)
    assert level is not None
    # 1000 / 900.009: 900.009 × 1.1111 = 999.9999999, so the level is 1.1111000001… → 1.11110000,
    # a hair below 10/9 = 1.1111… because of the first hour's interest.
    assert format_ratio(level) == "1.11110000"
    # 1.08 < 1.1111 ≤ 2
    assert margin_level_status(level, ISOLATED_10X) == "NORMAL"


# --- cross 5x ---------------------------------------------------------------------------------


def test_cross_5x_max_borrowable_is_four_times_collateral() -> None:
    valuation = value_wallet([usdt(free="1000")], PRICES, NO_HAIRCUT)
    # (5 − 1) × 1000 − 0 = 4000
    assert max_borrowable(valuation, CROSS_5X, Decimal(1), 8, USDT_LIMIT, USDT_POOL) == Decimal(4000)


def test_cross_5x_level_after_borrowing_the_max() -> None:
    # Before interest: 5000 / 4000 = 1.25 = 5/4, the initial level.
    assert margin_level(Decimal(5000), Decimal(4000)) == Decimal("1.25")
    # First hour: 4000 × 0.00024 / 24 = 0.96 / 24 = 0.04
    assert hourly_interest(Decimal(4000), USDT_DAILY, 8) == Decimal("0.04")
    valuation = value_wallet([usdt(free="5000", borrowed="4000", interest="0.04")], PRICES, NO_HAIRCUT)
    level = margin_level(valuation.total_asset_value, valuation.liability_value)
    assert level is not None
    # 5000 / 4000.04 = 1.25 / 1.00001 = 1.25 − 0.0000125 + 0.000000000125… = 1.2499875001… → 1.24998750
    assert format_ratio(level) == "1.24998750"
    # 1.16 < 1.24998750 ≤ 2
    assert margin_level_status(level, CROSS_5X) == "NORMAL"


@pytest.mark.parametrize(
    ("level", "status"),
    [
        ("1.17", "NORMAL"),  # > 1.16
        ("1.16", "MARGIN_CALL"),  # ≤ 1.16 and > 1.1 + 0.05
        ("1.1500001", "MARGIN_CALL"),
        ("1.15", "PRE_LIQUIDATION"),  # ≤ 1.15 and > 1.1
        ("1.1", "FORCE_LIQUIDATION"),  # ≤ 1.1
    ],
)
def test_cross_5x_status_bands(level: str, status: str) -> None:
    assert margin_level_status(Decimal(level), CROSS_5X) == status


# --- collateral haircut -----------------------------------------------------------------------

HAIRCUT = {"BTC": Decimal("0.9")}
# 0.1 BTC collateral, then 2000 USDT borrowed and still sitting in the wallet.
HAIRCUT_WALLET = [btc(free="0.1"), usdt(free="2000", borrowed="2000")]


def test_haircut_lowers_collateral_but_not_asset_value() -> None:
    valuation = value_wallet(HAIRCUT_WALLET, PRICES, HAIRCUT)
    # asset value: 0.1 × 60000 + 2000 = 6000 + 2000 = 8000
    assert valuation.total_asset_value == Decimal(8000)
    # collateral: 6000 × 0.9 + 2000 × 1 = 5400 + 2000 = 7400
    assert valuation.collateral_value == Decimal(7400)
    assert valuation.liability_value == Decimal(2000)
    # margin level 8000 / 2000 = 4; collateral margin level 7400 / 2000 = 3.7
    assert margin_level(valuation.total_asset_value, valuation.liability_value) == Decimal(4)
    assert margin_level(valuation.collateral_value, valuation.liability_value) == Decimal("3.7")


def test_haircut_reduces_max_borrowable() -> None:
    valuation = value_wallet(HAIRCUT_WALLET, PRICES, HAIRCUT)
    # 2 × (7400 − 2000) − 2000 = 10800 − 2000 = 8800  (without the haircut: 2 × 6000 − 2000 = 10000)
    # Check: (7400 + 8800) / (2000 + 8800) = 16200 / 10800 = 1.5
    assert max_borrowable(valuation, CROSS_3X, Decimal(1), 8, USDT_LIMIT, USDT_POOL) == Decimal(8800)


def test_haircut_limits_btc_transfer_out() -> None:
    valuation = value_wallet(HAIRCUT_WALLET, PRICES, HAIRCUT)
    # (7400 − x × 60000 × 0.9) / 2000 ≥ 2  ⇒  x ≤ (7400 − 4000) / 54000 = 3400 / 54000 = 0.0629629629… → 0.06296296
    moved = max_transferable(HAIRCUT_WALLET[0], valuation, CROSS_3X, Decimal(60000), Decimal("0.9"), 8)
    assert moved == Decimal("0.06296296")


def test_transfer_out_is_capped_by_the_free_balance() -> None:
    valuation = value_wallet(HAIRCUT_WALLET, PRICES, HAIRCUT)
    # The level allows (7400 − 4000) / 1 = 3400 USDT out, but only 2000 USDT is free.
    moved = max_transferable(HAIRCUT_WALLET[1], valuation, CROSS_3X, Decimal(1), Decimal(1), 8)
    assert moved == Decimal(2000)


# --- liquidation price ------------------------------------------------------------------------


def test_liquidation_price_of_btc_collateral_against_a_usdt_loan() -> None:
    # 0.1 BTC held, 0 USDT free, 4000 USDT owed: 0 + 0.1·p = 1.1 × (4000 + 0·p) ⇒ p = 4400 / 0.1 = 44000
    wallet = [btc(free="0.1"), usdt(borrowed="4000")]
    assert liquidation_price("BTC", wallet, PRICES, Decimal("1.1")) == Decimal(44000)


def test_liquidation_price_counts_other_assets_held() -> None:
    # 0.1 BTC and 1000 USDT held, 5000 USDT owed: 1000 + 0.1·p = 1.1 × 5000 ⇒ p = (5500 − 1000) / 0.1 = 45000
    wallet = [btc(free="0.1"), usdt(free="1000", borrowed="5000")]
    assert liquidation_price("BTC", wallet, PRICES, Decimal("1.1")) == Decimal(45000)


def test_liquidation_price_of_a_btc_short() -> None:
    # 1599.4 USDT held, 0.01 BTC borrowed + 0.00000002 interest owed:
    # 1599.4 + 0·p = 1.1 × (0 + 0.01000002·p)  ⇒  p = 1599.4 / 0.011000022
    # 1599.4 / 0.011 = 145400, so p = 145400 / 1.000002
    #   = 145400 × (1 − 0.000002 + 0.000000000004 − …) = 145400 − 0.2908 + 0.0000005816 − 0.0000000000011632…
    #   = 145399.7092005815988… → 8 places: 145399.70920058 (the 9th digit is 1)
    wallet = [usdt(free="1599.4"), btc(borrowed="0.01", interest="0.00000002")]
    assert str(liquidation_price("BTC", wallet, PRICES, Decimal("1.1"))) == "145399.70920058"


def test_liquidation_price_is_none_without_debt() -> None:
    # 0.1·p = 1.1 × 0 has no positive solution.
    assert liquidation_price("BTC", [btc(free="0.1")], PRICES, Decimal("1.1")) is None


# --- status bands (cross 3x) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "status"),
    [
        (None, "EXCESSIVE"),  # no liability
        ("2.0000001", "EXCESSIVE"),  # > 2
        ("2", "NORMAL"),  # ≤ 2 and > 1.3
        ("1.3000001", "NORMAL"),
        ("1.3", "MARGIN_CALL"),  # ≤ 1.3 and > 1.1 + 0.05 = 1.15
        ("1.1500001", "MARGIN_CALL"),
        ("1.15", "PRE_LIQUIDATION"),  # 1.15 is not > 1.15; it is > 1.1
        ("1.1000001", "PRE_LIQUIDATION"),
        ("1.1", "FORCE_LIQUIDATION"),  # ≤ 1.1
        ("0.9", "FORCE_LIQUIDATION"),
    ],
)
def test_cross_3x_status_bands(level: str | None, status: str) -> None:
    assert margin_level_status(None if level is None else Decimal(level), CROSS_3X) == status


@pytest.mark.parametrize(
    ("level", "status"),
    [
        ("1.11", "NORMAL"),  # > 1.10: above both the margin call (1.08) and pre-liquidation (1.05 + 0.05)
        ("1.08", "PRE_LIQUIDATION"),  # MARGIN_CALL needs 1.10 < level ≤ 1.08 (empty); 1.05 < 1.08 ≤ 1.10
        ("1.06", "PRE_LIQUIDATION"),  # 1.05 < 1.06 ≤ 1.10
        ("1.05", "FORCE_LIQUIDATION"),  # ≤ 1.05
    ],
)
def test_isolated_10x_status_bands(level: str, status: str) -> None:
    # Liquidation 1.05 + pre-liquidation margin 0.05 = 1.10 lies above the margin-call level 1.08,
    # so this mode has no MARGIN_CALL band; levels in (1.08, 1.10] are left out as DESIGN §4 gives them two bands.
    assert margin_level_status(Decimal(level), ISOLATED_10X) == status


# --- valuation prices -------------------------------------------------------------------------


def test_valuation_prices_reach_eth_through_btc() -> None:
    # ETH/BTC listed first, so the one-hop route must not depend on dict order.
    prices = valuation_prices({"ETH/BTC": Decimal("0.05"), "BTC/USDT": Decimal(60000)}, "USDT")
    # ETH = 0.05 BTC × 60000 USDT/BTC = 3000 USDT
    assert prices == {"USDT": Decimal(1), "BTC": Decimal(60000), "ETH": Decimal(3000)}


def test_valuation_prices_prefer_the_direct_pair() -> None:
    pair_prices = {"ETH/BTC": Decimal("0.05"), "BTC/USDT": Decimal(60000), "ETH/USDT": Decimal(3100)}
    # ETH/USDT 3100 is used, not 0.05 × 60000 = 3000.
    assert valuation_prices(pair_prices, "USDT")["ETH"] == Decimal(3100)


def test_valuation_prices_leave_an_unreachable_asset_unpriced() -> None:
    prices = valuation_prices({"BTC/USDT": Decimal(60000), "XRP/EUR": Decimal("0.5")}, "USDT")
    assert "XRP" not in prices


# --- prices typed by users --------------------------------------------------------------------


def test_parse_price_accepts_a_price_on_the_tick() -> None:
    assert parse_price("60000.01", Decimal("0.01")) == Decimal("60000.01")
    assert parse_price("100.05", Decimal("0.05")) == Decimal("100.05")
    assert parse_price("60010", Decimal(10)) == Decimal(60010)


@pytest.mark.parametrize(
    ("text", "tick"),
    [
        ("60000.015", "0.01"),  # a third decimal on a 0.01 tick
        ("100.03", "0.05"),  # 100.03 / 0.05 = 2000.6, not a whole number of ticks
        ("60005", "10"),  # 60005 / 10 = 6000.5
    ],
)
def test_parse_price_refuses_a_price_off_the_tick(text: str, tick: str) -> None:
    with pytest.raises(InvalidAmount):
        parse_price(text, Decimal(tick))


@pytest.mark.parametrize("text", ["0", "-1", "abc", "1e5"])
def test_parse_price_refuses_a_malformed_price(text: str) -> None:
    with pytest.raises(InvalidAmount):
        parse_price(text, Decimal("0.01"))
