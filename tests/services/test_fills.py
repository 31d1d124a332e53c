"""Fills as Binance books them (issue 13, items 1–4, 6 and 9): prices, maker/taker fees, the fee entry,
autoRepayAtCancel, repay records, order fields, `trade sell PAIR all` and `trade buy PAIR --close`.

Numbers by hand from the default config unless a test sets one: BTC/USDT 60000, tick 0.01, step 0.00001,
min notional 5; USDT daily 0.00024 (hourly 0.00001), BTC daily 0.000048 (hourly 0.000002); cross 3x.
MAKER_TAKER sets maker 0.0002 and taker 0.0005 so a test can tell them apart. A buy's fee = qty × rate
rounded up to 8 places, in BTC; a sell's fee = gross × rate rounded up to 8 places, in USDT.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from tests.conftest import Wallet

DAY = "2026-01-05"

MAKER_TAKER = """
[fees]
maker = "0.0002"
taker = "0.0005"
"""


def at(clock: str) -> str:
    return f"{DAY}T{clock}Z"


def fund_cross(wallet: Wallet, usdt: str = "1000") -> None:
    wallet.ok("deposit", "USDT", usdt, now=at("10:00:00"))
    wallet.ok("transfer", "USDT", usdt, "--yes", now=at("10:01:00"))


def balances(wallet: Wallet, now: str) -> dict[str, dict[str, Any]]:
    return {row["asset"]: row for row in wallet.ok("status", now=now)["userAssets"]}


def assert_audit_clean(wallet: Wallet, now: str) -> None:
    assert wallet.ok("audit", now=now)["ok"] is True


# --- Item 1: fill prices ------------------------------------------------------------------------------


def test_a_marketable_buy_limit_fills_at_the_last_price_as_taker(wallet: Wallet) -> None:
    wallet.with_config(MAKER_TAKER)
    fund_cross(wallet)
    wallet.ok("price", "set", "BTC/USDT", "54000", now=at("10:02:00"))
    order = wallet.ok("trade", "buy", "BTC/USDT", "0.001", "--price", "60000", now=at("10:03:00"))
    assert order["status"] == "FILLED"
    fill = order["fills"][0]
    # at the last price 54000, taker fee 0.001 × 0.0005 = 0.0000005 BTC
    assert {key: fill[key] for key in ("price", "qty", "commission", "commissionAsset")} == {
        "price": "54000.00",
        "qty": "0.00100000",
        "commission": "0.00000050",
        "commissionAsset": "BTC",
    }
    assert isinstance(fill["tradeId"], int)
    rows = balances(wallet, at("10:04:00"))
    assert rows["USDT"]["free"] == "946.00000000"  # 1000 − 0.001 × 54000
    assert rows["BTC"]["free"] == "0.00099950"  # 0.001 − 0.0000005
    assert_audit_clean(wallet, at("10:05:00"))


def test_a_marketable_sell_limit_fills_at_the_last_price(wallet: Wallet) -> None:
    wallet.with_config(MAKER_TAKER)
    wallet.ok("deposit", "BTC", "0.01", now=at("10:00:00"))
    wallet.ok("transfer", "BTC", "0.01", "--yes", now=at("10:01:00"))
    wallet.ok("price", "set", "BTC/USDT", "54000", now=at("10:02:00"))
    order = wallet.ok("trade", "sell", "BTC/USDT", "0.01", "--price", "50000", now=at("10:03:00"))
    assert order["fills"][0]["price"] == "54000.00"
    assert order["fills"][0]["commission"] == "0.27000000"  # 0.01 × 54000 = 540; 540 × 0.0005 = 0.27
    assert balances(wallet, at("10:04:00"))["USDT"]["free"] == "539.73000000"  # 540 − 0.27


def test_a_marketable_limits_funds_check_is_its_cost_at_the_last_price(wallet: Wallet) -> None:
    fund_cross(wallet, "54")
    wallet.ok("price", "set", "BTC/USDT", "54000", now=at("10:02:00"))
    # 0.001 × 54000 = 54 ≤ 54 free (0.001 × 60000 = 60 would not be)
    order = wallet.ok("trade", "buy", "BTC/USDT", "0.001", "--price", "60000", now=at("10:03:00"))
    assert order["status"] == "FILLED"
    assert balances(wallet, at("10:04:00"))["USDT"]["free"] == "0.00000000"


def test_a_marketable_limit_with_auto_borrow_borrows_its_shortfall_at_the_last_price(wallet: Wallet) -> None:
    fund_cross(wallet)
    wallet.ok("price", "set", "BTC/USDT", "54000", now=at("10:02:00"))
    order = wallet.ok(
        "trade", "buy", "BTC/USDT", "0.03", "--price", "60000", "--side-effect", "auto-borrow", now=at("10:03:00")
    )
    # costs 0.03 × 54000 = 1620; free 1000: borrows 620 (not 0.03 × 60000 − 1000 = 800)
    assert order["marginBuyBorrowAmount"] == "620.00000000"
    rows = balances(wallet, at("10:04:00"))
    assert rows["USDT"]["free"] == "0.00000000"
    assert rows["USDT"]["borrowed"] == "620.00000000"
    assert_audit_clean(wallet, at("10:05:00"))


def test_a_resting_buy_limit_fills_at_its_limit_as_maker_from_what_it_held(wallet: Wallet) -> None:
    wallet.with_config(MAKER_TAKER)
    fund_cross(wallet)
    order = wallet.ok("trade", "buy", "BTC/USDT", "0.01", "--price", "59000", now=at("10:02:00"))
    assert balances(wallet, at("10:03:00"))["USDT"]["locked"] == "590.00000000"  # 0.01 × 59000
    update = wallet.ok("price", "set", "BTC/USDT", "58000", now=at("10:04:00"))
    assert update["filled"] == 1
    filled = {row["orderId"]: row for row in wallet.ok("orders", "--all", now=at("10:05:00"))}[order["orderId"]]
    assert filled["cummulativeQuoteQty"] == "590.00000000"  # at its limit 59000, not at 58000
    rows = balances(wallet, at("10:05:00"))
    assert rows["USDT"]["free"] == "410.00000000"  # 1000 − 590
    assert rows["USDT"]["locked"] == "0.00000000"
    assert rows["BTC"]["free"] == "0.00999800"  # maker fee 0.01 × 0.0002 = 0.000002
    assert_audit_clean(wallet, at("10:06:00"))


def test_a_stop_limit_marketable_when_triggered_fills_at_the_trigger_price_and_frees_the_rest(
    wallet: Wallet,
) -> None:
    wallet.with_config(MAKER_TAKER)
    fund_cross(wallet)
    wallet.ok("trade", "buy", "BTC/USDT", "0.01", "--stop", "61000", "--price", "61500", now=at("10:02:00"))
    assert balances(wallet, at("10:03:00"))["USDT"]["locked"] == "615.00000000"  # 0.01 × 61500
    update = wallet.ok("price", "set", "BTC/USDT", "61200", now=at("10:04:00"))
    # 61200 ≥ 61000 triggers; the buy limit 61500 ≥ 61200 is marketable: taker at 61200
    assert (update["triggered"], update["filled"]) == (1, 1)
    rows = balances(wallet, at("10:05:00"))
    assert rows["USDT"]["free"] == "388.00000000"  # pays 0.01 × 61200 = 612; 615 − 612 = 3 back: 1000 − 612
    assert rows["USDT"]["locked"] == "0.00000000"
    assert rows["BTC"]["free"] == "0.00999500"  # taker fee 0.01 × 0.0005 = 0.000005
    assert_audit_clean(wallet, at("10:06:00"))


def test_a_kline_path_fills_a_resting_limit_at_its_limit_as_maker(wallet: Wallet, tmp_path: Any) -> None:
    wallet.with_config(MAKER_TAKER)
    fund_cross(wallet)
    wallet.ok("trade", "buy", "BTC/USDT", "0.01", "--price", "59000", now=at("10:02:00"))
    # one 1m candle at 10:05: open 60000, high 60100, low 58500, close 59500 (the low crosses 59000)
    start = 1767607500000  # 2026-01-05T10:05:00Z in milliseconds
    candle = f"{start},60000,60100,58500,59500,1,{start + 59999},0,1,0,0,0\n"
    (tmp_path / "BTCUSDT-1m-2026-01-05.csv").write_text(candle, encoding="utf-8")
    wallet.ok("price", "import", str(tmp_path / "BTCUSDT-1m-2026-01-05.csv"), "--pair", "BTC/USDT", now=at("10:30:00"))
    rows = balances(wallet, at("10:31:00"))
    assert rows["USDT"]["free"] == "410.00000000"  # paid its limit: 1000 − 0.01 × 59000
    assert rows["BTC"]["free"] == "0.00999800"  # maker 0.01 × 0.0002 = 0.000002
    assert_audit_clean(wallet, at("10:32:00"))


# --- Item 2: the fee is its own entry -----------------------------------------------------------------


def test_a_fill_books_the_gross_trade_and_the_fee_as_its_own_entry(wallet: Wallet) -> None:
    fund_cross(wallet)
    order = wallet.ok("trade", "buy", "BTC/USDT", "0.01", now=at("10:02:00"))
    trade_id = order["fills"][0]["tradeId"]
    trade = wallet.ok("history", "--kind", "trade", now=at("10:03:00"))[0]
    changes = {(change["asset"], change["field"]): change["amount"] for change in trade["changes"]}
    # gross: 0.01 BTC in, 0.01 × 60000 = 600 USDT out
    assert changes == {("USDT", "free"): "-600.00000000", ("BTC", "free"): "0.01000000"}
    fee = wallet.ok("history", "--kind", "fee", now=at("10:03:00"))
    assert len(fee) == 1
    # 0.01 × 0.001 = 0.00001 BTC
    assert fee[0]["changes"] == [{"wallet": "cross", "asset": "BTC", "field": "free", "amount": "-0.00001000"}]
    assert f"order {order['orderId']}" in fee[0]["memo"]
    assert f"trade {trade_id}" in fee[0]["memo"]
    assert_audit_clean(wallet, at("10:04:00"))


def test_history_csv_has_a_fee_row(wallet: Wallet) -> None:
    fund_cross(wallet)
    wallet.ok("trade", "sell", "BTC/USDT", "0.01", "--side-effect", "auto-borrow", now=at("10:02:00"))
    result = wallet.run("history", "--csv", now=at("10:03:00"))
    assert result.code == 0
    rows = [row for row in csv.DictReader(io.StringIO(result.out)) if row["kind"] == "fee"]
    # 0.01 × 60000 = 600; 600 × 0.001 = 0.6 USDT
    assert [(row["asset"], row["field"], row["amount"]) for row in rows] == [("USDT", "free", "-0.60000000")]


# --- Items 3 and 4: autoRepayAtCancel and repay records ----------------------------------------------


def test_cancel_in_the_same_hour_repays_the_loan_and_its_on_borrow_interest(wallet: Wallet) -> None:
    fund_cross(wallet)
    order = wallet.ok(
        "trade", "buy", "BTC/USDT", "0.0325", "--price", "59000", "--side-effect", "auto-borrow", now=at("10:10:00")
    )
    # holds 0.0325 × 59000 = 1917.5; free 1000: borrows 917.5, ON_BORROW 917.5 × 0.00001 = 0.009175
    assert order["marginBuyBorrowAmount"] == "917.50000000"
    cancelled = wallet.ok("cancel", str(order["orderId"]), now=at("10:20:00"))
    assert cancelled[0]["repaid"] == [
        {"asset": "USDT", "amount": "917.50917500", "interest": "0.00917500", "principal": "917.50000000"}
    ]
    rows = balances(wallet, at("10:21:00"))
    assert rows["USDT"]["borrowed"] == rows["USDT"]["interest"] == "0.00000000"
    assert rows["USDT"]["free"] == "999.99082500"  # 1917.5 unlocked − 917.509175
    assert_audit_clean(wallet, at("10:22:00"))


ISSUE_RATE = """
[assets.USDT]
daily_interest_rate = "0.00048"
"""


def test_the_issues_cancel_repays_950_019_and_leaves_no_loan(wallet: Wallet) -> None:
    wallet.with_config(ISSUE_RATE)
    fund_cross(wallet)
    order = wallet.ok(
        "trade", "buy", "BTC/USDT", "0.05", "--price", "39000", "--side-effect", "auto-borrow", now=at("10:10:00")
    )
    # holds 0.05 × 39000 = 1950; free 1000: borrows 950; first hour 950 × 0.00048 / 24 = 0.019
    assert order["marginBuyBorrowAmount"] == "950.00000000"
    assert balances(wallet, at("10:11:00"))["USDT"]["interest"] == "0.01900000"
    cancelled = wallet.ok("cancel", str(order["orderId"]), now=at("10:12:00"))
    assert cancelled[0]["repaid"] == [
        {"asset": "USDT", "amount": "950.01900000", "interest": "0.01900000", "principal": "950.00000000"}
    ]
    rows = balances(wallet, at("10:13:00"))
    assert rows["USDT"]["borrowed"] == rows["USDT"]["interest"] == "0.00000000"
    assert rows["USDT"]["free"] == "999.98100000"  # 1950 unlocked − 950.019
    assert_audit_clean(wallet, at("10:14:00"))


def test_cancel_hours_later_repays_every_hour_charged_on_the_orders_loan(wallet: Wallet) -> None:
    fund_cross(wallet)
    order = wallet.ok(
        "trade", "buy", "BTC/USDT", "0.05", "--price", "59000", "--side-effect", "auto-borrow", now=at("10:10:00")
    )
    # borrows 0.05 × 59000 − 1000 = 1950; each hour 1950 × 0.00001 = 0.0195
    cancelled = wallet.ok("cancel", str(order["orderId"]), now=at("12:30:00"))
    # ON_BORROW + PERIODIC 11:00 + PERIODIC 12:00 = 3 × 0.0195 = 0.0585; 1950 + 0.0585 = 1950.0585
    assert cancelled[0]["repaid"] == [
        {"asset": "USDT", "amount": "1950.05850000", "interest": "0.05850000", "principal": "1950.00000000"}
    ]
    rows = balances(wallet, at("12:31:00"))
    assert rows["USDT"]["borrowed"] == rows["USDT"]["interest"] == "0.00000000"
    assert rows["USDT"]["free"] == "999.94150000"  # 2950 unlocked − 1950.0585
    assert_audit_clean(wallet, at("12:32:00"))


def test_cancel_repays_each_hour_of_the_orders_loan_at_the_rate_in_force_then(wallet: Wallet) -> None:
    fund_cross(wallet)
    # Another loan in the wallet, so the cancel's repayment is not capped by what is owed.
    wallet.ok("borrow", "USDT", "100", "--yes", now=at("10:05:00"))  # ON_BORROW 100 × 0.00024 / 24 = 0.001
    order = wallet.ok(
        "trade", "buy", "BTC/USDT", "0.05", "--price", "59000", "--side-effect", "auto-borrow", now=at("10:10:00")
    )
    # holds 0.05 × 59000 = 2950; free 1100: borrows 1850; ON_BORROW at the old rate: 1850 × 0.00001 = 0.0185
    assert order["marginBuyBorrowAmount"] == "1850.00000000"
    raised = wallet.file.parent / "raised.toml"
    raised.write_text('[assets.USDT]\ndaily_interest_rate = "0.00048"\n', encoding="utf-8")
    wallet.ok("config", "apply", str(raised), "--yes", now=at("10:30:00"))
    cancelled = wallet.ok("cancel", str(order["orderId"]), now=at("11:05:00"))
    # The order's loan: 11:00 at the new rate 1850 × 0.00048 / 24 = 0.037; interest 0.0185 + 0.037 = 0.0555
    # (at the new rate for both hours it would be 0.074), principal 1850: 1850.0555 in all.
    assert cancelled[0]["repaid"] == [
        {"asset": "USDT", "amount": "1850.05550000", "interest": "0.05550000", "principal": "1850.00000000"}
    ]
    rows = balances(wallet, at("11:06:00"))
    # The other loan stays whole with its own interest: 0.001 at borrowing + 11:00's 100 × 0.00002 = 0.003.
    assert (rows["USDT"]["borrowed"], rows["USDT"]["interest"]) == ("100.00000000", "0.00300000")
    assert_audit_clean(wallet, at("11:07:00"))


def test_an_auto_repay_fill_reports_what_it_repaid_interest_first(wallet: Wallet) -> None:
    fund_cross(wallet)
    wallet.ok("trade", "sell", "BTC/USDT", "0.01", "--side-effect", "auto-borrow", now=at("10:02:00"))
    # owes 0.01 BTC + ON_BORROW 0.01 × 0.000002 = 0.00000002
    order = wallet.ok("trade", "buy", "BTC/USDT", "0.01", "--side-effect", "auto-repay", now=at("10:03:00"))
    # receives 0.01 − 0.00001 fee = 0.00999: 0.00000002 interest, then 0.00998998 principal
    assert order["repaid"] == [
        {"asset": "BTC", "amount": "0.00999000", "interest": "0.00000002", "principal": "0.00998998"}
    ]


# --- Item 6: order fields -----------------------------------------------------------------------------


def test_orders_carry_transact_time_time_in_force_and_is_working(wallet: Wallet) -> None:
    fund_cross(wallet)
    limit = wallet.ok("trade", "buy", "BTC/USDT", "0.001", "--price", "50000", now=at("10:02:00"))
    stop = wallet.ok("trade", "buy", "BTC/USDT", "0.001", "--stop", "61000", "--price", "59000", now=at("10:03:00"))
    assert "time" not in limit
    assert (limit["transactTime"], limit["timeInForce"], limit["isWorking"]) == (at("10:02:00"), "GTC", True)
    assert (stop["transactTime"], stop["timeInForce"], stop["isWorking"]) == (at("10:03:00"), "GTC", False)
    # 61500 ≥ 61000 triggers the stop; its buy limit 59000 < 61500 is not marketable: it rests, working
    wallet.ok("price", "set", "BTC/USDT", "61500", now=at("10:04:00"))
    rows = {row["orderId"]: row for row in wallet.ok("orders", now=at("10:05:00"))}
    assert rows[stop["orderId"]]["isWorking"] is True
    assert rows[stop["orderId"]]["updateTime"] == at("10:04:00")


# --- Item 9: sell all, buy --close --------------------------------------------------------------------


def test_sell_all_sells_what_is_free_rounded_down_to_the_step(wallet: Wallet) -> None:
    wallet.ok("deposit", "BTC", "0.0100099", now=at("10:00:00"))
    wallet.ok("transfer", "BTC", "0.0100099", "--yes", now=at("10:01:00"))
    order = wallet.ok("trade", "sell", "BTC/USDT", "all", now=at("10:02:00"))
    assert order["origQty"] == "0.01000000"  # 0.0100099 down to the step 0.00001
    rows = balances(wallet, at("10:03:00"))
    assert rows["BTC"]["free"] == "0.00000990"  # 0.0100099 − 0.01
    assert rows["USDT"]["free"] == "599.40000000"  # 600 − 0.6 fee


def test_sell_all_with_nothing_free_is_refused(wallet: Wallet) -> None:
    fund_cross(wallet)
    result = wallet.run("trade", "sell", "BTC/USDT", "all", "--json", now=at("10:02:00"))
    assert result.code == 3
    assert result.error()["code"] == "insufficient_balance"


def short_then_cover(wallet: Wallet, *cover: str) -> dict[str, Any]:
    """The issue's short: 5000 USDT of collateral, sell 0.1 borrowed BTC at 60000, then cover it.

    The short owes 0.1 BTC + ON_BORROW 0.1 × 0.000002 = 0.0000002; USDT 5000 + 6000 − 6 fee = 10994.
    """
    fund_cross(wallet, "5000")
    wallet.ok("trade", "sell", "BTC/USDT", "0.1", "--side-effect", "auto-borrow", now=at("10:02:00"))
    return wallet.ok("trade", "buy", "BTC/USDT", *cover, now=at("10:03:00"))


def test_covering_a_short_with_its_quantity_leaves_dust_debt_as_the_fee_is_in_btc(wallet: Wallet) -> None:
    short_then_cover(wallet, "0.1", "--side-effect", "auto-repay")
    btc = balances(wallet, at("10:04:00"))["BTC"]
    # receives 0.1 − 0.0001 fee = 0.0999; repays 0.0000002 interest, then 0.0998998: 0.0001002 stays owed
    assert btc["borrowed"] == "0.00010020"
    assert btc["liquidationPrice"] is not None


def test_buy_close_repays_the_whole_base_debt_so_no_dust_loan_remains(wallet: Wallet) -> None:
    order = short_then_cover(wallet, "--close")
    # needed 0.1000002; 0.1000002 / 0.999 = 0.10010030…, up to the step: 0.10011 (0.1001 − 0.0001001 fee =
    # 0.0999999 < 0.1000002); fee 0.10011 × 0.001 = 0.00010011, receives 0.10000989 ≥ 0.1000002
    assert order["origQty"] == "0.10011000"
    assert order["sideEffectType"] == "AUTO_REPAY"
    assert order["repaid"] == [
        {"asset": "BTC", "amount": "0.10000020", "interest": "0.00000020", "principal": "0.10000000"}
    ]
    rows = balances(wallet, at("10:04:00"))
    assert rows["BTC"]["borrowed"] == rows["BTC"]["interest"] == "0.00000000"
    assert rows["BTC"]["free"] == "0.00000969"  # 0.10000989 − 0.1000002
    assert rows["BTC"]["liquidationPrice"] is None
    assert rows["USDT"]["free"] == "4987.40000000"  # 10994 − 0.10011 × 60000 = 10994 − 6006.6
    assert_audit_clean(wallet, at("10:05:00"))


def test_buy_close_is_raised_to_the_minimum_notional(wallet: Wallet) -> None:
    fund_cross(wallet)
    wallet.ok("borrow", "BTC", "0.00005", "--yes", now=at("10:02:00"))
    wallet.ok("transfer", "BTC", "0.00005", "--from", "cross", "--to", "spot", now=at("10:03:00"))
    order = wallet.ok("trade", "buy", "BTC/USDT", "--close", now=at("10:04:00"))
    # owes 0.00005 + 0.00005 × 0.000002 = 0.0000000001 → up to 8 places 0.00000001: 0.00005001; /0.999 → 0.00006
    # is worth 0.00006 × 60000 = 3.6 < 5: raised to 5 / 60000 = 0.0000833…, up to the step: 0.00009 (5.4)
    assert order["origQty"] == "0.00009000"
    assert balances(wallet, at("10:05:00"))["BTC"]["borrowed"] == "0.00000000"


def test_buy_close_with_no_base_debt_is_refused(wallet: Wallet) -> None:
    fund_cross(wallet)
    result = wallet.run("trade", "buy", "BTC/USDT", "--close", "--json", now=at("10:02:00"))
    assert result.code == 3
    assert result.error()["code"] == "repay_exceeds_debt"


def test_close_with_some_base_already_free_repays_the_whole_debt(wallet: Wallet) -> None:
    fund_cross(wallet)
    wallet.ok("trade", "sell", "BTC/USDT", "0.02", "--side-effect", "auto-borrow", now=at("10:02:00"))
    # owes 0.02 BTC + ON_BORROW 0.02 × 0.000048 / 24 = 0.00000004
    wallet.ok("trade", "buy", "BTC/USDT", "0.005", now=at("10:03:00"))  # free 0.005 − 0.000005 fee = 0.004995
    order = wallet.ok("trade", "buy", "BTC/USDT", "--close", now=at("10:04:00"))
    # needed 0.02000004 − 0.004995 = 0.01500504; / 0.999 = 0.0150200… → 0.01503 on the step
    # (0.01502 would bring 0.01502 − 0.00001502 = 0.01500498, short); it brings 0.01503 − 0.00001503 = 0.01501497.
    assert order["origQty"] == "0.01503000"
    # the fill repays 0.01501497 (interest 0.00000004 first), then the free BTC the rest 0.02000004 − 0.01501497
    assert order["repaid"] == [
        {"asset": "BTC", "amount": "0.01501497", "interest": "0.00000004", "principal": "0.01501493"},
        {"asset": "BTC", "amount": "0.00498507", "interest": "0.00000000", "principal": "0.00498507"},
    ]
    rows = balances(wallet, at("10:05:00"))
    assert rows["BTC"]["borrowed"] == rows["BTC"]["interest"] == "0.00000000"
    assert rows["BTC"]["free"] == "0.00000993"  # 0.004995 − 0.00498507
    assert_audit_clean(wallet, at("10:06:00"))


# --- One price, many fills (issue 14: plain fills are booked as a batch) ---------------------------------


def test_one_price_fills_every_crossed_order_and_books_them_as_if_one_by_one(wallet: Wallet) -> None:
    """Plain resting limits are decided together and written as one batch; an owner's interest catch-up and an
    auto-repay fill are written in their places. Order ids decide the sequence: main's plain buy, bob's buy
    (bob's loan owes two hours first), main's auto-repay buy, main's second plain buy."""
    wallet.with_config(MAKER_TAKER)
    fund_cross(wallet, "2000")
    wallet.ok("accounts", "create", "bob", now=at("10:01:30"))
    wallet.ok("deposit", "USDT", "1000", now=at("10:01:40"), account="bob")
    wallet.ok("transfer", "USDT", "1000", "--yes", now=at("10:01:50"), account="bob")
    wallet.ok("borrow", "USDT", "100", "--yes", now=at("10:02:00"), account="bob")
    wallet.ok("borrow", "BTC", "0.001", "--yes", now=at("10:02:10"))
    first = wallet.ok("trade", "buy", "BTC/USDT", "0.01", "--price", "59000", now=at("10:03:00"))
    bobs = wallet.ok("trade", "buy", "BTC/USDT", "0.001", "--price", "59500", now=at("10:04:00"), account="bob")
    repaying = wallet.ok(
        "trade", "buy", "BTC/USDT", "0.001", "--price", "59800", "--side-effect", "auto-repay", now=at("10:05:00")
    )
    last = wallet.ok("trade", "buy", "BTC/USDT", "0.002", "--price", "59900", now=at("10:06:00"))
    before = max(entry["tranId"] for entry in wallet.ok("history", now=at("10:07:00")))
    update = wallet.ok("price", "set", "BTC/USDT", "58000", now=at("12:10:00"))
    assert (update["triggered"], update["filled"]) == (0, 4)

    def since_update(account: str) -> list[tuple[int, str, str]]:
        entries = wallet.ok("history", now=at("12:11:00"), account=account)
        return sorted(
            (entry["tranId"], entry["kind"], entry["memo"] or "") for entry in entries if entry["tranId"] > before
        )

    mains, bobs_entries = since_update("main"), since_update("bob")
    journal = sorted(
        [(tran_id, "main", kind, memo) for tran_id, kind, memo in mains]
        + [(tran_id, "bob", kind, memo) for tran_id, kind, memo in bobs_entries]
    )
    sequence = [(who, kind) for _, who, kind, _ in journal]
    # main's BTC loan is caught up by the command itself (it runs as main), before any fill
    assert sequence == [
        ("main", "interest"),
        ("main", "trade"),
        ("main", "fee"),
        ("bob", "interest"),
        ("bob", "trade"),
        ("bob", "fee"),
        ("main", "trade"),
        ("main", "fee"),
        ("main", "repay"),
        ("main", "trade"),
        ("main", "fee"),
    ]
    trade_memos = [memo for _, _, kind, memo in journal if kind == "trade"]
    assert [memo.split()[1] for memo in trade_memos] == [
        str(order["orderId"]) for order in (first, bobs, repaying, last)
    ]
    # each fee names its fill's trade: consecutive ids in booking order, each the trade of its order's price
    fee_trades = [(int(memo.split()[4]), int(memo.split()[6])) for _, _, kind, memo in journal if kind == "fee"]
    orders = (first, bobs, repaying, last)
    assert [order_id for order_id, _ in fee_trades] == [order["orderId"] for order in orders]
    trade_ids = [trade_id for _, trade_id in fee_trades]
    assert trade_ids == list(range(trade_ids[0], trade_ids[0] + 4))
    prices = {
        fill["tradeId"]: fill["price"]
        for account in ("main", "bob")
        for position in wallet.ok("pnl", now=at("12:11:30"), account=account)["positions"]
        for fill in position["fills"]
    }
    expected = [f"{price}.00000000" for price in (59000, 59500, 59800, 59900)]
    assert [prices[trade_id] for trade_id in trade_ids] == expected
    rows = balances(wallet, at("12:12:00"))
    # main: 2000 − 0.01 × 59000 − 0.001 × 59800 − 0.002 × 59900 = 2000 − 590 − 59.8 − 119.8 = 1230.4 USDT
    assert rows["USDT"]["free"] == "1230.40000000"
    # BTC: borrowed 0.001; fills bring 0.01 − 0.000002 + 0.001 − 0.0000002 + 0.002 − 0.0000004 (maker 0.0002)
    # = 0.0129974; the auto-repay fill's 0.0009998 repays interest first. Each charge is 0.001 × 0.000002 =
    # 0.000000002, rounded up to BTC's 8 places: 0.00000001, at borrowing (ON_BORROW) and at 11:00 and 12:00:
    # 0.00000003 of interest, then 0.0009998 − 0.00000003 = 0.00099977 of principal: 0.00000023 stays borrowed
    assert (rows["BTC"]["borrowed"], rows["BTC"]["interest"]) == ("0.00000023", "0.00000000")
    assert rows["BTC"]["free"] == "0.01299760"  # 0.001 + 0.0129974 − 0.0009998 = 0.0129976
    bob = {row["asset"]: row for row in wallet.ok("status", now=at("12:12:00"), account="bob")["userAssets"]}
    # bob: 1000 + 100 borrowed − 0.001 × 59500 = 1040.5; interest ON_BORROW 100 × 0.00001 = 0.001, then
    # 11:00 and 12:00: 0.001 each = 0.003
    assert bob["USDT"]["free"] == "1040.50000000"
    assert bob["USDT"]["interest"] == "0.00300000"
    assert bob["BTC"]["free"] == "0.00099980"  # 0.001 − 0.001 × 0.0002
    assert_audit_clean(wallet, at("12:13:00"))
