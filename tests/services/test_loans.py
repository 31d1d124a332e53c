"""Borrowing and repaying (issue 4, DESIGN §4): max borrowable, ON_BORROW interest, margin levels, refusals.

Every expected number is worked out by hand from DESIGN §4 with the default config (cross 3x, USDT daily
0.00024 so hourly 0.00001, BTC daily 0.000048 so hourly 0.000002, BTC/USDT 60000) unless a test sets one.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.conftest import Result, Wallet, asset_row

DAY = "2026-01-05"


def at(clock: str) -> str:
    """An instant on the test day; all within one clock hour so no PERIODIC charge is due."""
    return f"{DAY}T{clock}Z"


def refused(wallet: Wallet, *args: str, now: str) -> Result:
    """Run a command that must be refused; return its result after checking the file did not change."""
    before = wallet.fingerprint()
    result = wallet.run(*args, "--json", now=now)
    assert wallet.fingerprint() == before, f"{args} changed the wallet file although it was refused"
    assert result.out == "", "a refusal prints nothing on stdout"
    return result


def assert_audit_clean(wallet: Wallet, now: str) -> None:
    report = wallet.ok("audit", now=now)
    assert report["ok"] is True, report


def fund_cross(wallet: Wallet, asset: str = "USDT", amount: str = "1000") -> None:
    wallet.ok("deposit", asset, amount, now=at("10:00:00"))
    wallet.ok("transfer", asset, amount, "--yes", now=at("10:01:00"))


def borrow_500_usdt(wallet: Wallet) -> None:
    """The issue's worked example up to the borrow: 1000 USDT in cross, 500 USDT borrowed at 10:20."""
    fund_cross(wallet)
    wallet.ok("borrow", "USDT", "500", "--yes", now=at("10:20:00"))


# --- The worked example, step by step -------------------------------------------------------


def test_max_borrowable_is_twice_the_cross_equity_at_3x(wallet: Wallet) -> None:
    fund_cross(wallet)
    status = wallet.ok("status", now=at("10:02:00"))
    assert status["mode"] == "cross-3x"
    # (3 − 1) × 1000 − 0 = 2000 USDT
    assert asset_row(status, "USDT")["maxBorrowable"] == "2000.00000000"
    # 2000 / 60000 = 0.0333333… → down to 8 places
    assert asset_row(status, "BTC")["maxBorrowable"] == "0.03333333"
    assert status["marginLevel"] == "999"
    assert status["collateralMarginLevel"] == "999"
    assert status["marginLevelStatus"] == "EXCESSIVE"
    assert_audit_clean(wallet, at("10:02:00"))


def test_borrow_charges_the_first_hour_of_interest_at_once(wallet: Wallet) -> None:
    borrow_500_usdt(wallet)
    usdt = asset_row(wallet.ok("status", now=at("10:21:00")), "USDT")
    assert usdt["free"] == "1500.00000000"  # 1000 own + 500 borrowed
    assert usdt["borrowed"] == "500.00000000"
    assert usdt["interest"] == "0.00500000"  # ON_BORROW: 500 × 0.00024 / 24 = 0.005
    assert usdt["netAsset"] == "999.99500000"  # 1500 − 500 − 0.005
    assert_audit_clean(wallet, at("10:21:00"))


def test_margin_level_after_borrowing_500_is_excessive(wallet: Wallet) -> None:
    borrow_500_usdt(wallet)
    status = wallet.ok("status", now=at("10:21:00"))
    # 1500 / 500.005 = 2.99997000029999… → down to 8 places
    assert status["marginLevel"] == "2.99997000"
    assert status["collateralMarginLevel"] == "2.99997000"  # collateral_ratio 1: the same
    assert status["marginLevelStatus"] == "EXCESSIVE"  # > 2
    assert status["totalAssetValue"] == "1500.00000000"
    assert status["totalLiabilityValue"] == "500.00500000"
    assert status["totalNetAssetValue"] == "999.99500000"
    assert_audit_clean(wallet, at("10:21:00"))


def test_max_borrowable_after_a_borrow_counts_its_interest(wallet: Wallet) -> None:
    borrow_500_usdt(wallet)
    status = wallet.ok("status", now=at("10:21:00"))
    # 2 × (1500 − 500.005) − 500.005 = 1999.99 − 500.005 = 1499.985
    assert asset_row(status, "USDT")["maxBorrowable"] == "1499.98500000"
    # 1499.985 / 60000 = 0.02499975
    assert asset_row(status, "BTC")["maxBorrowable"] == "0.02499975"


