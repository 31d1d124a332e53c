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
    # the wallet's clock is past this candle now: a second import of it is refused
    again = wallet.run("price", "import", str(path), now=t("09:30:00", KLINE_DAY))
    assert again.code == 2, again
    assert again.err.startswith("error: time 2026-03-01T10:00:00Z is before the wallet's last event at "), again.err
    assert "a replay needs a wallet whose clock is at or before its first candle" in again.err


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


def test_a_quiet_candle_meets_the_other_pairs_where_its_path_stands(wallet: Wallet, tmp_path: Path) -> None:
    """Short 0.03 BTC (sold at 60000 for 1800 − 0.1 % = 1798.2 USDT, 0.03 borrowed; its first hour's interest
    0.03 × 0.000002 = 0.00000006 BTC), long 1 ETH, in cross. At 10:00 BTC's candle (O 60000 L 60000 H 91000
    C 60000, rising: open, low, high, close) stands at its high 91000 when ETH's falls to its low 1000, as when
    every price is played: (1798.2 + 1000) / (0.03000006 × 91000) = 2798.2 / 2730.005… = 1.0249795… ≤ 1.1,
    a liquidation. Neither move alone reaches it: BTC at 91000 with ETH 3000 gives 4798.2 / 2730.005 = 1.757…;
    ETH at 1000 with BTC 60000 gives 2798.2 / 1800.0036 = 1.554…; BTC's candle is quiet on its own band."""
    day = KLINE_DAY
    wallet.ok("deposit", "ETH", "1", now=t("09:40:00", day))
    wallet.ok("transfer", "ETH", "1", "--yes", now=t("09:41:00", day))
    wallet.ok("trade", "sell", "BTC/USDT", "0.03", "--side-effect", "auto-borrow", now=t("09:42:00", day))
    btc = [kline_row(t("10:00:00", day), ("60000.00", "91000.00", "60000.00", "60000.00"))]
    eth = [kline_row(t("10:00:00", day), ("3000.00", "3000.00", "1000.00", "3000.00"))]
    files = [
        str(write_klines(tmp_path, btc, name=f"BTCUSDT-1m-{day}")),
        str(write_klines(tmp_path, eth, name=f"ETHUSDT-1m-{day}")),
    ]
    summary = wallet.ok("price", "import", *files, now=t("09:50:00", day))
    (liquidation,) = summary["liquidations"]
    assert (liquidation["wallet"], liquidation["time"]) == ("cross", t("10:00:00", day))
    assert Decimal("1.02497") < Decimal(liquidation["marginLevel"]) < Decimal("1.02498")
    assert_audit_clean(wallet, t("10:05:00", day))


SOL_CONFIG = """
[assets.SOL]
decimals = 8
daily_interest_rate = "0.0001"
collateral_ratio = "1"
borrow_limit = "1000"

[pairs."SOL/BTC"]
tick_size = "0.000001"
step_size = "0.01"
min_notional = "0.0001"
price = "0.002"
"""


def test_an_asset_valued_through_another_pair_is_watched_on_that_pair(tmp_path: Path) -> None:
    """SOL has no SOL/USDT pair: it is valued as SOL/BTC × BTC/USDT = 0.002 × 60000 = 120 USDT. 10 SOL (1200)
    in cross against 800 USDT borrowed (its first hour 800 × 0.00001 = 0.008): level 2000 / 800.008 = 2.4999….
    Only BTC/USDT's candles are replayed: at the low 30000 SOL is worth 10 × 0.002 × 30000 = 600, the level
    (600 + 800) / 800.008 = 1.74998… — and at 20000, 400: 1200 / 800.008 = 1.49998…, then at 10000, 200:
    1000 / 800.008 = 1.24998… ≤ 1.3, a margin call, though the wallet holds no BTC."""
    wallet = Wallet(tmp_path / "sol.db", config=tmp_path / "sol.toml")
    (tmp_path / "sol.toml").write_text(SOL_CONFIG, encoding="utf-8")
    day = KLINE_DAY
    wallet.ok("deposit", "SOL", "10", now=t("09:40:00", day))
    wallet.ok("transfer", "SOL", "10", "--yes", now=t("09:41:00", day))
    wallet.ok("borrow", "USDT", "800", "--yes", now=t("09:42:00", day))
    btc = [
        kline_row(t("09:50:00", day), ("60000.00", "60000.00", "30000.00", "30000.00")),
        kline_row(t("09:51:00", day), ("30000.00", "30000.00", "20000.00", "20000.00")),
        kline_row(t("09:52:00", day), ("20000.00", "20000.00", "10000.00", "10000.00")),
    ]
    summary = wallet.ok(
        "price", "import", str(write_klines(tmp_path, btc, name=f"BTCUSDT-1m-{day}")), now=t("09:45:00", day)
    )
    # the summary keeps a wallet's latest call of the command: the candle's close, 10000 again
    calls = [(call["wallet"], call["time"][:16], call["marginLevel"][:6]) for call in summary["marginCalls"]]
    assert calls == [("cross", f"{day}T09:52", "1.2499")]
