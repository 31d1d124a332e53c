"""The clock of `serve --replay --speed N`, driven by hand: a write that happens between two candles (a bot's
order at the simulated time) is never followed by a price booked earlier than it."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from marginctl.api.replay import load_feed
from tests.conftest import Wallet, new_wallet

MINUTE_MS = 60_000
#: 2021-05-12T00:00:00Z
START_MS = 1620777600000


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def context_for(wallet: Wallet) -> Any:
    from marginctl.config import load_config
    from marginctl.services.context import Context
    from marginctl.store.database import locate

    database = locate(wallet.target)
    file_config = load_config(None)
    return lambda now: Context(file_config=file_config, database=database, now=now, creates_wallet=False)


def test_a_candle_after_a_bot_s_order_books_its_prices_no_earlier_than_the_order(tmp_path: Path) -> None:
    wallet = new_wallet(tmp_path / "clock.db")
    wallet.ok("deposit", "USDT", "1000", now="2021-05-12T00:00:00Z")
    wallet.ok("transfer", "USDT", "1000", "--yes", now="2021-05-12T00:00:00Z")
    path = tmp_path / "BTCUSDT-1m-2021-05-12.csv"
    with path.open("w", newline="") as file:
        rows = [("56000.00", "56000.00", "56000.00", "56000.00"), ("56000.00", "56000.00", "54000.00", "54500.00")]
        for index, prices in enumerate(rows):
            opened = START_MS + index * MINUTE_MS
            csv.writer(file).writerow([opened, *prices, "1", opened + MINUTE_MS - 1, "0", "0", "0", "0", "0"])
    contexts = context_for(wallet)
    feed = load_feed(contexts(None), [str(path)], None, None, "60")
    try:
        # 00:01:30 on the simulated clock: the first candle (closed 00:00:59.999) is played, the second not yet
        feed.simulated_now = lambda: moment("2021-05-12T00:01:30Z")  # type: ignore[method-assign]
        feed.advance(contexts)
        assert feed.clock == moment("2021-05-12T00:01:30Z")
        # the bot's order at the simulated time, 00:01:30: a limit buy of 0.001 BTC at 55000
        order = wallet.ok("trade", "buy", "BTC/USDT", "0.001", "--price", "55000", now="2021-05-12T00:01:30Z")
        assert order["status"] == "NEW"
        # 00:02:00: the second candle (opened 00:01:00) falls to 54000 and fills the buy — at 00:01:30, not before
        feed.simulated_now = lambda: moment("2021-05-12T00:02:00Z")  # type: ignore[method-assign]
        feed.advance(contexts)
        (filled,) = [row for row in wallet.ok("orders", "--all", now="2021-05-12T00:02:00Z") if row["type"] == "LIMIT"]
        assert (filled["status"], filled["updateTime"]) == ("FILLED", "2021-05-12T00:01:30Z")
        # 0.001 × 55000 = 55 USDT spent: 1000 − 55 = 945
        status = wallet.ok("status", now="2021-05-12T00:02:00Z")
        (usdt,) = [row for row in status["userAssets"] if row["asset"] == "USDT"]
        assert usdt["free"] == "945.00000000"
        assert feed.finished  # both candles played
        assert wallet.ok("audit", now="2021-05-12T00:02:00Z")["ok"] is True
    finally:
        contexts(None).database.close()