def test_borrowing_a_hair_above_max_is_refused_and_names_the_max(wallet: Wallet) -> None:
    borrow_500_usdt(wallet)
    # the max is 1499.985 (above); one unit of the 8th place more is too much
    result = refused(wallet, "borrow", "USDT", "1499.98500001", "--yes", now=at("10:22:00"))
    assert result.code == 3
    assert result.error()["code"] == "exceeds_max_borrowable"
    assert "1499.985" in result.error()["message"]
    assert_audit_clean(wallet, at("10:22:00"))


def test_borrowing_exactly_max_is_allowed(wallet: Wallet) -> None:
    borrow_500_usdt(wallet)
    wallet.ok("borrow", "USDT", "max", "--yes", now=at("10:22:00"))
    usdt = asset_row(wallet.ok("status", now=at("10:23:00")), "USDT")
    assert usdt["borrowed"] == "1999.98500000"  # 500 + 1499.985
    # 0.005 + 1499.985 × 0.00001 = 0.005 + 0.01499985 = 0.01999985
    assert usdt["interest"] == "0.01999985"
    assert_audit_clean(wallet, at("10:23:00"))


def test_max_transferable_out_keeps_the_level_at_2(wallet: Wallet) -> None:
    borrow_500_usdt(wallet)
    status = wallet.ok("status", now=at("10:21:00"))
    # (1500 − x) / 500.005 ≥ 2 → x ≤ 1500 − 1000.01 = 499.99
    assert status["maxTransferable"] == {"USDT": "499.99000000"}


def test_transfer_out_refused_below_level_2(wallet: Wallet) -> None:
    borrow_500_usdt(wallet)
    # (1500 − 500) / 500.005 = 1.99998… < 2
    result = refused(wallet, "transfer", "USDT", "500", "--from", "cross", "--to", "spot", now=at("10:22:00"))
    assert result.code == 3
    assert result.error()["code"] == "margin_level_too_low"
    assert "499.99" in result.error()["message"]  # the issue: the message says the max transferable
    assert_audit_clean(wallet, at("10:22:00"))


def test_transfer_max_out_of_cross_moves_exactly_the_allowed_amount(wallet: Wallet) -> None:
    borrow_500_usdt(wallet)
    wallet.ok("transfer", "USDT", "max", "--from", "cross", "--to", "spot", now=at("10:22:00"))
    spot = next(doc for doc in wallet.ok("status", "--all", now=at("10:23:00")) if doc["wallet"] == "spot")
    assert asset_row(spot, "USDT")["free"] == "499.99000000"
    cross = wallet.ok("status", now=at("10:23:00"))
    assert asset_row(cross, "USDT")["free"] == "1000.01000000"  # 1500 − 499.99
    # 1000.01 / 500.005 = 2 exactly: not above 2, so NORMAL
    assert cross["marginLevel"] == "2.00000000"
    assert cross["marginLevelStatus"] == "NORMAL"
    assert cross["maxTransferable"] == {"USDT": "0.00000000"}
    assert_audit_clean(wallet, at("10:23:00"))


def test_transfer_out_one_unit_after_max_is_refused(wallet: Wallet) -> None:
    borrow_500_usdt(wallet)
    wallet.ok("transfer", "USDT", "max", "--from", "cross", "--to", "spot", now=at("10:22:00"))
    # (1000.01 − 0.00000001) / 500.005 < 2
    result = refused(wallet, "transfer", "USDT", "0.00000001", "--from", "cross", "--to", "spot", now=at("10:23:00"))
    assert result.code == 3
    assert result.error()["code"] == "margin_level_too_low"


def test_repay_pays_interest_before_principal(wallet: Wallet) -> None:
    borrow_500_usdt(wallet)
    wallet.ok("repay", "USDT", "0.004", now=at("10:30:00"))
    usdt = asset_row(wallet.ok("status", now=at("10:31:00")), "USDT")
    assert usdt["interest"] == "0.00100000"  # 0.005 − 0.004
    assert usdt["borrowed"] == "500.00000000"  # principal untouched
    assert usdt["free"] == "1499.99600000"  # 1500 − 0.004
    assert_audit_clean(wallet, at("10:31:00"))


