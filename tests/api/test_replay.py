"""`serve --replay`: a bot talking Binance's API (the unchanged python-binance) runs against history.

The candles set the wallet's clock and prices; the bot's orders fill at them, its loan accrues by their hours
and its wallet is liquidated by their lows. `/api/v3/time` and `transactTime` report the simulated clock, while
signatures are still checked against the real one.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest
from binance.client import Client
from binance.exceptions import BinanceAPIException

from tests.api.conftest import start_server
from tests.conftest import Wallet, new_wallet

#: 2021-05-12T00:00:00Z in milliseconds, the first candle's open
START_MS = 1620777600000
HOUR_MS = 3_600_000
#: hourly candles (open, high, low, close), a fall like 12 May 2021's
CANDLES = [
    ("56000.00", "56000.00", "56000.00", "56000.00"),
    ("56000.00", "56000.00", "54000.00", "54000.00"),
    ("54000.00", "54000.00", "53000.00", "53500.00"),
    ("53500.00", "53500.00", "52000.00", "52500.00"),
    ("52500.00", "53000.00", "52500.00", "53000.00"),
]


def write_hours(folder: Path, candles: list[tuple[str, str, str, str]] = CANDLES) -> Path:
    path = folder / "BTCUSDT-1h-2021-05-12.csv"
    with path.open("w", newline="") as file:
        for index, prices in enumerate(candles):
            opened = START_MS + index * HOUR_MS
            csv.writer(file).writerow([opened, *prices, "10", opened + HOUR_MS - 1, "0", "0", "0", "0", "0"])
    return path


@pytest.fixture
def history_wallet(tmp_path: Path) -> tuple[Wallet, dict[str, str]]:
    """100 USDT in BTC/USDT's isolated wallet (10x), at the first candle's open, and a trading key."""
    wallet = new_wallet(tmp_path / "replay.db")
    at = "2021-05-12T00:00:00Z"
    wallet.ok("deposit", "USDT", "1000", now=at)
    wallet.ok("transfer", "USDT", "100", "--to", "BTC/USDT", "--yes", now=at)
    key = wallet.ok("apikey", "create", now=at)
    return wallet, key


def client_for(url: str, key: dict[str, str]) -> Client:
    made = Client(key["apiKey"], key["secretKey"], ping=False)
    made.API_URL, made.MARGIN_API_URL = url + "/api", url + "/sapi"
    return made


def test_a_bot_s_isolated_long_is_liquidated_by_the_candles(
    history_wallet: tuple[Wallet, dict[str, str]], tmp_path: Path
) -> None:
    wallet, key = history_wallet
    server = start_server(wallet, tmp_path, "--replay", str(write_hours(tmp_path)), "--speed", "max")
    try:
        bot = client_for(server.url, key)
        # before any price is asked for, the clock is the first candle's open
        assert bot.get_server_time()["serverTime"] == START_MS
        # each price request plays one candle: the clock goes to its close
        assert bot.get_symbol_ticker(symbol="BTCUSDT")["price"] == "56000.00"
        assert bot.get_server_time()["serverTime"] == START_MS + HOUR_MS - 1
        # 0.016 BTC at 56000 = 896 USDT: the wallet's 100 and 796 borrowed (MARGIN_BUY), fee 0.000016 BTC
        order = bot.create_margin_order(
            symbol="BTCUSDT",
            isIsolated="TRUE",
            side="BUY",
            type="MARKET",
            quantity="0.016",
            sideEffectType="MARGIN_BUY",
        )
        assert order["status"] == "FILLED" and order["transactTime"] == START_MS + HOUR_MS - 1
        # 01:00: 54000; the interest so far: 796 × 0.00001 at the borrow and at 01:00 = 0.01592
        # level 0.015984 × 54000 / 796.01592 = 863.136 / 796.01592 = 1.0843… (> 1.08, no call)
        assert bot.get_symbol_ticker(symbol="BTCUSDT")["price"] == "54000.00"
        # 02:00: the low 53000: 847.152 / 796.02388 = 1.0642… ≤ 1.08, a margin call
        assert bot.get_symbol_ticker(symbol="BTCUSDT")["price"] == "53500.00"
        account = bot.get_isolated_margin_account(symbols="BTCUSDT")["assets"][0]
        assert account["quoteAsset"]["borrowed"] == "796.00000000"
        assert account["quoteAsset"]["interest"] == "0.02388000"  # three hours of 0.00796
        # 03:00: the low 52000: 0.015984 × 52000 = 831.168 / 796.03184 = 1.04413… ≤ 1.05: liquidated at 52000
        assert bot.get_symbol_ticker(symbol="BTCUSDT")["price"] == "52500.00"
        liquidations = bot.get_margin_force_liquidation_rec(isolatedSymbol="BTCUSDT")["rows"]
        assert [(row["symbol"], row["updatedTime"]) for row in liquidations] == [("BTCUSDT", START_MS + 3 * HOUR_MS)]
        # fee 2 % × 831.168 = 16.62336; repaid 796 + 0.03184; left 831.168 − 16.62336 − 796.03184 = 18.5128
        after = bot.get_isolated_margin_account(symbols="BTCUSDT")["assets"][0]
        assert (after["quoteAsset"]["free"], after["quoteAsset"]["borrowed"]) == ("18.51280000", "0.00000000")
        assert after["baseAsset"]["free"] == "0.00000000"
        # the last candle, then the clock stays at its close
        assert bot.get_symbol_ticker(symbol="BTCUSDT")["price"] == "53000.00"
        assert bot.get_symbol_ticker(symbol="BTCUSDT")["price"] == "53000.00"
        assert bot.get_server_time()["serverTime"] == START_MS + 5 * HOUR_MS - 1
    finally:
        server.stop()
    calls = [line.strip() for line in server.log if "margin call" in line]
    assert calls == ["replay 2021-05-12T02:00:00Z: margin call: main BTC/USDT level 1.06422937"]  # 847.152 / 796.02388
    assert any("LIQUIDATED" in line and "BTC/USDT" in line for line in server.log)
    assert any("the last candle closed at 2021-05-12T04:59:59.999" in line for line in server.log)
    assert wallet.ok("audit", now="2021-05-12T05:00:00Z")["ok"] is True


def test_signatures_are_checked_against_the_real_clock(
    history_wallet: tuple[Wallet, dict[str, str]], tmp_path: Path
) -> None:
    """A request stamped with the simulated time (2021) is outside recvWindow of the real clock: -1021."""
    wallet, key = history_wallet
    server = start_server(wallet, tmp_path, "--replay", str(write_hours(tmp_path)), "--speed", "max")
    try:
        bot = client_for(server.url, key)
        assert bot.get_isolated_margin_account(symbols="BTCUSDT")["assets"][0]["quoteAsset"]["free"] == "100.00000000"
        stamped_then = client_for(server.url, key)
        stamped_then.timestamp_offset = START_MS - int(time.time() * 1000)
        with pytest.raises(BinanceAPIException) as refused:
            stamped_then.get_isolated_margin_account(symbols="BTCUSDT")
        assert refused.value.code == -1021
    finally:
        server.stop()


def test_with_a_speed_the_clock_runs_by_itself(history_wallet: tuple[Wallet, dict[str, str]], tmp_path: Path) -> None:
    """--speed 36000: ten simulated hours a real second; the five hours are played without a request."""
    wallet, key = history_wallet
    server = start_server(wallet, tmp_path, "--replay", str(write_hours(tmp_path)), "--speed", "36000")
    try:
        deadline = time.monotonic() + 30
        while not any("the last candle closed" in line for line in server.log):
            assert time.monotonic() < deadline, server.log
            time.sleep(0.1)
        bot = client_for(server.url, key)
        assert bot.get_server_time()["serverTime"] == START_MS + 5 * HOUR_MS - 1
        assert bot.get_symbol_ticker(symbol="BTCUSDT")["price"] == "53000.00"
    finally:
        server.stop()
    # watched from outside: the wallet's own last price and clock are the replay's
    shown = {row["pair"]: row for row in wallet.ok("price", "show", now="2021-05-12T05:00:00Z")}
    assert (shown["BTC/USDT"]["price"], shown["BTC/USDT"]["source"]) == ("53000.00", "import")
    assert shown["BTC/USDT"]["time"] == "2021-05-12T04:59:59.999000Z"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--speed", "0"], "--speed must be a number of simulated seconds per second"),
        (["--speed", "fast"], "--speed must be a number of simulated seconds per second"),
        (["--pair", "ETH/USDT"], "BTCUSDT-1h-2021-05-12.csv holds BTCUSDT klines, not ETHUSDT"),
    ],
)
def test_bad_replays_are_refused_before_the_port_opens(
    history_wallet: tuple[Wallet, dict[str, str]], tmp_path: Path, arguments: list[str], message: str
) -> None:
    wallet, _ = history_wallet
    result = wallet.run("serve", "--port", "0", "--replay", str(write_hours(tmp_path)), *arguments)
    assert result.code == 2, result.err
    assert result.err.strip().startswith(f"error: {message}"), result.err


def test_a_wallet_past_the_first_candle_is_refused(tmp_path: Path) -> None:
    wallet = new_wallet(tmp_path / "late.db")
    wallet.ok("deposit", "USDT", "1000", now="2021-05-12T02:00:00Z")
    result = wallet.run("serve", "--port", "0", "--replay", str(write_hours(tmp_path)))
    assert result.code != 0
    assert "a replay needs a wallet whose clock is at or before 2021-05-12T00:00:00Z" in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_a_replay_takes_no_now_and_pair_needs_a_replay(
    history_wallet: tuple[Wallet, dict[str, str]], tmp_path: Path
) -> None:
    wallet, _ = history_wallet
    fixed = wallet.run("serve", "--port", "0", "--replay", str(write_hours(tmp_path)), now="2021-05-12T00:00:00Z")
    assert fixed.code == 2 and "--now and --replay: the replay's candles set the clock" in fixed.err
    alone = wallet.run("serve", "--port", "0", "--pair", "BTC/USDT")
    assert alone.code == 2 and "--pair and --interval go with --replay" in alone.err


def test_a_replay_overtaken_by_another_writer_stops_once_and_the_server_goes_on(
    history_wallet: tuple[Wallet, dict[str, str]], tmp_path: Path
) -> None:
    """A deposit on the system clock (2026) moves the wallet's clock past every candle (2021): the replay cannot
    book them any more. It says so once; price requests are still answered, at the last price played."""
    wallet, key = history_wallet
    server = start_server(wallet, tmp_path, "--replay", str(write_hours(tmp_path)), "--speed", "max")
    try:
        bot = client_for(server.url, key)
        assert bot.get_symbol_ticker(symbol="BTCUSDT")["price"] == "56000.00"
        wallet.ok("deposit", "USDT", "1")  # the real clock
        assert bot.get_symbol_ticker(symbol="BTCUSDT")["price"] == "56000.00"
        assert bot.get_symbol_ticker(symbol="BTCUSDT")["price"] == "56000.00"
    finally:
        server.stop()
    stopped = [line for line in server.log if "the replay stopped" in line]
    assert len(stopped) == 1 and stopped[0].startswith("error: the replay stopped at 2021-05-12T00:59:59.999"), stopped
