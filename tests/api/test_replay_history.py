"""`serve --replay --speed max` on Binance's own hourly BTCUSDT candles (docs/BTCUSDT-1h-*.csv, see docs/DATA.md):
bots written for Binance, unchanged, walk through May 2021 and the FTX week one candle per price request.

The candles the arithmetic uses are quoted from the files in the comments.
"""

from __future__ import annotations

from pathlib import Path

from tests.api.conftest import start_server
from tests.api.test_replay import client_for
from tests.api.test_sessions import Ccxt
from tests.conftest import new_wallet

DOCS = Path(__file__).resolve().parent.parent.parent / "docs"
HOUR_MS = 3_600_000
#: 2021-05-19T04:00:00Z and 2021-05-19T01:00:00Z in milliseconds
MAY_19_0400 = 1621396800000
MAY_19_0100 = 1621386000000


def test_a_python_binance_bot_s_isolated_long_through_may_2021(tmp_path: Path) -> None:
    """1000 USDT in BTC/USDT's isolated wallet; at the first candle's close (2021-05-01 00:00, close 57811.42) the
    bot buys 0.05 BTC with MARGIN_BUY: 2890.571 USDT, 1890.571 borrowed, fee 0.00005 BTC → 0.04995 BTC.

    Interest 1890.571 × 0.00001 = 0.01890571 an hour, charged at the borrow and at every hour boundary.
    Margin call (1.08): the first price ≤ 1.08 × debt / 0.04995 ≈ 41054.21 — no low before 19 May is under
    42001; 19 May 01:00's low 40500.15 is. Liquidation (1.05): 437 charges by 19 May 04:00 (the borrow and
    18 × 24 + 4 boundaries), debt 1890.571 + 437 × 0.01890571 = 1898.83279527, threshold
    1.05 × 1898.83279527 / 0.04995 = 39915.40; 02:00's low 40275 and 03:00's 40125 stay above it, 04:00's
    low 38604.93 does not: 0.04995 × 38604.93 = 1928.3162535 of assets, level 1928.3162535 / 1898.83279527
    = 1.01552714…; the fee is what is left above the debt, 29.48345823 (2 % would be 38.57), nothing remains.
    """
    wallet = new_wallet(tmp_path / "may.db")
    at = "2021-05-01T00:00:00Z"
    wallet.ok("deposit", "USDT", "1000", now=at)
    wallet.ok("transfer", "USDT", "1000", "--to", "BTC/USDT", "--yes", now=at)
    key = wallet.ok("apikey", "create", now=at)
    server = start_server(wallet, tmp_path, "--replay", str(DOCS / "BTCUSDT-1h-2021-05.csv"), "--speed", "max")
    try:
        bot = client_for(server.url, key)
        assert bot.get_symbol_ticker(symbol="BTCUSDT")["price"] == "57811.42"
        bought = bot.create_margin_order(
            symbol="BTCUSDT", isIsolated="TRUE", side="BUY", type="MARKET", quantity="0.05", sideEffectType="MARGIN_BUY"
        )
        assert bought["status"] == "FILLED" and bought["marginBuyBorrowAmount"] == "1890.57100000"
        # the bot's loop: read the price until the clock has passed the liquidation (19 May 04:00 is candle 436)
        closes = [bot.get_symbol_ticker(symbol="BTCUSDT")["price"] for _ in range(436)]
        assert closes[-1] == "39307.66"  # 19 May 04:00's close
        assert bot.get_server_time()["serverTime"] == MAY_19_0400 + HOUR_MS - 1
        rows = bot.get_margin_force_liquidation_rec(isolatedSymbol="BTCUSDT")["rows"]
        assert [(row["updatedTime"], row["executedQty"], row["avgPrice"]) for row in rows] == [
            (MAY_19_0400, "0.04995000", "38604.93000000")
        ]
        after = bot.get_isolated_margin_account(symbols="BTCUSDT")["assets"][0]
        assert (after["quoteAsset"]["free"], after["quoteAsset"]["borrowed"], after["baseAsset"]["free"]) == (
            "0.00000000",
            "0.00000000",
            "0.00000000",
        )
    finally:
        server.stop()
    calls = [line for line in server.log if "margin call" in line]
    assert len(calls) == 1 and "replay 2021-05-19T01:00:00Z" in calls[0]
    (liquidated,) = [line for line in server.log if "LIQUIDATED" in line]
    assert "replay 2021-05-19T04:00:00Z" in liquidated and "level 1.01552714" in liquidated
    status = wallet.ok("status", "--isolated", "BTC/USDT", now="2021-05-19T05:00:00Z")
    assert status["lastLiquidation"]["liquidationFee"] == "29.48345823"
    assert wallet.ok("audit", now="2021-05-19T05:00:00Z")["ok"] is True


