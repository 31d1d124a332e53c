"""`marginctl close` (issue 13, item 9): cancel the wallet's orders, buy back what is owed, repay every loan.

Numbers by hand from the default config: BTC/USDT 60000, step 0.00001, min notional 5, taker fee 0.1 %
taken in the asset received, BTC hourly interest 0.000002, USDT hourly 0.00001, all within one clock hour
(only the ON_BORROW hour is charged).
"""

from __future__ import annotations

import pytest

from tests.conftest import Result, Wallet, asset_row, run_cli

DAY = "2026-01-05"


def at(clock: str) -> str:
    return f"{DAY}T{clock}Z"


def refused(wallet: Wallet, *args: str, now: str) -> Result:
    before = wallet.fingerprint()
    result = wallet.run(*args, "--json", now=now)
    assert result.code == 3, (result.code, result.out, result.err)
    assert wallet.fingerprint() == before, f"{args} changed the wallet file although it was refused"
    return result


def assert_audit_clean(wallet: Wallet, now: str) -> None:
    assert wallet.ok("audit", now=now)["ok"] is True


def fund(wallet: Wallet, target: str = "cross") -> None:
    wallet.ok("deposit", "USDT", "1000", now=at("10:00:00"))
    wallet.ok("transfer", "USDT", "1000", "--to", target, "--yes", now=at("10:01:00"))


def open_short(wallet: Wallet, *isolated: str) -> None:
    """Sell 0.01 borrowed BTC at 60000: USDT 1000 + 600 − 0.6 fee = 1599.4; owes BTC 0.01 + 0.01 × 0.000002
    = 0.00000002 interest (ON_BORROW)."""
    fund(wallet, "BTC/USDT" if isolated else "cross")
    wallet.ok("trade", "sell", "BTC/USDT", "0.01", "--side-effect", "auto-borrow", *isolated, now=at("10:02:00"))


def open_long(wallet: Wallet) -> None:
    """Buy 0.05 BTC at 60000 with auto-borrow: 3000 − 1000 = 2000 USDT borrowed (interest 0.02);
    receives 0.05 − 0.00005 fee = 0.04995 BTC; USDT free 0."""
    fund(wallet)
    wallet.ok("trade", "buy", "BTC/USDT", "0.05", "--side-effect", "auto-borrow", now=at("10:02:00"))


# Covering the short: 0.01000002 / 0.999 = 0.0100100300…, up to the step: 0.01002; the fee
# 0.01002 × 0.001 = 0.00001002 leaves 0.01000998 ≥ 0.01000002; it costs 0.01002 × 60000 = 601.2 USDT.
SHORT_BUY_BACK = "0.01002000"
SHORT_REPAID = [{"asset": "BTC", "amount": "0.01000002", "interest": "0.00000002", "principal": "0.01000000"}]
# 0.01000998 − 0.01000002 = 0.00000996 BTC left; 1599.4 − 601.2 = 998.2 USDT
SHORT_LEFT = {"BTC": "0.00000996", "USDT": "998.20000000"}


def free_by_asset(report: dict) -> dict[str, str]:
    return {row["asset"]: row["free"] for row in report["balances"]}


def test_close_of_a_short_buys_back_the_debt_with_its_interest_and_leaves_no_loan(wallet: Wallet) -> None:
    open_short(wallet)
    report = wallet.ok("close", "--yes", now=at("10:10:00"))
    (trade,) = report["trades"]
    assert (trade["side"], trade["pair"], trade["sideEffectType"]) == ("BUY", "BTC/USDT", "AUTO_REPAY")
    assert [(fill["qty"], fill["commission"], fill["commissionAsset"]) for fill in trade["fills"]] == [
        (SHORT_BUY_BACK, "0.00001002", "BTC")
    ]
    assert report["repaid"] == SHORT_REPAID
    assert free_by_asset(report) == SHORT_LEFT
    assert report["debtLeft"] == []
    assert (report["marginLevel"], report["marginLevelStatus"]) == ("999", "EXCESSIVE")
    btc = asset_row(wallet.ok("status", now=at("10:11:00")), "BTC")
    assert (btc["borrowed"], btc["interest"]) == ("0.00000000", "0.00000000")
    assert_audit_clean(wallet, at("10:11:00"))