def test_repay_all_pays_principal_and_interest_and_clears_the_level(wallet: Wallet) -> None:
    borrow_500_usdt(wallet)
    wallet.ok("repay", "USDT", "0.004", now=at("10:30:00"))
    result = wallet.ok("repay", "USDT", "all", now=at("10:35:00"))
    assert result["amount"] == "500.00100000"  # 500 principal + 0.001 interest left
    status = wallet.ok("status", now=at("10:36:00"))
    usdt = asset_row(status, "USDT")
    assert usdt["borrowed"] == "0.00000000"
    assert usdt["interest"] == "0.00000000"
    assert usdt["free"] == "999.99500000"  # 1500 − 0.004 − 500.001
    assert status["marginLevel"] == "999"
    assert status["collateralMarginLevel"] == "999"
    assert status["marginLevelStatus"] == "EXCESSIVE"
    assert status["totalLiabilityValue"] == "0.00000000"
    assert_audit_clean(wallet, at("10:36:00"))


def test_interest_history_shows_the_on_borrow_charge(wallet: Wallet) -> None:
    borrow_500_usdt(wallet)
    history = wallet.ok("interest", now=at("10:21:00"))
    assert history["total"] == 1
    (row,) = history["rows"]
    assert row["interestAccuredTime"] == at("10:20:00")
    assert row["asset"] == "USDT"
    assert row["principal"] == "500.00000000"
    assert row["interest"] == "0.00500000"  # 500 × 0.00024 / 24
    assert Decimal(row["interestRate"]) == Decimal("0.00024")  # Binance's interestRate is the daily rate
    assert row["type"] == "ON_BORROW"
    assert "isolatedSymbol" not in row
    assert isinstance(row["txId"], int)


def test_interest_history_filters_by_asset_and_time(wallet: Wallet) -> None:
    borrow_500_usdt(wallet)
    wallet.ok("borrow", "USDT", "300", "--yes", now=at("10:40:00"))
    rows = sorted(wallet.ok("interest", now=at("10:41:00"))["rows"], key=lambda row: row["interestAccuredTime"])
    assert [(row["principal"], row["interest"], row["type"]) for row in rows] == [
        ("500.00000000", "0.00500000", "ON_BORROW"),  # 500 × 0.00001
        ("300.00000000", "0.00300000", "ON_BORROW"),  # 300 × 0.00001
    ]
    assert all(row["interestRate"] == "0.00024" for row in rows)
    since = wallet.ok("interest", "--since", at("10:30:00"), now=at("10:41:00"))
    assert since["total"] == 1
    assert since["rows"][0]["principal"] == "300.00000000"
    assert wallet.ok("interest", "--asset", "BTC", now=at("10:41:00")) == {"rows": [], "total": 0}
    assert_audit_clean(wallet, at("10:41:00"))


# --- Isolated BTC/USDT, 10x ----------------------------------------------------------------------


def fund_cross_and_isolated(wallet: Wallet) -> None:
    """1000 USDT in cross and 100 USDT in the BTC/USDT isolated wallet."""
    wallet.ok("deposit", "USDT", "1100", now=at("10:00:00"))
    wallet.ok("transfer", "USDT", "1000", "--yes", now=at("10:01:00"))
    wallet.ok("transfer", "USDT", "100", "--to", "BTC/USDT", "--yes", now=at("10:02:00"))


def test_isolated_10x_lends_nine_times_its_margin(wallet: Wallet) -> None:
    fund_cross_and_isolated(wallet)
    status = wallet.ok("status", "--isolated", "BTC/USDT", now=at("10:03:00"))
    assert status["wallet"] == "BTC/USDT"
    assert status["mode"] == "isolated-10x"
    assert asset_row(status, "USDT")["maxBorrowable"] == "900.00000000"  # (10 − 1) × 100 − 0
    assert asset_row(status, "BTC")["maxBorrowable"] == "0.01500000"  # 900 / 60000


