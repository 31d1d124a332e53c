"""`status` as a risk monitor (issue 4, DESIGN §4): level bands, the margin-call warning, `--check` for cron.

Expected numbers are worked out by hand from DESIGN §4 with the default config (cross 3x: margin call 1.3,
liquidation 1.1, pre-liquidation band 0.05; USDT hourly interest 0.00001; BTC/USDT 60000).
"""

from __future__ import annotations

from decimal import Decimal

from tests.conftest import Wallet, asset_row

DAY = "2026-01-05"


def at(clock: str) -> str:
    return f"{DAY}T{clock}Z"


def assert_audit_clean(wallet: Wallet, now: str) -> None:
    assert wallet.ok("audit", now=now)["ok"] is True


def borrow_max_against_btc(wallet: Wallet) -> None:
    """0.1 BTC (6000 USDT at 60000) in cross, USDT max borrowed at 10:20."""
    wallet.ok("deposit", "BTC", "0.1", now=at("10:00:00"))
    wallet.ok("transfer", "BTC", "0.1", "--yes", now=at("10:01:00"))
    wallet.ok("borrow", "USDT", "max", "--yes", now=at("10:20:00"))


def test_borrowing_max_against_btc_lends_twice_its_value(wallet: Wallet) -> None:
    borrow_max_against_btc(wallet)
    usdt = asset_row(wallet.ok("status", now=at("10:21:00")), "USDT")
    assert usdt["borrowed"] == "12000.00000000"  # (3 − 1) × 0.1 × 60000
    assert usdt["interest"] == "0.12000000"  # 12000 × 0.00024 / 24


def test_status_normal_after_borrowing_max_and_check_exits_0(wallet: Wallet) -> None:
    borrow_max_against_btc(wallet)
    status = wallet.ok("status", now=at("10:21:00"))
    # (6000 + 12000) / 12000.12 = 1.49998500014… → just below 1.5, as DESIGN §4 allows
    assert status["marginLevel"] == "1.49998500"
    assert status["marginLevelStatus"] == "NORMAL"  # 1.3 < 1.49998 ≤ 2
    assert wallet.run("status", "--check", now=at("10:21:00")).code == 0
    assert wallet.run("status", "--check", "--json", now=at("10:21:00")).code == 0


