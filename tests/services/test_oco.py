"""OCO order lists (issue 13 item 8): a take-profit LIMIT_MAKER and a STOP_LOSS_LIMIT on one quantity.

Numbers are worked by hand from DESIGN §2, §4, §5 with the default config (BTC/USDT at 60000, tick 0.01,
step 0.00001, min notional 5, USDT hourly interest 0.00001, BTC hourly 0.000002) unless a test sets the
maker/taker fees (maker 0.0002, taker 0.0007). Every clock of a test stays inside one UTC hour.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from marginctl.store.database import locate
from tests.conftest import Wallet
from tests.services.test_risk_engine import kline_row, write_klines
from tests.services.test_trading import (
    MAKER_TAKER_CONFIG,
    assert_audit_clean,
    at,
    balances,
    fund_cross,
    orders_by_id,
    refused,
)

SELL_OCO = ("trade", "oco", "sell", "BTC/USDT", "0.01", "--price", "66000", "--stop", "58000", "--stop-limit", "57900")


def list_status(wallet: Wallet, list_id: int) -> tuple[str, str]:
    """(listStatusType, listOrderStatus) of a list as stored, on either engine."""
    database = locate(wallet.target)
    try:
        with database.transaction(write=False) as tx:
            row = tx.execute(
                "SELECT list_status_type, list_order_status FROM order_lists WHERE id = :id", {"id": list_id}
            )[0]
    finally:
        database.close()
    return str(row["list_status_type"]), str(row["list_order_status"])


def test_a_sell_oco_is_one_list_of_a_stop_loss_limit_and_a_limit_maker_in_binances_shape(wallet: Wallet) -> None:
    fund_cross(wallet, usdt=None, btc="0.01")
    placed = wallet.ok(*SELL_OCO, "--client-id", "exit-1", now=at("10:10:00"))
    assert placed["contingencyType"] == "OCO"
    assert (placed["listStatusType"], placed["listOrderStatus"]) == ("EXEC_STARTED", "EXECUTING")
    assert placed["listClientOrderId"] == "exit-1"
    assert placed["transactionTime"] == "2026-01-05T10:10:00Z"
    assert (placed["symbol"], placed["isIsolated"]) == ("BTCUSDT", False)
    stop_leg, limit_leg = placed["orderReports"]
    # Binance lists the stop leg first, then the limit leg
    assert [order["orderId"] for order in placed["orders"]] == [stop_leg["orderId"], limit_leg["orderId"]]
    assert (stop_leg["type"], stop_leg["price"], stop_leg["stopPrice"]) == ("STOP_LOSS_LIMIT", "57900.00", "58000.00")
    assert (limit_leg["type"], limit_leg["price"], limit_leg["stopPrice"]) == ("LIMIT_MAKER", "66000.00", None)
    assert {leg["orderListId"] for leg in placed["orderReports"]} == {placed["orderListId"]}
    assert {leg["status"] for leg in placed["orderReports"]} == {"NEW"}
    assert placed["marginCalls"] == [] and placed["liquidations"] == []


def test_a_sell_oco_locks_its_quantity_once(wallet: Wallet) -> None:
    fund_cross(wallet, usdt=None, btc="0.01")
    wallet.ok(*SELL_OCO, now=at("10:10:00"))
    rows = balances(wallet, at("10:11:00"))
    assert (rows["BTC"]["free"], rows["BTC"]["locked"]) == ("0.00000000", "0.01000000")  # 0.01, not 2 × 0.01
    assert_audit_clean(wallet, at("10:11:00"))


def test_the_take_profit_fills_at_its_price_as_maker_and_the_stop_leg_expires(wallet: Wallet) -> None:
    wallet.with_config(MAKER_TAKER_CONFIG)
    fund_cross(wallet, usdt=None, btc="0.01")
    placed = wallet.ok(*SELL_OCO, now=at("10:10:00"))
    stop_id, limit_id = (order["orderId"] for order in placed["orders"])
    update = wallet.ok("price", "set", "BTC/USDT", "66000", now=at("10:20:00"))
    assert (update["triggered"], update["filled"]) == (0, 1)
    every = orders_by_id(wallet, at("10:21:00"), include_closed=True)
    assert every[limit_id]["status"] == "FILLED"
    assert every[limit_id]["cummulativeQuoteQty"] == "660.00000000"  # 0.01 × 66000
    assert every[stop_id]["status"] == "EXPIRED"
    assert orders_by_id(wallet, at("10:21:00")) == {}  # nothing left open
    rows = balances(wallet, at("10:21:00"))
    assert rows["USDT"]["free"] == "659.86800000"  # 660 − maker fee 660 × 0.0002 = 660 − 0.132
    assert (rows["BTC"]["free"], rows["BTC"]["locked"]) == ("0.00000000", "0.00000000")
    assert list_status(wallet, placed["orderListId"]) == ("ALL_DONE", "ALL_DONE")
    assert_audit_clean(wallet, at("10:22:00"))


def test_a_kline_low_triggers_the_stop_leg_which_fills_and_expires_the_take_profit(
    wallet: Wallet, tmp_path: Path
) -> None:
    wallet.with_config(MAKER_TAKER_CONFIG)
    day = "2026-03-01"
    wallet.ok("deposit", "BTC", "0.01", now=f"{day}T09:50:00Z")
    wallet.ok("transfer", "BTC", "0.01", "--yes", now=f"{day}T09:51:00Z")
    placed = wallet.ok(
        "trade", "oco", "sell", "BTC/USDT", "0.01", "--price", "62000", "--stop", "55000", "--stop-limit", "54500",
        now=f"{day}T09:53:00Z",
    )  # fmt: skip
    stop_id, limit_id = (order["orderId"] for order in placed["orders"])
    # candle 1 is calm; candle 2 falls, so its path is open 59950, high 60000, low 54500, close 56000: the
    # low 54500 ≤ 55000 triggers the stop leg, and its limit 54500 is crossed there (54500 ≥ 54500)
    candles = [
        (f"{day}T10:00:00Z", ("60000.00", "60000.00", "59900.00", "59950.00")),
        (f"{day}T10:01:00Z", ("59950.00", "60000.00", "54500.00", "56000.00")),
    ]
    path = write_klines(tmp_path, [kline_row(moment, prices) for moment, prices in candles])
    summary = wallet.ok("price", "import", str(path), "--pair", "BTC/USDT", now=f"{day}T09:55:00Z")
    assert (summary["triggered"], summary["fills"]) == (1, 1)
    later = f"{day}T10:05:00Z"
    every = orders_by_id(wallet, later, include_closed=True)
    assert (every[stop_id]["status"], every[stop_id]["cummulativeQuoteQty"]) == ("FILLED", "545.00000000")
    assert every[limit_id]["status"] == "EXPIRED"
    rows = balances(wallet, later)
    # 0.01 × 54500 = 545; triggered and filled in one update takes liquidity: 545 × 0.0007 = 0.3815
    assert rows["USDT"]["free"] == "544.61850000"
    assert (rows["BTC"]["free"], rows["BTC"]["locked"]) == ("0.00000000", "0.00000000")
    assert_audit_clean(wallet, later)


def test_a_triggered_stop_leg_whose_limit_is_not_reached_rests_holding_the_lists_funds(wallet: Wallet) -> None:
    wallet.with_config(MAKER_TAKER_CONFIG)
    fund_cross(wallet, usdt=None, btc="0.01")
    placed = wallet.ok(*SELL_OCO, now=at("10:10:00"))
    stop_id, limit_id = (order["orderId"] for order in placed["orders"])
    update = wallet.ok("price", "set", "BTC/USDT", "57800", now=at("10:20:00"))
    assert (update["triggered"], update["filled"]) == (1, 0)  # 57800 ≤ 58000, but 57800 < 57900
    assert list(orders_by_id(wallet, at("10:21:00"))) == [stop_id]  # Binance expires the limit leg at the trigger
    assert orders_by_id(wallet, at("10:21:00"), include_closed=True)[limit_id]["status"] == "EXPIRED"
    assert balances(wallet, at("10:21:00"))["BTC"]["locked"] == "0.01000000"  # still held, once
    assert_audit_clean(wallet, at("10:21:00"))
    update = wallet.ok("price", "set", "BTC/USDT", "57900", now=at("10:30:00"))
    assert (update["triggered"], update["filled"]) == (0, 1)
    # rested, then made: 0.01 × 57900 = 579; maker fee 579 × 0.0002 = 0.1158; 579 − 0.1158 = 578.8842
    assert balances(wallet, at("10:31:00"))["USDT"]["free"] == "578.88420000"
    assert list_status(wallet, placed["orderListId"]) == ("ALL_DONE", "ALL_DONE")
    assert_audit_clean(wallet, at("10:31:00"))


def test_a_buy_oco_locks_the_most_either_leg_can_spend_once(wallet: Wallet) -> None:
    fund_cross(wallet)
    wallet.ok(
        "trade", "oco", "buy", "BTC/USDT", "0.01", "--price", "55000", "--stop", "65000", "--stop-limit", "65100",
        now=at("10:10:00"),
    )  # fmt: skip
    rows = balances(wallet, at("10:11:00"))
    # 0.01 × max(55000, 65100) = 651
    assert (rows["USDT"]["free"], rows["USDT"]["locked"]) == ("349.00000000", "651.00000000")
    assert_audit_clean(wallet, at("10:11:00"))


def test_a_buy_ocos_stop_leg_fills_at_its_stop_limit_from_the_lists_hold(wallet: Wallet) -> None:
    fund_cross(wallet)
    placed = wallet.ok(
        "trade", "oco", "buy", "BTC/USDT", "0.01", "--price", "55000", "--stop", "65000", "--stop-limit", "65100",
        now=at("10:10:00"),
    )  # fmt: skip
    stop_id, limit_id = (order["orderId"] for order in placed["orders"])
    # 65100 ≥ 65000 triggers the stop leg; its buy limit 65100 is crossed there (65100 ≤ 65100)
    update = wallet.ok("price", "set", "BTC/USDT", "65100", now=at("10:20:00"))
    assert (update["triggered"], update["filled"]) == (1, 1)
    every = orders_by_id(wallet, at("10:21:00"), include_closed=True)
    assert (every[stop_id]["status"], every[limit_id]["status"]) == ("FILLED", "EXPIRED")
    rows = balances(wallet, at("10:21:00"))
    # paid 0.01 × 65100 = 651, all of the hold: free stays 1000 − 651 = 349
    assert (rows["USDT"]["free"], rows["USDT"]["locked"]) == ("349.00000000", "0.00000000")
    assert rows["BTC"]["free"] == "0.00999000"  # 0.01 − taker fee 0.01 × 0.001
    assert_audit_clean(wallet, at("10:21:00"))


def test_a_buy_oco_with_auto_repay_closes_a_short_at_its_take_profit(wallet: Wallet) -> None:
    fund_cross(wallet)
    wallet.ok("trade", "sell", "BTC/USDT", "0.01", "--side-effect", "auto-borrow", now=at("10:10:00"))
    # short: USDT 1000 + 600 − 0.6 = 1599.4; BTC borrowed 0.01, ON_BORROW 0.01 × 0.000002 = 0.00000002
    placed = wallet.ok(
        "trade", "oco", "buy", "BTC/USDT", "0.01002", "--price", "55000", "--stop", "65000", "--stop-limit", "65100",
        "--side-effect", "auto-repay", now=at("10:20:00"),
    )  # fmt: skip
    assert {leg["sideEffectType"] for leg in placed["orderReports"]} == {"AUTO_REPAY"}
    stop_id, limit_id = (order["orderId"] for order in placed["orders"])
    rows = balances(wallet, at("10:21:00"))
    # held once: 0.01002 × 65100 = 652.302; free 1599.4 − 652.302 = 947.098
    assert (rows["USDT"]["free"], rows["USDT"]["locked"]) == ("947.09800000", "652.30200000")

    update = wallet.ok("price", "set", "BTC/USDT", "55000", now=at("10:30:00"))
    assert (update["triggered"], update["filled"]) == (0, 1)
    every = orders_by_id(wallet, at("10:31:00"), include_closed=True)
    assert (every[limit_id]["status"], every[stop_id]["status"]) == ("FILLED", "EXPIRED")
    rows = balances(wallet, at("10:31:00"))
    # paid 0.01002 × 55000 = 551.1; the rest of the hold comes back: 1599.4 − 551.1 = 1048.3
    assert (rows["USDT"]["free"], rows["USDT"]["locked"]) == ("1048.30000000", "0.00000000")
    # received 0.01002 − 0.01002 × 0.001 = 0.01000998; repays 0.00000002 interest + 0.01 principal
    assert (rows["BTC"]["borrowed"], rows["BTC"]["interest"]) == ("0.00000000", "0.00000000")
    assert rows["BTC"]["free"] == "0.00000996"  # 0.01000998 − 0.01000002
    assert_audit_clean(wallet, at("10:32:00"))


@pytest.mark.parametrize("leg", ["stop", "limit"])
def test_cancelling_either_leg_cancels_both_and_releases_the_hold_once(wallet: Wallet, leg: str) -> None:
    fund_cross(wallet, usdt=None, btc="0.01")
    placed = wallet.ok(*SELL_OCO, now=at("10:10:00"))
    stop_id, limit_id = (order["orderId"] for order in placed["orders"])
    cancelled = wallet.ok("cancel", str(stop_id if leg == "stop" else limit_id), now=at("10:20:00"))
    assert [(order["orderId"], order["status"]) for order in cancelled] == [
        (stop_id, "CANCELED"),
        (limit_id, "CANCELED"),
    ]
    rows = balances(wallet, at("10:21:00"))
    assert (rows["BTC"]["free"], rows["BTC"]["locked"]) == ("0.01000000", "0.00000000")
    assert list_status(wallet, placed["orderListId"]) == ("ALL_DONE", "ALL_DONE")
    assert_audit_clean(wallet, at("10:21:00"))


def test_cancel_all_cancels_a_list_and_a_single_order_releasing_each_hold_once(wallet: Wallet) -> None:
    fund_cross(wallet, usdt="1000", btc="0.01")
    wallet.ok(*SELL_OCO, now=at("10:10:00"))
    wallet.ok("trade", "buy", "BTC/USDT", "0.01", "--price", "50000", now=at("10:11:00"))  # holds 500 USDT
    cancelled = wallet.ok("cancel", "--all", now=at("10:20:00"))
    assert [order["status"] for order in cancelled] == ["CANCELED"] * 3
    rows = balances(wallet, at("10:21:00"))
    assert (rows["BTC"]["free"], rows["BTC"]["locked"]) == ("0.01000000", "0.00000000")
    assert (rows["USDT"]["free"], rows["USDT"]["locked"]) == ("1000.00000000", "0.00000000")
    assert_audit_clean(wallet, at("10:21:00"))


def test_an_auto_borrow_buy_oco_borrows_the_shortfall_once_and_its_cancel_repays_it(wallet: Wallet) -> None:
    fund_cross(wallet, usdt="400")
    placed = wallet.ok(
        "trade", "oco", "buy", "BTC/USDT", "0.01", "--price", "55000", "--stop", "65000", "--stop-limit", "65100",
        "--side-effect", "auto-borrow", now=at("10:10:00"),
    )  # fmt: skip
    # needs 0.01 × 65100 = 651; free 400: borrows 251 (max borrowable (3 − 1) × 400 = 800)
    assert (placed["marginBuyBorrowAmount"], placed["marginBuyBorrowAsset"]) == ("251.00000000", "USDT")
    rows = balances(wallet, at("10:11:00"))
    assert (rows["USDT"]["borrowed"], rows["USDT"]["locked"]) == ("251.00000000", "651.00000000")
    assert rows["USDT"]["interest"] == "0.00251000"  # ON_BORROW 251 × 0.00001
    wallet.ok("cancel", str(placed["orders"][0]["orderId"]), now=at("10:20:00"))
    rows = balances(wallet, at("10:21:00"))
    assert rows["USDT"]["locked"] == "0.00000000"
    # autoRepayAtCancel gives back the 251 lent (how it treats the interest is the cancel's own rule)
    owed = Decimal(rows["USDT"]["borrowed"]) + Decimal(rows["USDT"]["interest"])
    assert owed <= Decimal("0.00251")
    assert_audit_clean(wallet, at("10:21:00"))


def test_an_auto_repay_oco_is_allowed_during_cooling_off_and_a_normal_one_refused(wallet: Wallet) -> None:
    fund_cross(wallet, usdt=None, btc="0.02")
    wallet.ok("cooloff", "1d", "--yes", now=at("10:05:00"))
    result = refused(wallet, *SELL_OCO, now=at("10:10:00"))
    assert (result.code, result.error()["code"]) == (3, "cooling_off_active")
    placed = wallet.ok(*SELL_OCO, "--side-effect", "auto-repay", now=at("10:11:00"))
    assert placed["listStatusType"] == "EXEC_STARTED"


def test_repeating_an_oco_with_its_client_id_places_one_list(wallet: Wallet) -> None:
    fund_cross(wallet, usdt=None, btc="0.01")
    first = wallet.ok(*SELL_OCO, "--client-id", "exit-1", now=at("10:10:00"))
    again = wallet.ok(*SELL_OCO, "--client-id", "exit-1", now=at("10:11:00"))
    assert again["orderListId"] == first["orderListId"]
    assert len(orders_by_id(wallet, at("10:12:00"))) == 2
    assert balances(wallet, at("10:12:00"))["BTC"]["locked"] == "0.01000000"


def test_an_isolated_oco_holds_in_the_pairs_isolated_wallet(wallet: Wallet) -> None:
    wallet.ok("deposit", "BTC", "0.01", now=at("10:00:00"))
    wallet.ok("transfer", "BTC", "0.01", "--to", "BTC/USDT", "--yes", now=at("10:01:00"))
    placed = wallet.ok(*SELL_OCO, "--isolated", now=at("10:10:00"))
    assert placed["isIsolated"] is True
    rows = balances(wallet, at("10:11:00"), isolated="BTC/USDT")
    assert rows["BTC"]["locked"] == "0.01000000"
    assert_audit_clean(wallet, at("10:11:00"))


# --- Refusals: Binance's price rules, the pair's filters, funds ----------------------------------------


@pytest.mark.parametrize(
    ("args", "exit_code", "code"),
    [
        # a sell needs limit > stop, a buy limit < stop, whatever the last price
        (("sell", "0.01", "58000", "58000", "57900"), 2, "invalid_oco_prices"),
        (("buy", "0.01", "65000", "55000", "55100"), 2, "invalid_oco_prices"),
        # against the last 60000: a sell needs limit > 60000 > stop, a buy limit < 60000 < stop
        (("sell", "0.01", "60000", "58000", "57900"), 3, "would_match_immediately"),
        (("sell", "0.01", "66000", "60000", "59900"), 3, "would_trigger_immediately"),
        (("buy", "0.01", "60000", "65000", "65100"), 3, "would_match_immediately"),
        (("buy", "0.01", "55000", "60000", "60100"), 3, "would_trigger_immediately"),
        # prices on the tick 0.01
        (("sell", "0.01", "66000.001", "58000", "57900"), 2, "invalid_amount"),
        (("sell", "0.01", "66000", "58000.001", "57900"), 2, "invalid_amount"),
        (("sell", "0.01", "66000", "58000", "57900.001"), 2, "invalid_amount"),
        # each leg's notional ≥ 5: 0.0001 × 40000 = 4 (the stop leg), 0.0001 × 45000 = 4.5 (the limit leg)
        (("sell", "0.0001", "66000", "58000", "40000"), 3, "min_notional"),
        (("buy", "0.0001", "45000", "65000", "65100"), 3, "min_notional"),
        # the quantity on the step 0.00001
        (("sell", "0.000001", "66000", "58000", "57900"), 2, "invalid_amount"),
        # 0.02 BTC to sell, the wallet holds 0.01
        (("sell", "0.02", "66000", "58000", "57900"), 3, "insufficient_balance"),
        # a buy holds 0.02 × 65100 = 1302 USDT, the wallet holds none
        (("buy", "0.02", "55000", "65000", "65100"), 3, "insufficient_balance"),
    ],
)
def test_an_oco_against_the_rules_is_refused_and_changes_nothing(
    wallet: Wallet, args: tuple[str, str, str, str, str], exit_code: int, code: str
) -> None:
    fund_cross(wallet, usdt=None, btc="0.01")
    side, quantity, price, stop, stop_limit = args
    result = refused(
        wallet, "trade", "oco", side, "BTC/USDT", quantity, "--price", price, "--stop", stop, "--stop-limit",
        stop_limit, now=at("10:10:00"),
    )  # fmt: skip
    assert (result.code, result.error()["code"]) == (exit_code, code), result.err
    assert len(result.err.splitlines()) == 1


def test_an_oco_without_its_stop_limit_is_a_usage_error(wallet: Wallet) -> None:
    fund_cross(wallet, usdt=None, btc="0.01")
    result = refused(
        wallet, "trade", "oco", "sell", "BTC/USDT", "0.01", "--price", "66000", "--stop", "58000", now=at("10:10:00")
    )
    assert (result.code, result.error()["code"]) == (2, "invalid_input")
    assert "--stop-limit" in result.error()["message"]


def test_a_liquidation_cancels_both_legs_of_an_open_list(wallet: Wallet) -> None:
    fund_cross(wallet)
    # 0.05 × 60000 = 3000 with 1000 own: borrows 2000 (ON_BORROW 0.02); receives 0.05 − 0.00005 = 0.04995
    wallet.ok("trade", "buy", "BTC/USDT", "0.05", "--side-effect", "auto-borrow", now=at("10:10:00"))
    placed = wallet.ok(
        "trade", "oco", "sell", "BTC/USDT", "0.04995", "--price", "66000", "--stop", "35000", "--stop-limit", "34900",
        now=at("10:11:00"),
    )  # fmt: skip
    # at 40000 (above the stop 35000): 0.04995 × 40000 / 2000.02 = 1998 / 2000.02 = 0.99899… ≤ 1.1
    update = wallet.ok("price", "set", "BTC/USDT", "40000", now=at("10:20:00"))
    assert (update["triggered"], update["filled"]) == (0, 0)
    assert len(update["liquidations"]) == 1
    every = orders_by_id(wallet, at("10:21:00"), include_closed=True)
    assert {every[leg["orderId"]]["status"] for leg in placed["orders"]} == {"CANCELED"}
    assert list_status(wallet, placed["orderListId"]) == ("ALL_DONE", "ALL_DONE")
    assert balances(wallet, at("10:21:00"))["BTC"]["locked"] == "0.00000000"
    assert_audit_clean(wallet, at("10:21:00"))