def test_isolated_borrow_of_900_leaves_level_normal(wallet: Wallet) -> None:
    fund_cross_and_isolated(wallet)
    wallet.ok("borrow", "USDT", "900", "--isolated", "BTC/USDT", "--yes", now=at("10:20:00"))
    status = wallet.ok("status", "--isolated", "BTC/USDT", now=at("10:21:00"))
    usdt = asset_row(status, "USDT")
    assert usdt["free"] == "1000.00000000"  # 100 + 900
    assert usdt["borrowed"] == "900.00000000"
    assert usdt["interest"] == "0.00900000"  # 900 × 0.00024 / 24 = 0.009
    # 1000 / 900.009 = 1.11110000011111… → "1.11110000"
    assert status["marginLevel"] == "1.11110000"
    assert status["marginLevelStatus"] == "NORMAL"  # 1.08 < 1.1111 ≤ 2
    assert status["marginCallLevel"] == "1.08"
    assert status["liquidationLevel"] == "1.05"
    # 9 × (1000 − 900.009) − 900.009 = 899.919 − 900.009 < 0 → 0
    assert usdt["maxBorrowable"] == "0.00000000"
    assert_audit_clean(wallet, at("10:21:00"))


def test_isolated_borrow_leaves_the_cross_wallet_untouched(wallet: Wallet) -> None:
    fund_cross_and_isolated(wallet)
    wallet.ok("borrow", "USDT", "900", "--isolated", "BTC/USDT", "--yes", now=at("10:20:00"))
    cross = wallet.ok("status", now=at("10:21:00"))
    usdt = asset_row(cross, "USDT")
    assert usdt["free"] == "1000.00000000"
    assert usdt["borrowed"] == "0.00000000"
    assert usdt["interest"] == "0.00000000"
    assert usdt["maxBorrowable"] == "2000.00000000"  # still 2 × 1000
    assert cross["marginLevel"] == "999"
    assert cross["totalLiabilityValue"] == "0.00000000"


def test_isolated_interest_row_names_the_isolated_symbol(wallet: Wallet) -> None:
    fund_cross_and_isolated(wallet)
    wallet.ok("borrow", "USDT", "900", "--isolated", "BTC/USDT", "--yes", now=at("10:20:00"))
    (row,) = wallet.ok("interest", now=at("10:21:00"))["rows"]
    assert row["isolatedSymbol"] == "BTCUSDT"
    assert row["principal"] == "900.00000000"
    assert row["interest"] == "0.00900000"
    assert row["type"] == "ON_BORROW"


def test_isolated_repay_all_clears_the_isolated_debt(wallet: Wallet) -> None:
    fund_cross_and_isolated(wallet)
    wallet.ok("borrow", "USDT", "900", "--isolated", "BTC/USDT", "--yes", now=at("10:20:00"))
    wallet.ok("repay", "USDT", "all", "--isolated", "BTC/USDT", now=at("10:30:00"))
    status = wallet.ok("status", "--isolated", "BTC/USDT", now=at("10:31:00"))
    usdt = asset_row(status, "USDT")
    assert usdt["free"] == "99.99100000"  # 1000 − 900.009
    assert usdt["borrowed"] == "0.00000000"
    assert usdt["interest"] == "0.00000000"
    assert status["marginLevel"] == "999"
    assert_audit_clean(wallet, at("10:31:00"))


def test_isolated_wallet_cannot_borrow_an_asset_outside_its_pair(wallet: Wallet) -> None:
    fund_cross_and_isolated(wallet)
    result = refused(wallet, "borrow", "ETH", "0.01", "--isolated", "BTC/USDT", "--yes", now=at("10:20:00"))
    assert result.code == 2


# --- Hand-worked cases of our own -------------------------------------------------------------------


def test_cross_5x_lends_four_times_the_equity(wallet: Wallet) -> None:
    wallet.with_config("[margin]\nleverage = 5\n")
    fund_cross(wallet)
    status = wallet.ok("status", now=at("10:02:00"))
    assert status["mode"] == "cross-5x"
    assert status["marginCallLevel"] == "1.16"  # DESIGN §4 table: the 5x default
    assert status["liquidationLevel"] == "1.1"
    assert asset_row(status, "USDT")["maxBorrowable"] == "4000.00000000"  # (5 − 1) × 1000
    assert asset_row(status, "BTC")["maxBorrowable"] == "0.06666666"  # 4000 / 60000 = 0.0666666…


