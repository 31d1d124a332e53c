"""What `trade` and `cancel` print for fills, fees and automatic repayments (issue 13, items 2–4).

Default config: BTC/USDT 60000, fee 0.1 %, USDT hourly interest 0.00001, BTC hourly 0.000002.
"""

from __future__ import annotations

from tests.conftest import Wallet

DAY = "2026-01-05"


def at(clock: str) -> str:
    return f"{DAY}T{clock}Z"


def fund_cross(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1000", now=at("10:00:00"))
    wallet.ok("transfer", "USDT", "1000", "--yes", now=at("10:01:00"))


def test_trade_text_shows_each_fills_fee_and_trade_id(wallet: Wallet) -> None:
    fund_cross(wallet)
    result = wallet.run("trade", "buy", "BTC/USDT", "0.01", now=at("10:02:00"))
    assert result.code == 0, result.err
    # 0.01 × 0.001 = 0.00001 BTC; the first fill of the wallet is trade 1
    assert "Filled 0.01000000 at 60000.00, fee 0.00001000 BTC (trade 1)." in result.out


def test_an_auto_repay_trade_says_what_it_repaid(wallet: Wallet) -> None:
    fund_cross(wallet)
    wallet.ok("trade", "sell", "BTC/USDT", "0.01", "--side-effect", "auto-borrow", now=at("10:02:00"))
    result = wallet.run("trade", "buy", "BTC/USDT", "--close", now=at("10:03:00"))
    assert result.code == 0, result.err
    # owes 0.01 + 0.01 × 0.000002 = 0.01000002: interest 0.00000002 then principal 0.01
    assert "Repaid 0.01000002 BTC (interest 0.00000002, principal 0.01000000)." in result.out


def test_cancel_text_says_what_auto_repay_at_cancel_repaid(wallet: Wallet) -> None:
    fund_cross(wallet)
    order = wallet.ok(
        "trade", "buy", "BTC/USDT", "0.05", "--price", "59000", "--side-effect", "auto-borrow", now=at("10:02:00")
    )
    result = wallet.run("cancel", str(order["orderId"]), now=at("10:03:00"))
    assert result.code == 0, result.err
    # borrowed 0.05 × 59000 − 1000 = 1950; ON_BORROW 1950 × 0.00001 = 0.0195
    assert "Repaid 1950.01950000 USDT (interest 0.01950000, principal 1950.00000000)." in result.out
