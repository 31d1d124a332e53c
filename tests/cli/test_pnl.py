"""`marginctl pnl` and status's PnL: the README's worked example placed through the CLI, worked by hand.

Market orders fill at the last price, and the default config has maker fee = taker fee = 0.1 %, so each
fill's price and fee below follow from the `price set` before it. A buy's fee is taken in the base it
receives, so a position moves by what the wallet gained: a buy of 0.1 BTC adds 0.1 − 0.0001 = 0.0999.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.cli.test_terminal import assert_whole
from tests.conftest import Wallet, asset_row

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
    # received 0.1 − 0.0001 = 0.0999 and 0.05 − 0.00005 = 0.04995; 0.0999 + 0.04995 − 0.06 = 0.08985 left
    # average (0.0999 × 60000 + 0.04995 × 63000) / 0.14985 = (5994 + 3146.85) / 0.14985 = 61000
    assert (btc["quantity"], btc["side"], btc["averageEntryPrice"]) == ("0.08985000", "LONG", "61000.00000000")
    assert btc["lastPrice"] == "65000.00000000"
    # realized (64000 − 61000) × 0.06 = 180; unrealized (65000 − 61000) × 0.08985 = 359.4
    assert (btc["realizedPnl"], btc["unrealizedPnl"]) == ("180.00000000", "359.40000000")
    # fees 0.0001 BTC × 60000 + 0.00005 BTC × 63000 + 3840 USDT × 0.001 = 6 + 3.15 + 3.84 = 12.99
    assert btc["fees"] == "12.99000000"
    # 180 + 359.4 − 12.99 − 0 = 526.41
    assert (btc["interest"], btc["netPnl"]) == ("0.00000000", "526.41000000")


def test_a_longs_net_is_what_the_wallet_really_gained(traded: Wallet) -> None:
    btc = position(traded.ok("pnl", now=at("11:30:00")), "BTC")
    # paid 6000 + 3150 = 9150 USDT, got 3840 − 3.84 = 3836.16 USDT and holds 0.08985 BTC × 65000 = 5840.25:
    # 3836.16 + 5840.25 − 9150 = 526.41
    assert btc["netPnl"] == "526.41000000"


def test_each_fill_lists_its_trade_id_price_and_realized_pnl(traded: Wallet) -> None:
    btc = position(traded.ok("pnl", now=at("11:30:00")), "BTC")
    keys = ("tradeId", "side", "price", "qty", "realizedPnl")
    assert [tuple(fill[key] for key in keys) for fill in btc["fills"]] == [
        (1, "BUY", "60000.00000000", "0.10000000", "0.00000000"),
        (2, "BUY", "63000.00000000", "0.05000000", "0.00000000"),
        (3, "SELL", "64000.00000000", "0.06000000", "180.00000000"),
    ]
    assert btc["fills"][2]["time"] == at("10:05:00")


def test_a_short_covered_by_its_gross_quantity_keeps_the_fee_dust_short_with_its_interest_counted(
    traded: Wallet,
) -> None:
    eth = position(traded.ok("pnl", now=at("11:30:00")), "ETH")
    # the covers received 0.4 − 0.0004 = 0.3996 and 0.6 − 0.0006 = 0.5994: −1 + 0.3996 + 0.5994 = −0.001,
    # the fee dust the wallet still owes, short at the 3000 average
    assert (eth["quantity"], eth["side"], eth["averageEntryPrice"]) == ("-0.00100000", "SHORT", "3000.00000000")
    # (3000 − 2800) × 0.3996 + (3000 − 2900) × 0.5994 = 79.92 + 59.94 = 139.86
    assert [fill["realizedPnl"] for fill in eth["fills"]] == ["0.00000000", "79.92000000", "59.94000000"]
    assert eth["realizedPnl"] == "139.86000000"
    # (3000 − 2900) × 0.001 = 0.1
    assert eth["unrealizedPnl"] == "0.10000000"
    # fees 3000 × 0.001 + 0.0004 ETH × 2800 + 0.0006 ETH × 2900 = 3 + 1.12 + 1.74 = 5.86
    assert eth["fees"] == "5.86000000"
    # interest 1 × 0.000096 / 24 = 0.000004 ETH at the borrow and at 11:00: 0.000008 × 2900 = 0.0232
    assert eth["interest"] == "0.02320000"
    # 139.86 + 0.1 − 5.86 − 0.0232 = 134.0768; the wallet's own: got 3000 − 3 = 2997 USDT, paid 1120 + 1740,
    # still owes 0.001 ETH × 2900 = 2.9: 2997 − 2860 − 2.9 − 0.0232 = 134.0768
    assert eth["netPnl"] == "134.07680000"


def test_the_wallet_totals_add_up_both_positions(traded: Wallet) -> None:
    document = traded.ok("pnl", now=at("11:30:00"))
    assert (document["wallet"], document["valuationAsset"], document["since"]) == ("cross", "USDT", None)
    # realized 180 + 139.86 = 319.86; unrealized 359.4 + 0.1 = 359.5; fees 12.99 + 5.86 = 18.85; interest 0.0232
    assert document["realizedPnl"] == "319.86000000"
    assert document["unrealizedPnl"] == "359.50000000"
    assert document["fees"] == "18.85000000"
    assert document["interest"] == "0.02320000"
    # 319.86 + 359.5 − 18.85 − 0.0232 = 660.4868
    assert document["netPnl"] == "660.48680000"


def test_since_totals_only_later_fills_but_keeps_the_average_of_all(traded: Wallet) -> None:
    document = traded.ok("pnl", "--since", at("10:10:00"), now=at("11:30:00"))
    btc = position(document, "BTC")
    # no BTC fill at or after 10:10: nothing realized, no fee, but still 0.08985 at 61000 → 359.4 unrealized
    assert (btc["realizedPnl"], btc["fees"], btc["fills"]) == ("0.00000000", "0.00000000", [])
    assert (btc["averageEntryPrice"], btc["unrealizedPnl"]) == ("61000.00000000", "359.40000000")
    # 139.86 + (359.4 + 0.1) − 5.86 − 0.0232 = 493.4768 (the 10:10 borrow's interest counts: at or after)
    assert document["netPnl"] == "493.47680000"
    assert document["since"] == at("10:10:00")


def test_status_carries_the_compact_pnl_with_the_open_position(traded: Wallet) -> None:
    pnl = traded.ok("status", now=at("11:30:00"))["pnl"]
    # the totals of test_the_wallet_totals_add_up_both_positions
    assert (pnl["realizedPnl"], pnl["unrealizedPnl"], pnl["fees"], pnl["interest"], pnl["netPnl"]) == (
        "319.86000000",
        "359.50000000",
        "18.85000000",
        "0.02320000",
        "660.48680000",
    )
    # open positions only: the long, and the ETH short's 0.001 dust (unrealized (3000 − 2900) × 0.001 = 0.1)
    assert pnl["positions"] == [
        {
            "asset": "BTC",
            "quantity": "0.08985000",
            "averageEntryPrice": "61000.00000000",
            "unrealizedPnl": "359.40000000",
        },
        {
            "asset": "ETH",
            "quantity": "-0.00100000",
            "averageEntryPrice": "3000.00000000",
            "unrealizedPnl": "0.10000000",
        },
    ]


def test_a_flat_position_is_not_listed_in_status(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1000", now=at("10:00:00"))
    wallet.ok("transfer", "USDT", "1000", "--yes", now=at("10:00:01"))
    wallet.ok("trade", "buy", "BTC/USDT", "0.01", now=at("10:01:00"))  # receives 0.01 − 0.00001 = 0.00999
    wallet.ok("trade", "sell", "BTC/USDT", "0.00999", now=at("10:02:00"))
    assert wallet.ok("status", now=at("10:03:00"))["pnl"]["positions"] == []


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


@pytest.fixture
def bought(wallet: Wallet) -> Wallet:
    """0.1 BTC bought at 60000 in cross: 0.1 − 0.0001 = 0.0999 BTC received, 6000 USDT paid."""
    wallet.ok("deposit", "USDT", "10000", now=at("10:00:00"))
    wallet.ok("transfer", "USDT", "10000", "--yes", now=at("10:00:01"))
    wallet.ok("trade", "buy", "BTC/USDT", "0.1", now=at("10:01:00"))
    return wallet


def test_a_buy_shows_the_position_the_wallet_received(bought: Wallet) -> None:
    btc = position(bought.ok("pnl", now=at("10:02:00")), "BTC")
    # 0.1 − 0.0001 = 0.0999 at 60000; the fill itself lists the gross 0.1 traded
    assert (btc["quantity"], btc["side"], btc["averageEntryPrice"]) == ("0.09990000", "LONG", "60000.00000000")
    assert btc["fills"][0]["qty"] == "0.10000000"
    # unchanged price: (60000 − 60000) × 0.0999 = 0; net 0 − 0.0001 × 60000 = −6 = 5994 − 6000
    assert (btc["unrealizedPnl"], btc["fees"], btc["netPnl"]) == ("0.00000000", "6.00000000", "-6.00000000")


def test_a_long_at_a_higher_price_nets_what_the_wallet_gained(bought: Wallet) -> None:
    bought.ok("price", "set", "BTC/USDT", "65000", now=at("10:02:00"))
    document = bought.ok("pnl", now=at("10:03:00"))
    # (65000 − 60000) × 0.0999 − 6 = 499.5 − 6 = 493.5 = 0.0999 × 65000 − 6000 = 6493.5 − 6000
    assert (document["unrealizedPnl"], document["netPnl"]) == ("499.50000000", "493.50000000")


def test_selling_everything_a_buy_brought_in_leaves_the_position_flat(bought: Wallet) -> None:
    bought.ok("price", "set", "BTC/USDT", "65000", now=at("10:02:00"))
    # the free 0.0999 BTC: what `trade sell BTC/USDT all` sells
    assert asset_row(bought.ok("status", now=at("10:02:30")), "BTC")["free"] == "0.09990000"
    bought.ok("trade", "sell", "BTC/USDT", "0.0999", now=at("10:03:00"))
    btc = position(bought.ok("pnl", now=at("10:04:00")), "BTC")
    assert (btc["quantity"], btc["side"], btc["averageEntryPrice"]) == ("0.00000000", "FLAT", None)
    # realized (65000 − 60000) × 0.0999 = 499.5; fees 6 + 0.0999 × 65000 × 0.001 = 6 + 6.4935 = 12.4935
    assert (btc["realizedPnl"], btc["unrealizedPnl"], btc["fees"]) == ("499.50000000", "0.00000000", "12.49350000")
    # 499.5 − 12.4935 = 487.0065 = the wallet's 6493.5 − 6.4935 − 6000
    assert btc["netPnl"] == "487.00650000"


def test_after_a_liquidation_the_position_is_flat_with_the_loss_at_the_liquidation_price(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1000", now=at("10:00:00"))
    wallet.ok("transfer", "USDT", "1000", "--yes", now=at("10:00:01"))
    # 0.05 × 60000 = 3000 USDT: 1000 own, 2000 borrowed; receives 0.05 − 0.00005 = 0.04995 BTC
    wallet.ok("trade", "buy", "BTC/USDT", "0.05", "--side-effect", "auto-borrow", now=at("10:01:00"))
    # margin level 0.04995 × 44000 / (2000 + 0.02) = 2197.8 / 2000.02 ≈ 1.0989 < 1.1: liquidated, sells 0.04995
    wallet.ok("price", "set", "BTC/USDT", "44000", now=at("10:02:00"))
    document = wallet.ok("pnl", now=at("10:03:00"))
    btc = position(document, "BTC")
    assert (btc["quantity"], btc["side"], btc["averageEntryPrice"]) == ("0.00000000", "FLAT", None)
    # the liquidation's sale is a fill with no commission: (44000 − 60000) × 0.04995 = −799.2
    assert [(fill["side"], fill["price"], fill["qty"]) for fill in btc["fills"]][1] == (
        "SELL",
        "44000.00000000",
        "0.04995000",
    )
    assert (btc["realizedPnl"], btc["unrealizedPnl"]) == ("-799.20000000", "0.00000000")
    # fees: only the buy's 0.00005 BTC × 60000 = 3
    assert btc["fees"] == "3.00000000"
    # interest: the ON_BORROW hour, 2000 × 0.00024 / 24 = 0.02 USDT (no hour boundary before 10:03)
    assert document["interest"] == "0.02000000"
    # The liquidation fee: 2 % of the asset value 0.04995 × 44000 = 2197.8 → 43.956, under the equity left
    # 2197.8 − 2000.02 = 197.78, so charged whole; it is a cost of its own in the net:
    # −799.2 + 0 − 3 − 0.02 − 43.956 = −846.176, the wallet's real loss 1000 − (197.78 − 43.956 = 153.824).
    assert document["liquidationFees"] == "43.95600000"
    assert document["netPnl"] == "-846.17600000"


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


def test_after_a_liquidation_with_negative_equity_the_insurance_payout_caps_the_loss(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1000", now=at("10:00:00"))
    wallet.ok("transfer", "USDT", "1000", "--yes", now=at("10:00:01"))
    wallet.ok("trade", "buy", "BTC/USDT", "0.05", "--side-effect", "auto-borrow", now=at("10:01:00"))
    # borrows 0.05 × 60000 − 1000 = 2000 (ON_BORROW 2000 × 0.00001 = 0.02); holds 0.05 − 0.00005 = 0.04995 BTC
    wallet.ok("price", "set", "BTC/USDT", "30000", now=at("10:02:00"))
    # liquidated: 0.04995 × 30000 = 1498.5 against a debt of 2000.02: no fee, the fund pays 501.52
    document = wallet.ok("pnl", now=at("10:03:00"))
    assert (document["liquidationFees"], document["insurancePayouts"]) == ("0.00000000", "501.52000000")
    # realized (30000 − 60000) × 0.04995 = −1498.5; fees 0.00005 × 60000 = 3; interest 0.02;
    # net −1498.5 − 3 − 0.02 + 501.52 = −1000: the whole deposit, never more
    assert document["realizedPnl"] == "-1498.50000000"
    assert document["netPnl"] == "-1000.00000000"