def test_cross_5x_borrowing_the_max_leaves_level_just_below_1_25(wallet: Wallet) -> None:
    wallet.with_config("[margin]\nleverage = 5\n")
    fund_cross(wallet)
    wallet.ok("borrow", "USDT", "4000", "--yes", now=at("10:20:00"))
    status = wallet.ok("status", now=at("10:21:00"))
    usdt = asset_row(status, "USDT")
    assert usdt["interest"] == "0.04000000"  # 4000 × 0.00001
    # 5000 / 4000.04 = 1.25 / 1.00001 = 1.24998750012…
    assert status["marginLevel"] == "1.24998750"
    assert status["marginLevelStatus"] == "NORMAL"  # 1.16 < 1.2499… ≤ 2
    # 4 × (5000 − 4000.04) − 4000.04 = 3999.84 − 4000.04 = −0.2 → 0
    assert usdt["maxBorrowable"] == "0.00000000"
    assert_audit_clean(wallet, at("10:21:00"))


def test_cross_5x_no_more_borrowing_once_cml_is_at_the_initial_level(wallet: Wallet) -> None:
    wallet.with_config("[margin]\nleverage = 5\n")
    fund_cross(wallet)
    wallet.ok("borrow", "USDT", "4000", "--yes", now=at("10:20:00"))
    # CML 1.2499875 ≤ 5/4 = 1.25: refused
    result = refused(wallet, "borrow", "USDT", "1", "--yes", now=at("10:22:00"))
    assert result.code == 3
    assert result.error()["code"] in ("exceeds_max_borrowable", "margin_level_too_low")


HAIRCUT = '[assets.BTC]\ncollateral_ratio = "0.9"\n'


def test_collateral_haircut_lowers_max_borrowable(wallet: Wallet) -> None:
    wallet.with_config(HAIRCUT)
    fund_cross(wallet, "BTC", "0.1")
    status = wallet.ok("status", now=at("10:02:00"))
    # collateral 0.1 × 60000 × 0.9 = 5400; (3 − 1) × 5400 − 0 = 10800 (12000 without the haircut)
    assert asset_row(status, "USDT")["maxBorrowable"] == "10800.00000000"
    assert asset_row(status, "BTC")["maxBorrowable"] == "0.18000000"  # 10800 / 60000
    assert status["totalAssetValue"] == "6000.00000000"  # the haircut is not in the asset value


def test_collateral_haircut_makes_cml_lower_than_margin_level(wallet: Wallet) -> None:
    wallet.with_config(HAIRCUT)
    fund_cross(wallet, "BTC", "0.1")
    wallet.ok("borrow", "USDT", "3000", "--yes", now=at("10:20:00"))
    status = wallet.ok("status", now=at("10:21:00"))
    usdt = asset_row(status, "USDT")
    assert usdt["interest"] == "0.03000000"  # 3000 × 0.00001
    # assets 0.1 × 60000 + 3000 = 9000; liability 3000.03; 9000 / 3000.03 = 2.99997000029…
    assert status["marginLevel"] == "2.99997000"
    # collateral 0.1 × 60000 × 0.9 + 3000 × 1 = 8400; 8400 / 3000.03 = 2.79997200027…
    assert status["collateralMarginLevel"] == "2.79997200"
    assert status["marginLevelStatus"] == "EXCESSIVE"  # bands use the margin level, 2.99997 > 2
    # 2 × (8400 − 3000.03) − 3000.03 = 10799.94 − 3000.03 = 7799.91
    assert usdt["maxBorrowable"] == "7799.91000000"
    # BTC: (8400 − x × 60000 × 0.9) / 3000.03 ≥ 2 → x ≤ (8400 − 6000.06) / 54000 = 0.0444433…
    # USDT: (8400 − x) / 3000.03 ≥ 2 → x ≤ 2399.94 (less than the 3000 free)
    assert status["maxTransferable"] == {"BTC": "0.04444333", "USDT": "2399.94000000"}
    assert_audit_clean(wallet, at("10:21:00"))


