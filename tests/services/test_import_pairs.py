"""`price import` without `--pair`: each file's name says its pair (data.binance.vision's BTCUSDT-1m-2021-05.zip),
and several pairs' files in one run are merged in time order, one open time at a time.

The wallet's risk check must see every pair's price of the moment, and a move of two pairs at once must be caught
even where each move alone would change nothing.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import Wallet
from tests.services.test_risk_engine import KLINE_DAY, assert_audit_clean, kline_row, t, write_klines

FLAT_BTC = ("60000.00", "60000.00", "60000.00", "60000.00")
FLAT_ETH = ("3000.00", "3000.00", "3000.00", "3000.00")


def prices_of(wallet: Wallet, now: str) -> dict[str, tuple[str, str]]:
    return {row["pair"]: (row["price"], row["source"]) for row in wallet.ok("price", "show", now=now)}


def test_the_pair_and_interval_come_from_the_file_name(wallet: Wallet, tmp_path: Path) -> None:
    wallet.ok("deposit", "USDT", "100", now=t("09:00:00", KLINE_DAY))
    rows = [kline_row(t("10:00:00", KLINE_DAY), ("3000.00", "3010.00", "2990.00", "3005.00"))]
    path = write_klines(tmp_path, rows, name=f"ETHUSDT-1m-{KLINE_DAY}")
    summary = wallet.ok("price", "import", str(path), now=t("09:30:00", KLINE_DAY))
    assert (summary["pair"], summary["pairs"], summary["candles"]) == ("ETH/USDT", ["ETH/USDT"], 1)
    assert prices_of(wallet, t("10:05:00", KLINE_DAY))["ETH/USDT"] == ("3005.00", "import")
    # the text names the pair too
    text = wallet.run("price", "import", str(path), now=t("09:30:00", KLINE_DAY))
    assert text.code != 0  # the wallet's clock is past this candle now: a second import is refused
    assert "ClockBackwards" not in text.err and text.err.startswith("error:")


def test_two_pairs_merge_in_time_order_and_fill_each_pair_s_orders(wallet: Wallet, tmp_path: Path) -> None:
    """A resting ETH buy and a resting BTC buy; ETH's candle reaches its limit at 10:01, BTC's at 10:02."""
    wallet.ok("deposit", "USDT", "1000", now=t("09:50:00", KLINE_DAY))
    wallet.ok("transfer", "USDT", "1000", "--yes", now=t("09:51:00", KLINE_DAY))
    wallet.ok("trade", "buy", "ETH/USDT", "0.1", "--price", "2900", now=t("09:52:00", KLINE_DAY))
    wallet.ok("trade", "buy", "BTC/USDT", "0.005", "--price", "59000", now=t("09:53:00", KLINE_DAY))
    btc = [
        kline_row(t("10:00:00", KLINE_DAY), FLAT_BTC),
        kline_row(t("10:01:00", KLINE_DAY), FLAT_BTC),
        kline_row(t("10:02:00", KLINE_DAY), ("60000.00", "60000.00", "58900.00", "59500.00")),
    ]
    eth = [
        kline_row(t("10:00:00", KLINE_DAY), FLAT_ETH),
        kline_row(t("10:01:00", KLINE_DAY), ("3000.00", "3000.00", "2890.00", "2950.00")),
        kline_row(t("10:02:00", KLINE_DAY), ("2950.00", "2950.00", "2950.00", "2950.00")),
    ]
    files = [
        str(write_klines(tmp_path, btc, name=f"BTCUSDT-1m-{KLINE_DAY}")),
        str(write_klines(tmp_path, eth, name=f"ETHUSDT-1m-{KLINE_DAY}", as_zip=True)),
    ]
    summary = wallet.ok("price", "import", *files, now=t("09:55:00", KLINE_DAY))
    assert summary["pair"] is None and summary["pairs"] == ["BTC/USDT", "ETH/USDT"]
    assert (summary["candles"], summary["fills"]) == (6, 2)
    assert summary["from"] == t("10:00:00", KLINE_DAY) and summary["to"].startswith(f"{KLINE_DAY}T10:02:59.999")
    later = t("10:05:00", KLINE_DAY)
    orders = {row["symbol"]: row for row in wallet.ok("orders", "--all", now=later)}
    # ETH's low 2890 ≤ 2900 at the 10:01 candle's open time; BTC's 58900 ≤ 59000 at 10:02
    assert (orders["ETHUSDT"]["status"], orders["ETHUSDT"]["updateTime"]) == ("FILLED", t("10:01:00", KLINE_DAY))
    assert (orders["BTCUSDT"]["status"], orders["BTCUSDT"]["updateTime"]) == ("FILLED", t("10:02:00", KLINE_DAY))
    # both pairs' last closes are the wallet's prices
    prices = prices_of(wallet, later)
    assert prices["BTC/USDT"] == ("59500.00", "import") and prices["ETH/USDT"] == ("2950.00", "import")
    assert_audit_clean(wallet, later)


def test_two_pairs_falling_together_reach_a_margin_call_neither_reaches_alone(wallet: Wallet, tmp_path: Path) -> None:
    """0.02 BTC and 0.4 ETH in cross against a 4000 USDT loan (its first hour's interest 0.04 charged at once).

    Margin call at level ≤ 1.3: 0.02·BTC + 0.4·ETH + 4000 ≤ 1.3 × 4000.04 = 5200.052, i.e. holdings ≤ 1200.052.
    BTC alone at 30000 (ETH 3000): 600 + 1200 = 1800 — no call; ETH alone at 1500: 1200 + 600 — no call.
    Both: 600 + 600 = 1200 ≤ 1200.052 — a call, at ETH's low of 10:02, level 5200 / 4000.04 = 1.29998700…
    (no liquidation: 1.15 × 4000.04 − 4000 = 600.046 < 1200)."""
    wallet.ok("deposit", "BTC", "0.02", now=t("09:40:00", KLINE_DAY))
    wallet.ok("deposit", "ETH", "0.4", now=t("09:40:00", KLINE_DAY))
    wallet.ok("transfer", "BTC", "0.02", "--yes", now=t("09:41:00", KLINE_DAY))
    wallet.ok("transfer", "ETH", "0.4", now=t("09:41:00", KLINE_DAY))
    wallet.ok("borrow", "USDT", "4000", "--yes", now=t("09:42:00", KLINE_DAY))
    btc = [
        kline_row(t("09:50:00", KLINE_DAY), FLAT_BTC),
        kline_row(t("09:51:00", KLINE_DAY), ("60000.00", "60000.00", "30000.00", "30000.00")),
        kline_row(t("09:52:00", KLINE_DAY), ("30000.00", "30000.00", "30000.00", "30000.00")),
    ]
    eth = [
        kline_row(t("09:50:00", KLINE_DAY), FLAT_ETH),
        kline_row(t("09:51:00", KLINE_DAY), FLAT_ETH),
        kline_row(t("09:52:00", KLINE_DAY), ("3000.00", "3000.00", "1500.00", "1500.00")),
    ]
    files = [
        str(write_klines(tmp_path, eth, name=f"ETHUSDT-1m-{KLINE_DAY}")),
        str(write_klines(tmp_path, btc, name=f"BTCUSDT-1m-{KLINE_DAY}")),
    ]
    summary = wallet.ok("price", "import", *files, now=t("09:45:00", KLINE_DAY))
    assert summary["liquidationCount"] == 0
    calls = [(call["wallet"], call["time"], call["marginLevelStatus"]) for call in summary["marginCalls"]]
    assert calls == [("cross", t("09:52:00", KLINE_DAY), "MARGIN_CALL")]
    level = Decimal(summary["marginCalls"][0]["marginLevel"])
    assert Decimal("1.29998") < level < Decimal("1.29999")  # 5200 / 4000.04 = 1.2999870…
    assert_audit_clean(wallet, t("10:05:00", KLINE_DAY))


@pytest.mark.parametrize(
    ("names", "pair_option", "message"),
    [
        (["klines"], [], "klines.csv: the name does not say the pair (as in BTCUSDT-1m-2021-05.zip); use --pair"),
        (["XRPUSDT-1m-2026-03-01"], [], "XRPUSDT-1m-2026-03-01.csv holds XRPUSDT klines, not a configured pair"),
        (
            ["ETHUSDT-1m-2026-03-01"],
            ["--pair", "BTC/USDT"],
            "ETHUSDT-1m-2026-03-01.csv holds ETHUSDT klines, not BTCUSDT",
        ),
        (
            ["BTCUSDT-1m-2026-03-01", "ETHUSDT-1h-2026-03-01"],
            [],
            "several pairs in one import need one interval, to merge them in time order: BTC/USDT 1m, ETH/USDT 1h",
        ),
        (["BTCUSDT-1h-2026-03-01"], ["--interval", "1m"], "BTCUSDT-1h-2026-03-01.csv holds 1h klines, not 1m"),
        (["BTCUSDT-7m-2026-03-01"], [], "BTCUSDT-7m-2026-03-01.csv: interval 7m is not one of"),
    ],
)
def test_files_that_do_not_say_their_pair_are_refused_and_change_nothing(
    wallet: Wallet, tmp_path: Path, names: list[str], pair_option: list[str], message: str
) -> None:
    wallet.ok("deposit", "USDT", "100", now=t("09:00:00", KLINE_DAY))
    before = wallet.ok("history", now=t("09:01:00", KLINE_DAY))
    files = [str(write_klines(tmp_path, [kline_row(t("10:00:00", KLINE_DAY), FLAT_BTC)], name=name)) for name in names]
    result = wallet.run("price", "import", *files, *pair_option, now=t("09:30:00", KLINE_DAY))
    assert result.code == 2, result.err
    (line,) = result.err.splitlines()
    assert line.startswith(f"error: {message}"), line
    assert wallet.ok("history", now=t("09:01:00", KLINE_DAY)) == before
    assert prices_of(wallet, t("09:01:00", KLINE_DAY))["BTC/USDT"] == ("60000.00", "config")