def test_close_of_a_long_with_borrowed_usdt_sells_just_enough_btc(wallet: Wallet) -> None:
    open_long(wallet)
    report = wallet.ok("close", "--yes", now=at("10:10:00"))
    # owed 2000.02 USDT: 2000.02 / (60000 × 0.999) = 0.0333670…, up to the step 0.03337: sells for 2002.2,
    # fee 2.0022, receives 2000.1978 ≥ 2000.02 (0.03336 would bring 2001.6 − 2.0016 = 1999.5984, too little)
    (trade,) = report["trades"]
    assert (trade["side"], trade["sideEffectType"]) == ("SELL", "AUTO_REPAY")
    assert [(fill["qty"], fill["commission"], fill["commissionAsset"]) for fill in trade["fills"]] == [
        ("0.03337000", "2.00220000", "USDT")
    ]
    assert report["repaid"] == [
        {"asset": "USDT", "amount": "2000.02000000", "interest": "0.02000000", "principal": "2000.00000000"}
    ]
    # BTC 0.04995 − 0.03337 = 0.01658; USDT 2000.1978 − 2000.02 = 0.1778
    assert free_by_asset(report) == {"BTC": "0.01658000", "USDT": "0.17780000"}
    assert report["debtLeft"] == []
    assert_audit_clean(wallet, at("10:11:00"))


def test_close_isolated_closes_only_that_pairs_wallet(wallet: Wallet) -> None:
    open_short(wallet, "--isolated")
    report = wallet.ok("close", "--isolated", "BTC/USDT", "--yes", now=at("10:10:00"))
    assert report["wallet"] == "BTC/USDT"
    (trade,) = report["trades"]
    assert (trade["wallet"], trade["isIsolated"]) == ("BTC/USDT", True)
    assert trade["fills"][0]["qty"] == SHORT_BUY_BACK
    assert report["repaid"] == SHORT_REPAID
    assert free_by_asset(report) == SHORT_LEFT
    isolated = wallet.ok("status", "--isolated", "BTC/USDT", now=at("10:11:00"))
    assert (isolated["marginLevel"], isolated["totalLiabilityValue"]) == ("999", "0.00000000")
    assert_audit_clean(wallet, at("10:11:00"))


def test_close_cancels_the_open_orders_first_and_releases_their_funds(wallet: Wallet) -> None:
    open_short(wallet)
    # a resting buy of 0.001 at 50000 locks 0.001 × 50000 = 50 USDT
    order = wallet.ok("trade", "buy", "BTC/USDT", "0.001", "--price", "50000", now=at("10:03:00"))
    report = wallet.ok("close", "--yes", now=at("10:10:00"))
    assert report["cancelledOrders"] == [order["orderId"]]
    # the 50 USDT come back before the buy-back: the same 998.2 USDT are left
    assert free_by_asset(report) == SHORT_LEFT
    assert wallet.ok("orders", now=at("10:11:00")) == []
    assert_audit_clean(wallet, at("10:11:00"))


def test_close_with_nothing_owed_and_no_orders_says_so_and_exits_0(wallet: Wallet) -> None:
    fund(wallet)
    result = wallet.run("close", now=at("10:10:00"))  # no terminal and no --yes: nothing to confirm
    assert result.code == 0, result.err
    assert result.out == "Nothing to close in cross: no debt and no open orders.\n"
    report = wallet.ok("close", now=at("10:10:00"))
    assert (report["nothingToClose"], report["trades"], report["repaid"]) == (True, [], [])
    assert free_by_asset(report) == {"USDT": "1000.00000000"}


def test_close_with_a_debt_and_no_terminal_needs_yes(wallet: Wallet) -> None:
    open_short(wallet)
    result = refused(wallet, "close", now=at("10:10:00"))
    assert result.error()["code"] == "confirmation_required"