def test_collateral_haircut_governs_transfer_out(wallet: Wallet) -> None:
    wallet.with_config(HAIRCUT)
    fund_cross(wallet, "BTC", "0.1")
    wallet.ok("borrow", "USDT", "3000", "--yes", now=at("10:20:00"))
    # (8400 − 0.04444334 × 54000) / 3000.03 = (8400 − 2399.94036) / 3000.03 = 1.99999… < 2
    result = refused(wallet, "transfer", "BTC", "0.04444334", "--from", "cross", "--to", "spot", now=at("10:22:00"))
    assert result.code == 3
    assert result.error()["code"] == "margin_level_too_low"
    # (8400 − 0.04444333 × 54000) / 3000.03 = 6000.06018 / 3000.03 = 2.0000002 ≥ 2
    wallet.ok("transfer", "BTC", "0.04444333", "--from", "cross", "--to", "spot", now=at("10:23:00"))
    status = wallet.ok("status", now=at("10:24:00"))
    assert asset_row(status, "BTC")["free"] == "0.05555667"  # 0.1 − 0.04444333
    assert_audit_clean(wallet, at("10:24:00"))


def test_liquidation_price_of_btc_collateral_against_a_usdt_loan(wallet: Wallet) -> None:
    fund_cross(wallet, "BTC", "0.1")
    wallet.ok("borrow", "USDT", "4000", "--yes", now=at("10:20:00"))
    status = wallet.ok("status", now=at("10:21:00"))
    # (6000 + 4000) / 4000.04 = 2.49997500… → EXCESSIVE
    assert status["marginLevel"] == "2.49997500"
    btc = asset_row(status, "BTC")
    # a0 = 4000 USDT held, l0 = 4000.04 owed, qa = 0.1 BTC, k = 1.1:
    # p = (1.1 × 4000.04 − 4000) / 0.1 = (4400.044 − 4000) / 0.1 = 4000.44
    assert Decimal(btc["liquidationPrice"]) == Decimal("4000.44")
    # (4000.44 − 60000) / 60000 × 100 = −93.3326 %
    change = Decimal(btc["liquidationPriceChangePercent"])
    assert Decimal("-93.34") < change <= Decimal("-93.33")
    assert asset_row(status, "USDT")["liquidationPrice"] is None  # the valuation asset has none


def test_liquidation_price_rises_when_the_borrowed_usdt_leaves(wallet: Wallet) -> None:
    fund_cross(wallet, "BTC", "0.1")
    wallet.ok("borrow", "USDT", "4000", "--yes", now=at("10:20:00"))
    # taking all 4000 out: (10000 − 4000) / 4000.04 = 1.49998… < 2, refused
    result = refused(wallet, "transfer", "USDT", "4000", "--from", "cross", "--to", "spot", now=at("10:21:00"))
    assert result.code == 3
    assert result.error()["code"] == "margin_level_too_low"
    # (6000 + 4000 − x) / 4000.04 ≥ 2 → x ≤ 10000 − 8000.08 = 1999.92
    assert wallet.ok("status", now=at("10:21:00"))["maxTransferable"]["USDT"] == "1999.92000000"
    wallet.ok("transfer", "USDT", "max", "--from", "cross", "--to", "spot", now=at("10:22:00"))
    status = wallet.ok("status", now=at("10:23:00"))
    assert asset_row(status, "USDT")["free"] == "2000.08000000"  # 4000 − 1999.92
    assert status["marginLevel"] == "2.00000000"  # 8000.08 / 4000.04
    btc = asset_row(status, "BTC")
    # p = (1.1 × 4000.04 − 2000.08) / 0.1 = 2399.964 / 0.1 = 23999.64
    assert Decimal(btc["liquidationPrice"]) == Decimal("23999.64")
    # (23999.64 − 60000) / 60000 × 100 = −60.0006 %
    change = Decimal(btc["liquidationPriceChangePercent"])
    assert Decimal("-60.01") < change <= Decimal("-60.00")
    assert_audit_clean(wallet, at("10:23:00"))


