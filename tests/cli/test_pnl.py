"""`marginctl pnl` and status's PnL: the README's worked example placed through the CLI, worked by hand.

Market orders fill at the last price, and the default config has maker fee = taker fee = 0.1 %, so each
fill's price and fee below follow from the `price set` before it.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.cli.test_terminal import assert_whole
from tests.conftest import Wallet

DAY = "2026-01-05"


def at(clock: str) -> str:
    return f"{DAY}T{clock}Z"


@pytest.fixture
def traded(wallet: Wallet) -> Wallet:
    """A BTC long with a partial sell and an ETH short covered in two fills, in cross."""
    wallet.ok("deposit", "USDT", "10000", now=at("10:00:00"))
    wallet.ok("transfer", "USDT", "10000", "--yes", now=at("10:00:01"))
    wallet.ok("trade", "buy", "BTC/USDT", "0.1", now=at("10:01:00"))  # at the config price 60000
    wallet.ok("price", "set", "BTC/USDT", "63000", now=at("10:02:00"))
    wallet.ok("trade", "buy", "BTC/USDT", "0.05", now=at("10:03:00"))
    wallet.ok("price", "set", "BTC/USDT", "64000", now=at("10:04:00"))
    wallet.ok("trade", "sell", "BTC/USDT", "0.06", now=at("10:05:00"))
    wallet.ok("trade", "sell", "ETH/USDT", "1", "--side-effect", "auto-borrow", now=at("10:10:00"))  # at 3000
    wallet.ok("price", "set", "ETH/USDT", "2800", now=at("10:30:00"))
    wallet.ok("trade", "buy", "ETH/USDT", "0.4", now=at("10:31:00"))
    wallet.ok("accrue", now=at("11:05:00"))
    wallet.ok("price", "set", "ETH/USDT", "2900", now=at("11:10:00"))
    wallet.ok("trade", "buy", "ETH/USDT", "0.6", now=at("11:11:00"))
    wallet.ok("price", "set", "BTC/USDT", "65000", now=at("11:20:00"))
    return wallet


def position(document: dict[str, Any], asset: str) -> dict[str, Any]:
    return next(row for row in document["positions"] if row["asset"] == asset)


def test_a_long_with_a_partial_sell_shows_its_average_entry_and_both_pnls(traded: Wallet) -> None:
    btc = position(traded.ok("pnl", now=at("11:30:00")), "BTC")
    # average (0.1 × 60000 + 0.05 × 63000) / 0.15 = 61000; 0.15 − 0.06 = 0.09 left
    assert (btc["quantity"], btc["side"], btc["averageEntryPrice"]) == ("0.09000000", "LONG", "61000.00000000")
    assert btc["lastPrice"] == "65000.00000000"
    # realized (64000 − 61000) × 0.06 = 180; unrealized (65000 − 61000) × 0.09 = 360
    assert (btc["realizedPnl"], btc["unrealizedPnl"]) == ("180.00000000", "360.00000000")
    # fees 0.0001 BTC × 60000 + 0.00005 BTC × 63000 + 3840 USDT × 0.001 = 6 + 3.15 + 3.84 = 12.99
    assert btc["fees"] == "12.99000000"
    # 180 + 360 − 12.99 − 0 = 527.01
    assert (btc["interest"], btc["netPnl"]) == ("0.00000000", "527.01000000")


def test_each_fill_lists_its_trade_id_price_and_realized_pnl(traded: Wallet) -> None:
    btc = position(traded.ok("pnl", now=at("11:30:00")), "BTC")
    keys = ("tradeId", "side", "price", "qty", "realizedPnl")
    assert [tuple(fill[key] for key in keys) for fill in btc["fills"]] == [
        (1, "BUY", "60000.00000000", "0.10000000", "0.00000000"),
        (2, "BUY", "63000.00000000", "0.05000000", "0.00000000"),
        (3, "SELL", "64000.00000000", "0.06000000", "180.00000000"),
    ]
    assert btc["fills"][2]["time"] == at("10:05:00")


def test_a_short_covered_in_two_fills_is_flat_with_its_interest_counted(traded: Wallet) -> None:
    eth = position(traded.ok("pnl", now=at("11:30:00")), "ETH")
    # 1 − 0.4 − 0.6 = 0: flat, so no average entry
    assert (eth["quantity"], eth["side"], eth["averageEntryPrice"]) == ("0.00000000", "FLAT", None)
    # (3000 − 2800) × 0.4 + (3000 − 2900) × 0.6 = 80 + 60 = 140
    assert [fill["realizedPnl"] for fill in eth["fills"]] == ["0.00000000", "80.00000000", "60.00000000"]
    assert eth["realizedPnl"] == "140.00000000"
    # fees 3000 × 0.001 + 0.0004 ETH × 2800 + 0.0006 ETH × 2900 = 3 + 1.12 + 1.74 = 5.86
    assert eth["fees"] == "5.86000000"
    # interest 1 × 0.000096 / 24 = 0.000004 ETH at the borrow and at 11:00: 0.000008 × 2900 = 0.0232
    assert eth["interest"] == "0.02320000"
    # 140 + 0 − 5.86 − 0.0232 = 134.1168
    assert eth["netPnl"] == "134.11680000"


def test_the_wallet_totals_add_up_both_positions(traded: Wallet) -> None:
    document = traded.ok("pnl", now=at("11:30:00"))
    assert (document["wallet"], document["valuationAsset"], document["since"]) == ("cross", "USDT", None)
    # realized 180 + 140 = 320; unrealized 360; fees 12.99 + 5.86 = 18.85; interest 0.0232
    assert document["realizedPnl"] == "320.00000000"
    assert document["unrealizedPnl"] == "360.00000000"
    assert document["fees"] == "18.85000000"
    assert document["interest"] == "0.02320000"
    # 320 + 360 − 18.85 − 0.0232 = 661.1268
    assert document["netPnl"] == "661.12680000"


def test_since_totals_only_later_fills_but_keeps_the_average_of_all(traded: Wallet) -> None:
    document = traded.ok("pnl", "--since", at("10:10:00"), now=at("11:30:00"))
    btc = position(document, "BTC")
    # no BTC fill at or after 10:10: nothing realized, no fee, but still 0.09 at 61000 → 360 unrealized
    assert (btc["realizedPnl"], btc["fees"], btc["fills"]) == ("0.00000000", "0.00000000", [])
    assert (btc["averageEntryPrice"], btc["unrealizedPnl"]) == ("61000.00000000", "360.00000000")
    # 140 + 360 − 5.86 − 0.0232 = 494.1168 (the 10:10 borrow's interest counts: at or after)
    assert document["netPnl"] == "494.11680000"
    assert document["since"] == at("10:10:00")


def test_status_carries_the_compact_pnl_with_the_open_position(traded: Wallet) -> None:
    pnl = traded.ok("status", now=at("11:30:00"))["pnl"]
    assert (pnl["realizedPnl"], pnl["unrealizedPnl"], pnl["fees"], pnl["interest"], pnl["netPnl"]) == (
        "320.00000000",
        "360.00000000",
        "18.85000000",
        "0.02320000",
        "661.12680000",
    )
    # only open positions: the flat ETH short is not listed
    assert pnl["positions"] == [
        {
            "asset": "BTC",
            "quantity": "0.09000000",
            "averageEntryPrice": "61000.00000000",
            "unrealizedPnl": "360.00000000",
        }
    ]


def test_an_isolated_wallet_has_its_own_pnl(traded: Wallet) -> None:
    traded.ok("deposit", "USDT", "1000", now=at("11:31:00"))
    traded.ok("transfer", "USDT", "1000", "--to", "BTC/USDT", now=at("11:31:00"))
    traded.ok("trade", "sell", "BTC/USDT", "0.01", "--isolated", "--side-effect", "auto-borrow", now=at("11:32:00"))
    document = traded.ok("pnl", "--isolated", "BTC/USDT", now=at("11:33:00"))
    btc = position(document, "BTC")
    # a short of 0.01 at 65000 in its own wallet; fee 650 × 0.001 = 0.65 USDT
    assert (btc["quantity"], btc["side"], btc["averageEntryPrice"]) == ("-0.01000000", "SHORT", "65000.00000000")
    assert btc["fees"] == "0.65000000"
    # the ON_BORROW charge 0.01 × 0.000048 / 24 = 0.00000002 BTC × 65000 = 0.0013
    assert document["interest"] == "0.00130000"
    assert traded.ok("status", "--isolated", "BTC/USDT", now=at("11:33:00"))["pnl"]["positions"][0]["quantity"] == (
        "-0.01000000"
    )


def test_all_lists_every_wallet_with_a_trade(traded: Wallet) -> None:
    assert [document["wallet"] for document in traded.ok("pnl", "--all", now=at("11:30:00"))] == ["cross"]


def test_no_trades_is_an_empty_result_and_a_helpful_line(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "100", now=at("10:00:00"))
    document = wallet.ok("pnl")
    assert (document["positions"], document["netPnl"]) == ([], "0.00000000")
    assert wallet.ok("pnl", "--all") == []
    result = wallet.run("pnl")
    assert result.code == 0
    assert "No trades in cross yet" in result.out


def test_isolated_and_all_together_are_a_usage_error(wallet: Wallet) -> None:
    result = wallet.run("pnl", "--isolated", "BTC/USDT", "--all", "--json")
    assert result.code == 2
    assert result.error()["code"] == "invalid_input"


@pytest.mark.parametrize("width", (50, 80, 120))
def test_pnl_and_status_keep_every_figure_whole(traded: Wallet, width: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    document = traded.ok("pnl", now=at("11:30:00"))
    figures = [document[key] for key in ("realizedPnl", "unrealizedPnl", "fees", "interest", "netPnl")]
    figures += [row[key] for row in document["positions"] for key in ("quantity", "realizedPnl", "netPnl")]
    assert_whole(traded.run("pnl", now=at("11:30:00")), figures, width)
    status = traded.ok("status", now=at("11:30:00"))["pnl"]
    figures = [status[key] for key in ("realizedPnl", "unrealizedPnl", "fees", "interest", "netPnl")]
    figures += [status["positions"][0]["quantity"], status["positions"][0]["averageEntryPrice"]]
    assert_whole(traded.run("status", now=at("11:30:00")), figures, width)
