"""`trade oco` as people and scripts see it: the command line, the text, the `orders` table, `cancel`."""

from __future__ import annotations

import pytest

from tests.conftest import Wallet, run_cli

NOW = "2026-01-05T10:10:00Z"
SELL_OCO = ("trade", "oco", "sell", "BTC/USDT", "0.01", "--price", "66000", "--stop", "58000", "--stop-limit", "57900")


def long_of_001_btc(wallet: Wallet) -> None:
    wallet.ok("deposit", "BTC", "0.01", now="2026-01-05T10:00:00Z")
    wallet.ok("transfer", "BTC", "0.01", "--yes", now="2026-01-05T10:01:00Z")


def test_trade_oco_prints_both_legs_and_the_list(wallet: Wallet) -> None:
    long_of_001_btc(wallet)
    result = wallet.run(*SELL_OCO, now=NOW)
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "Order 1: SELL 0.01000000 BTC/USDT STOP_LOSS_LIMIT @ 57900.00 stop 58000.00 — NEW",
        "Order 2: SELL 0.01000000 BTC/USDT LIMIT_MAKER @ 66000.00 — NEW",
        "OCO list 1: EXEC_STARTED; a fill or the stop's trigger expires the other.",
    ]


def test_orders_table_shows_the_list_of_each_leg_and_none_for_a_single_order(
    wallet: Wallet, monkeypatch: pytest.MonkeyPatch
) -> None:
    long_of_001_btc(wallet)
    wallet.ok("deposit", "USDT", "100", now="2026-01-05T10:02:00Z")
    wallet.ok("transfer", "USDT", "100", "--yes", now="2026-01-05T10:03:00Z")
    wallet.ok(*SELL_OCO, now=NOW)
    wallet.ok("trade", "buy", "BTC/USDT", "0.001", "--price", "50000", now=NOW)
    monkeypatch.setenv("COLUMNS", "150")
    lines = wallet.run("orders", now=NOW).out.splitlines()
    assert lines[0].split() == [
        "orderId", "List", "Time", "Wallet", "Side", "Type", "Price", "Stop", "Qty", "Executed", "Status", "Effect"
    ]  # fmt: skip
    rows = [[*line.split()[:2], line.split()[5]] for line in lines[2:]]
    assert rows == [["3", "-", "LIMIT"], ["2", "1", "LIMIT_MAKER"], ["1", "1", "STOP_LOSS_LIMIT"]]


def test_orders_table_without_a_list_has_no_list_column(wallet: Wallet, monkeypatch: pytest.MonkeyPatch) -> None:
    wallet.ok("deposit", "USDT", "100", now="2026-01-05T10:02:00Z")
    wallet.ok("transfer", "USDT", "100", "--yes", now="2026-01-05T10:03:00Z")
    wallet.ok("trade", "buy", "BTC/USDT", "0.001", "--price", "50000", now=NOW)
    monkeypatch.setenv("COLUMNS", "150")
    assert "List" not in wallet.run("orders", now=NOW).out.splitlines()[0]


def test_a_single_order_carries_order_list_id_minus_one_as_on_binance(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "100", now="2026-01-05T10:02:00Z")
    wallet.ok("transfer", "USDT", "100", "--yes", now="2026-01-05T10:03:00Z")
    order = wallet.ok("trade", "buy", "BTC/USDT", "0.001", now=NOW)
    assert order["orderListId"] == -1
    assert order["status"] == "FILLED"


def test_cancel_of_one_leg_says_both_legs_were_cancelled(wallet: Wallet) -> None:
    long_of_001_btc(wallet)
    wallet.ok(*SELL_OCO, now=NOW)
    result = wallet.run("cancel", "2", now="2026-01-05T10:20:00Z")
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "Cancelled order 1 (SELL 0.01000000 BTC/USDT, OCO list 1).",
        "Cancelled order 2 (SELL 0.01000000 BTC/USDT, OCO list 1).",
    ]


def test_trade_oco_help_shows_its_own_usage_and_trade_keeps_its_own() -> None:
    assert "Usage: marginctl trade oco [OPTIONS] SIDE PAIR QUANTITY" in run_cli(["trade", "oco", "--help"]).out
    assert "--stop-limit STOP_LIMIT" in run_cli(["trade", "oco", "--help"]).out
    assert "Usage: marginctl trade [OPTIONS] SIDE PAIR [QUANTITY]" in run_cli(["trade", "--help"]).out


def test_trade_oco_with_a_missing_quantity_is_a_usage_error(wallet: Wallet) -> None:
    result = wallet.run("trade", "oco", "sell", "BTC/USDT", "--price", "66000", "--json", now=NOW)
    assert (result.code, result.error()["code"]) == (2, "usage")