def test_liquidation_price_of_a_btc_short_lies_above_the_price(wallet: Wallet) -> None:
    fund_cross(wallet)
    wallet.ok("borrow", "BTC", "0.01", "--yes", now=at("10:20:00"))
    status = wallet.ok("status", now=at("10:21:00"))
    btc = asset_row(status, "BTC")
    assert btc["interest"] == "0.00000002"  # 0.01 × 0.000048 / 24 = 0.00000002
    # (1000 + 0.01 × 60000) / (0.01000002 × 60000) = 1600 / 600.0012 = 2.66666133…
    assert status["marginLevel"] == "2.66666133"
    # a0 = 1000 USDT, l0 = 0, qa = 0.01 BTC held, ql = 0.01000002 BTC owed, k = 1.1:
    # 1000 + 0.01·p = 1.1 × 0.01000002·p → p = 1000 / (0.011000022 − 0.01) = 1000 / 0.001000022 = 999978.000483989…
    assert abs(Decimal(btc["liquidationPrice"]) - Decimal("999978.00048399")) <= Decimal("0.00000001")
    # (999978.000484 − 60000) / 60000 × 100 = +1566.63 %: the price must rise
    change = Decimal(btc["liquidationPriceChangePercent"])
    assert Decimal("1566.63") <= change < Decimal("1566.64")
    assert_audit_clean(wallet, at("10:21:00"))


def test_interest_on_a_tiny_btc_loan_rounds_up_to_one_satoshi(wallet: Wallet) -> None:
    fund_cross(wallet)
    wallet.ok("borrow", "BTC", "0.001", "--yes", now=at("10:20:00"))
    # 0.001 × 0.000048 / 24 = 0.000000002 → up to 8 places: 0.00000001 (the lender never loses a fraction)
    assert asset_row(wallet.ok("status", now=at("10:21:00")), "BTC")["interest"] == "0.00000001"
    (row,) = wallet.ok("interest", "--asset", "BTC", now=at("10:21:00"))["rows"]
    assert row["interest"] == "0.00000001"
    assert Decimal(row["interestRate"]) == Decimal("0.000048")
    assert_audit_clean(wallet, at("10:21:00"))


# --- Refusals: exit code, error code, nothing changed ---------------------------------------------


@pytest.mark.parametrize("amount", ["0", "-1", "1e3", "0.000000001"])
def test_borrow_of_a_non_positive_or_malformed_amount_is_a_usage_error(wallet: Wallet, amount: str) -> None:
    fund_cross(wallet)
    result = refused(wallet, "borrow", "USDT", amount, "--yes", now=at("10:20:00"))
    assert result.code == 2
    assert_audit_clean(wallet, at("10:20:00"))


def test_borrow_of_an_unknown_asset_is_a_usage_error_listing_the_known_ones(wallet: Wallet) -> None:
    fund_cross(wallet)
    result = refused(wallet, "borrow", "FOO", "1", "--yes", now=at("10:20:00"))
    assert result.code == 2
    assert "USDT" in result.error()["message"]
    assert "BTC" in result.error()["message"]


@pytest.mark.parametrize("amount", ["1", "max"])
def test_borrow_with_nothing_in_cross_exceeds_max_borrowable(wallet: Wallet, amount: str) -> None:
    wallet.ok("deposit", "USDT", "1000", now=at("10:00:00"))  # in spot only
    result = refused(wallet, "borrow", "USDT", amount, "--yes", now=at("10:20:00"))
    assert result.code == 3
    assert result.error()["code"] == "exceeds_max_borrowable"
    assert "max" in result.error()["message"]
    assert_audit_clean(wallet, at("10:20:00"))


@pytest.mark.parametrize("pair", ["DOGE/USDT", "BTC/ETH"])
def test_borrow_in_an_unconfigured_isolated_pair_is_a_usage_error(wallet: Wallet, pair: str) -> None:
    fund_cross(wallet)
    result = refused(wallet, "borrow", "USDT", "1", "--isolated", pair, "--yes", now=at("10:20:00"))
    assert result.code == 2


def test_repay_with_no_debt_is_refused(wallet: Wallet) -> None:
    fund_cross(wallet)
    result = refused(wallet, "repay", "USDT", "1", now=at("10:20:00"))
    assert result.code == 3
    assert result.error()["code"] == "repay_exceeds_debt"


def test_repay_more_than_owed_is_refused(wallet: Wallet) -> None:
    borrow_500_usdt(wallet)
    # owed 500 + 0.005 = 500.005
    result = refused(wallet, "repay", "USDT", "500.00500001", now=at("10:30:00"))
    assert result.code == 3
    assert result.error()["code"] == "repay_exceeds_debt"
    assert "500.005" in result.error()["message"]