def test_close_asks_on_a_terminal_and_says_what_it_did(wallet: Wallet, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    open_short(wallet)
    result = run_cli(["--db", wallet.target, "--now", at("10:10:00"), "close"], stdin="y\n", terminal=True)
    assert result.code == 0, result.err
    assert "Close cross: cancel 0 open order(s)" in result.out
    assert "repay 0.01000002 BTC (interest first)." in result.out
    assert "Bought 0.01002000 BTC at 60000.00 USDT (fee 0.00001002 BTC), order 2." in result.out
    assert "Repaid 0.01000002 BTC (interest 0.00000002, principal 0.01000000)." in result.out
    assert "Left in cross: BTC 0.00000996, USDT 998.20000000." in result.out
    assert "Margin level 999 (no debt) EXCESSIVE." in result.out


def test_close_answered_no_on_a_terminal_changes_nothing(wallet: Wallet) -> None:
    open_short(wallet)
    result = run_cli(["--db", wallet.target, "--now", at("10:10:00"), "close"], stdin="n\n", terminal=True)
    assert result.code == 3
    assert asset_row(wallet.ok("status", now=at("10:11:00")), "BTC")["borrowed"] == "0.01000000"


def test_close_is_allowed_during_a_cooling_off(wallet: Wallet) -> None:
    open_short(wallet)
    wallet.ok("cooloff", "1d", "--yes", now=at("10:05:00"))
    report = wallet.ok("close", "--yes", now=at("10:10:00"))
    assert report["repaid"] == SHORT_REPAID


def test_close_repeated_with_its_client_id_changes_nothing(wallet: Wallet) -> None:
    open_short(wallet)
    first = wallet.ok("close", "--yes", "--client-id", "close-1", now=at("10:10:00"))
    again = wallet.ok("close", "--yes", "--client-id", "close-1", now=at("10:11:00"))
    assert again["replayed"] is True
    assert again["trades"] == first["trades"]
    assert len(wallet.ok("orders", "--all", now=at("10:12:00"))) == 2  # the short and one buy-back


def test_close_after_an_hour_repays_the_periodic_interest_too(wallet: Wallet) -> None:
    open_short(wallet)
    # 11:00 charges 0.01 × 0.000002 = 0.00000002 more: owed 0.01000004; 0.01000004 / 0.999 = 0.01001005…
    # → 0.01002 still covers it (0.01000998 received); 0.01000998 − 0.01000004 = 0.00000994 left
    report = wallet.ok("close", "--yes", now=at("11:30:00"))
    assert report["repaid"] == [
        {"asset": "BTC", "amount": "0.01000004", "interest": "0.00000004", "principal": "0.01000000"}
    ]
    assert free_by_asset(report)["BTC"] == "0.00000994"
    assert_audit_clean(wallet, at("11:31:00"))


def test_close_sells_just_enough_of_another_asset_to_pay_for_the_buy_back(wallet: Wallet) -> None:
    # 1 ETH (3000 USDT at 3000) as collateral, then the 0.01 BTC short: USDT 599.4, owes 0.01000002 BTC
    wallet.ok("deposit", "ETH", "1", now=at("10:00:00"))
    wallet.ok("transfer", "ETH", "1", "--yes", now=at("10:01:00"))
    wallet.ok("trade", "sell", "BTC/USDT", "0.01", "--side-effect", "auto-borrow", now=at("10:02:00"))
    wallet.ok("price", "set", "BTC/USDT", "80000", now=at("10:05:00"))
    report = wallet.ok("close", "--yes", now=at("10:10:00"))
    # the buy-back 0.01002 × 80000 = 801.6 USDT; free 599.4 → 202.2 short. 202.2 / (3000 × 0.999) = 0.067467…,
    # up to the ETH step 0.0001: 0.0675 sells for 202.5 − 0.2025 fee = 202.2975 ≥ 202.2 (0.0674: 201.9978)
    assert [(trade["side"], trade["pair"], trade["fills"][0]["qty"]) for trade in report["trades"]] == [
        ("SELL", "ETH/USDT", "0.06750000"),
        ("BUY", "BTC/USDT", SHORT_BUY_BACK),
    ]
    assert report["repaid"] == SHORT_REPAID
    # ETH 1 − 0.0675 = 0.9325; USDT 599.4 + 202.2975 − 801.6 = 0.0975; BTC 0.01000998 − 0.01000002 = 0.00000996
    assert free_by_asset(report) == {"BTC": "0.00000996", "ETH": "0.93250000", "USDT": "0.09750000"}
    assert_audit_clean(wallet, at("10:11:00"))