def test_check_exits_0_when_excessive(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1000", now=at("10:00:00"))
    wallet.ok("transfer", "USDT", "1000", "--yes", now=at("10:01:00"))
    assert wallet.run("status", "--check", now=at("10:02:00")).code == 0  # no liability
    wallet.ok("borrow", "USDT", "500", "--yes", now=at("10:20:00"))
    status = wallet.ok("status", now=at("10:21:00"))
    assert status["marginLevelStatus"] == "EXCESSIVE"  # 1500 / 500.005 = 2.99997 > 2
    assert wallet.run("status", "--check", now=at("10:21:00")).code == 0


def test_price_drop_puts_the_wallet_in_margin_call(wallet: Wallet) -> None:
    borrow_max_against_btc(wallet)
    wallet.ok("price", "set", "BTC/USDT", "35000", now=at("10:30:00"))
    status = wallet.ok("status", now=at("10:31:00"))
    # (0.1 × 35000 + 12000) / 12000.12 = 15500 / 12000.12 = 1.29165375012…
    assert status["marginLevel"] == "1.29165375"
    assert status["marginLevelStatus"] == "MARGIN_CALL"  # 1.15 < 1.2917 ≤ 1.3
    assert status["marginCallLevel"] == "1.3"
    assert status["liquidationLevel"] == "1.1"
    btc = asset_row(status, "BTC")
    # p = (1.1 × 12000.12 − 12000) / 0.1 = (13200.132 − 12000) / 0.1 = 12001.32
    assert Decimal(btc["liquidationPrice"]) == Decimal("12001.32")
    # (12001.32 − 35000) / 35000 × 100 = −65.7105… %
    change = Decimal(btc["liquidationPriceChangePercent"])
    assert Decimal("-65.72") < change <= Decimal("-65.71")
    assert_audit_clean(wallet, at("10:31:00"))


def test_status_check_exits_4_at_margin_call(wallet: Wallet) -> None:
    borrow_max_against_btc(wallet)
    wallet.ok("price", "set", "BTC/USDT", "35000", now=at("10:30:00"))
    assert wallet.run("status", "--check", now=at("10:31:00")).code == 4
    as_json = wallet.run("status", "--check", "--json", now=at("10:31:00"))
    assert as_json.code == 4
    assert as_json.json()["marginLevelStatus"] == "MARGIN_CALL"  # the document is still printed


def test_status_without_check_exits_0_at_margin_call(wallet: Wallet) -> None:
    borrow_max_against_btc(wallet)
    wallet.ok("price", "set", "BTC/USDT", "35000", now=at("10:30:00"))
    assert wallet.run("status", now=at("10:31:00")).code == 0


def test_human_status_warns_of_margin_call_with_the_btc_move_to_liquidation(wallet: Wallet) -> None:
    borrow_max_against_btc(wallet)
    wallet.ok("price", "set", "BTC/USDT", "35000", now=at("10:30:00"))
    result = wallet.run("status", now=at("10:31:00"))
    assert "Margin call" in result.out
    assert "1.29165375" in result.out  # the level
    assert "65.71" in result.out  # BTC may fall 65.71 % (35000 → 12001.32) before liquidation
    assert "repay" in result.out.lower()  # what to do


def test_human_status_has_no_warning_when_normal(wallet: Wallet) -> None:
    borrow_max_against_btc(wallet)
    result = wallet.run("status", now=at("10:21:00"))
    assert result.code == 0
    assert "Margin call" not in result.out


def test_price_just_above_liquidation_is_pre_liquidation(wallet: Wallet) -> None:
    borrow_max_against_btc(wallet)
    wallet.ok("price", "set", "BTC/USDT", "14000", now=at("10:30:00"))
    status = wallet.ok("status", now=at("10:31:00"))
    # (1400 + 12000) / 12000.12 = 1.11665550011… ; 1.1 < level ≤ 1.1 + 0.05
    assert status["marginLevel"] == "1.11665550"
    assert status["marginLevelStatus"] == "PRE_LIQUIDATION"
    assert wallet.run("status", "--check", now=at("10:31:00")).code == 4


def test_cross_status_reports_the_3x_mode_and_levels(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "10", now=at("10:00:00"))
    wallet.ok("transfer", "USDT", "10", "--yes", now=at("10:01:00"))
    status = wallet.ok("status", now=at("10:02:00"))
    assert status["wallet"] == "cross"
    assert status["mode"] == "cross-3x"
    assert status["marginCallLevel"] == "1.3"
    assert status["liquidationLevel"] == "1.1"
    assert status["valuationAsset"] == "USDT"


def test_isolated_status_reports_the_10x_mode_and_levels(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "100", now=at("10:00:00"))
    wallet.ok("transfer", "USDT", "100", "--to", "BTC/USDT", "--yes", now=at("10:01:00"))
    status = wallet.ok("status", "--isolated", "BTC/USDT", now=at("10:02:00"))
    assert status["wallet"] == "BTC/USDT"
    assert status["mode"] == "isolated-10x"
    assert status["marginCallLevel"] == "1.08"
    assert status["liquidationLevel"] == "1.05"
    assert status["marginLevel"] == "999"
    assert status["marginLevelStatus"] == "EXCESSIVE"


def test_isolated_status_of_a_pair_without_a_table_is_3x(wallet: Wallet) -> None:
    wallet.ok("accrue", now=at("09:00:00"))  # reads never create a wallet (issue 12): a first write does
    status = wallet.ok("status", "--isolated", "ETH/USDT", now=at("10:00:00"))
    # DESIGN §9: without an [isolated."PAIR"] table it is isolated 3x (1.3 / 1.1)
    assert status["mode"] == "isolated-3x"
    assert status["marginCallLevel"] == "1.3"
    assert status["liquidationLevel"] == "1.1"


def test_isolated_check_exits_4_at_or_below_its_margin_call_level(wallet: Wallet) -> None:
    wallet.ok("deposit", "BTC", "0.01", now=at("10:00:00"))
    wallet.ok("transfer", "BTC", "0.01", "--to", "BTC/USDT", "--yes", now=at("10:01:00"))
    wallet.ok("borrow", "USDT", "max", "--isolated", "BTC/USDT", "--yes", now=at("10:20:00"))
    usdt = asset_row(wallet.ok("status", "--isolated", "BTC/USDT", now=at("10:21:00")), "USDT")
    assert usdt["borrowed"] == "5400.00000000"  # (10 − 1) × 0.01 × 60000
    assert usdt["interest"] == "0.05400000"  # 5400 × 0.00001
    wallet.ok("price", "set", "BTC/USDT", "43000", now=at("10:30:00"))
    status = wallet.ok("status", "--isolated", "BTC/USDT", now=at("10:31:00"))
    # (0.01 × 43000 + 5400) / 5400.054 = 5830 / 5400.054 = 1.07961883…  ≤ 1.08, > 1.05
    assert status["marginLevel"] == "1.07961883"
    assert wallet.run("status", "--isolated", "BTC/USDT", "--check", now=at("10:31:00")).code == 4
    # the cross wallet holds nothing: its check is clean
    assert wallet.run("status", "--check", now=at("10:31:00")).code == 0
    assert_audit_clean(wallet, at("10:31:00"))


def test_status_isolated_and_all_together_is_a_usage_error(wallet: Wallet) -> None:
    result = wallet.run("status", "--isolated", "BTC/USDT", "--all", "--json", now=at("10:00:00"))
    assert result.code == 2
    assert result.out == ""
    assert result.error()["code"]