def test_repay_more_than_the_wallet_holds_free_is_refused(wallet: Wallet) -> None:
    fund_cross(wallet, "BTC", "0.1")
    wallet.ok("borrow", "USDT", "1000", "--yes", now=at("10:20:00"))
    # (6000 + 1000 − 1000) / 1000.01 = 5.99994 ≥ 2: all the borrowed USDT may leave
    wallet.ok("transfer", "USDT", "1000", "--from", "cross", "--to", "spot", now=at("10:21:00"))
    for amount in ("0.5", "all"):
        result = refused(wallet, "repay", "USDT", amount, now=at("10:30:00"))
        assert result.code == 3
        assert result.error()["code"] == "insufficient_balance"
    assert_audit_clean(wallet, at("10:30:00"))


@pytest.mark.parametrize("stdin", ["", "y\n"])
def test_borrow_without_a_terminal_and_without_yes_is_refused(wallet: Wallet, stdin: str) -> None:
    fund_cross(wallet)
    before = wallet.fingerprint()
    result = wallet.run("borrow", "USDT", "100", "--json", now=at("10:20:00"), stdin=stdin)
    assert wallet.fingerprint() == before
    assert result.code == 3
    assert result.error()["code"] == "confirmation_required"


def test_borrow_above_the_asset_borrow_limit_is_refused(wallet: Wallet) -> None:
    wallet.with_config('[assets.BTC]\nborrow_limit = "0.001"\n')
    fund_cross(wallet)
    status = wallet.ok("status", now=at("10:02:00"))
    # min(2000 / 60000 = 0.03333333, limit 0.001, pool 10000) = 0.001
    assert asset_row(status, "BTC")["maxBorrowable"] == "0.00100000"
    result = refused(wallet, "borrow", "BTC", "0.002", "--yes", now=at("10:20:00"))
    assert result.code == 3
    assert result.error()["code"] == "borrow_limit_exceeded"
    assert_audit_clean(wallet, at("10:20:00"))


def test_borrow_more_than_the_lending_pool_holds_is_refused(wallet: Wallet) -> None:
    wallet.with_config('[lending_pool]\nUSDT = "100"\n')
    fund_cross(wallet)
    # min(2000, limit 1000000, pool 100) = 100
    assert asset_row(wallet.ok("status", now=at("10:02:00")), "USDT")["maxBorrowable"] == "100.00000000"
    result = refused(wallet, "borrow", "USDT", "150", "--yes", now=at("10:20:00"))
    assert result.code == 3
    assert result.error()["code"] == "pool_insufficient"


NO_DOGE_PRICE = """\
[assets.DOGE]
decimals = 8
daily_interest_rate = "0.0003"

[pairs."DOGE/USDT"]
tick_size = "0.00001"
step_size = "1"
min_notional = "5"
"""


def test_borrow_against_an_unpriced_collateral_is_refused(wallet: Wallet) -> None:
    wallet.with_config(NO_DOGE_PRICE)
    fund_cross(wallet, "DOGE", "1000")
    result = refused(wallet, "borrow", "USDT", "1", "--yes", now=at("10:20:00"))
    assert result.code == 3
    assert result.error()["code"] == "no_price"
    assert_audit_clean(wallet, at("10:20:00"))


def test_borrow_of_an_unpriced_asset_is_refused(wallet: Wallet) -> None:
    wallet.with_config(NO_DOGE_PRICE)
    fund_cross(wallet)
    result = refused(wallet, "borrow", "DOGE", "1", "--yes", now=at("10:20:00"))
    assert result.code == 3
    assert result.error()["code"] == "no_price"


def test_borrow_retried_with_the_same_client_id_borrows_once(wallet: Wallet) -> None:
    fund_cross(wallet)
    first = wallet.ok("borrow", "USDT", "500", "--yes", "--client-id", "loan-1", now=at("10:20:00"))
    again = wallet.ok("borrow", "USDT", "500", "--yes", "--client-id", "loan-1", now=at("10:21:00"))
    assert again == {**first, "replayed": True}
    usdt = asset_row(wallet.ok("status", now=at("10:22:00")), "USDT")
    assert usdt["borrowed"] == "500.00000000"
    assert usdt["interest"] == "0.00500000"  # one ON_BORROW charge, not two
    assert wallet.ok("interest", now=at("10:22:00"))["total"] == 1
    assert_audit_clean(wallet, at("10:22:00"))