def test_a_ccxt_bot_s_short_through_the_ftx_week(tmp_path: Path) -> None:
    """10000 USDT in cross. At the close of 2022-11-06 00:00 (21325.19) the bot sells 0.1 BTC it borrows
    (MARGIN_BUY): 2132.519 USDT less the 0.1 % fee 2.132519 = 2130.386481 USDT. At the close of 9 Nov 23:00
    (15922.81) it buys 0.1002 BTC with AUTO_REPAY: 1595.465562 USDT, fee 0.0001002 BTC → 0.1000998 BTC.

    The loan's interest: 0.1 × 0.000002 = 0.0000002 BTC at the borrow and at each of the 95 hour boundaries
    from 6 Nov 01:00 to 9 Nov 23:00 (23 + 24 + 24 + 24) = 96 × 0.0000002 = 0.0000192 BTC; owed 0.1000192,
    repaid from the 0.1000998 bought, 0.0000806 BTC left. USDT: 10000 + 2130.386481 − 1595.465562 = 10534.920919.
    """
    wallet = new_wallet(tmp_path / "ftx.db")
    at = "2022-11-01T00:00:00Z"
    wallet.ok("deposit", "USDT", "10000", now=at)
    wallet.ok("transfer", "USDT", "10000", "--yes", now=at)
    key = wallet.ok("apikey", "create", now=at)
    server = start_server(wallet, tmp_path, "--replay", str(DOCS / "BTCUSDT-1h-2022-11.csv"), "--speed", "max")
    try:
        bot = Ccxt(server.url, key["apiKey"], key["secretKey"])
        bot.load_markets()

        def next_price() -> str:
            return str(bot.exchange.public_get_ticker_price({"symbol": "BTCUSDT"})["price"])

        # 1 Nov 00:00 … 6 Nov 00:00 is candles 1 to 121
        prices = [next_price() for _ in range(121)]
        assert prices[0] == "20456.57" and prices[-1] == "21325.19"
        sold = bot.order(side="SELL", type="MARKET", quantity="0.1", sideEffectType="MARGIN_BUY")
        assert (sold["status"], sold["cummulativeQuoteQty"]) == ("FILLED", "2132.51900000")
        # 6 Nov 01:00 … 9 Nov 23:00: 95 candles more
        prices = [next_price() for _ in range(95)]
        assert prices[-1] == "15922.81"
        bought = bot.order(side="BUY", type="MARKET", quantity="0.1002", sideEffectType="AUTO_REPAY")
        assert (bought["status"], bought["cummulativeQuoteQty"]) == ("FILLED", "1595.46556200")
        balance = bot.exchange.fetch_balance({"type": "margin", "marginMode": "cross"})
        assets = {row["asset"]: row for row in balance["info"]["userAssets"]}
        assert (assets["USDT"]["free"], assets["USDT"]["borrowed"]) == ("10534.92091900", "0.00000000")
        assert (assets["BTC"]["free"], assets["BTC"]["borrowed"], assets["BTC"]["interest"]) == (
            "0.00008060",
            "0.00000000",
            "0.00000000",
        )
    finally:
        server.stop()
    assert wallet.ok("audit", now="2022-11-10T00:00:00Z")["ok"] is True
