"""A price update values only the wallets it can reach (issue 14): each wallet's reach — the price of its one
moving asset at which it reaches the margin-call level — is kept in the wallet file, and must never hide a
crossing: not after interest moved a debt, not when another asset's price moved, not after `config apply`.

Default config (DESIGN §4): cross 3x, margin call 1.3, liquidation 1.1, pre-liquidation band 0.05; USDT daily
0.00024 (hourly 0.00001); BTC daily 0.000048 (hourly 0.000002); taker fee 0.1 %; BTC/USDT 60000, ETH/USDT 3000.
"""

from __future__ import annotations

from decimal import Decimal

from marginctl.domain.margin import AssetBalance
from marginctl.domain.reach import ALWAYS, NEVER, Reach, wallet_reach
from tests.conftest import Wallet

DAY = "2026-02-01"
CALL = Decimal("1.3")


def t(clock: str, day: str = DAY) -> str:
    return f"{day}T{clock}Z"


def calls_of(document: dict[str, object]) -> list[tuple[str, str, str]]:
    calls = document["marginCalls"]
    assert isinstance(calls, list)
    return [(call["wallet"], call["marginLevel"], call["marginLevelStatus"]) for call in calls]


def open_long(wallet: Wallet) -> None:
    """1000 USDT in cross, buy 0.05 BTC at 60000 with auto-borrow: borrows 2000 (ON_BORROW 2000 × 0.00001 =
    0.02), receives 0.05 × 0.999 = 0.04995 BTC; debt 2000.02 USDT."""
    wallet.ok("deposit", "USDT", "1000", now=t("10:00:00"))
    wallet.ok("transfer", "USDT", "1000", "--yes", now=t("10:01:00"))
    wallet.ok("trade", "buy", "BTC/USDT", "0.05", "--side-effect", "auto-borrow", now=t("10:02:00"))


# --- the reach itself (pure) ----------------------------------------------------------------------------


def test_a_long_is_in_danger_at_or_below_one_price() -> None:
    balances = [AssetBalance("BTC", free=Decimal("0.04995")), AssetBalance("USDT", borrowed=Decimal("2000.02"))]
    reach = wallet_reach(balances, {"BTC": Decimal(60000), "USDT": Decimal(1)}, "USDT", CALL)
    # 0.04995 × p / 2000.02 ≤ 1.3 ⇔ p ≤ 1.3 × 2000.02 / 0.04995 = 2600.026 / 0.04995 = 52052.5725…
    assert reach.asset == "BTC" and reach.at_or_above is None and not reach.always
    assert reach.at_or_below is not None and Decimal("52052.5725") < reach.at_or_below < Decimal("52052.5726")
    assert reach.in_danger_at(Decimal("52052.57")) and not reach.in_danger_at(Decimal("52052.58"))


def test_a_short_is_in_danger_at_or_above_one_price() -> None:
    balances = [AssetBalance("USDT", free=Decimal("1599.4")), AssetBalance("BTC", borrowed=Decimal("0.01000002"))]
    reach = wallet_reach(balances, {"BTC": Decimal(60000), "USDT": Decimal(1)}, "USDT", CALL)
    # 1599.4 / (0.01000002 × p) ≤ 1.3 ⇔ p ≥ 1599.4 / 0.013000026 = 123030.523…
    assert reach.asset == "BTC" and reach.at_or_below is None
    assert reach.at_or_above is not None and Decimal("123030.523") < reach.at_or_above < Decimal("123030.524")


def test_two_moving_assets_or_an_unpriced_one_are_checked_at_every_price() -> None:
    two = [
        AssetBalance("BTC", free=Decimal(1)),
        AssetBalance("ETH", free=Decimal(1)),
        AssetBalance("USDT", borrowed=Decimal(10)),
    ]
    prices = {"BTC": Decimal(60000), "ETH": Decimal(3000), "USDT": Decimal(1)}
    assert wallet_reach(two, prices, "USDT", CALL) == ALWAYS
    assert wallet_reach(two, {"BTC": Decimal(60000), "USDT": Decimal(1)}, "USDT", CALL) == ALWAYS


def test_a_wallet_of_the_valuation_asset_alone_is_in_danger_at_all_prices_or_none() -> None:
    # 5000 / 4000.16 = 1.24995…: below 1.3 (always in danger), above 1.16 (never).
    balances = [AssetBalance("USDT", free=Decimal(5000), borrowed=Decimal(4000), interest=Decimal("0.16"))]
    assert wallet_reach(balances, {"USDT": Decimal(1)}, "USDT", CALL) == ALWAYS
    assert wallet_reach(balances, {"USDT": Decimal(1)}, "USDT", Decimal("1.16")) == NEVER


def test_a_long_that_no_positive_price_can_reach_has_no_bound() -> None:
    # 10000 USDT and 1 BTC against 10 USDT: (10000 + p) / 10 > 1.3 at every p > 0.
    balances = [AssetBalance("USDT", free=Decimal(10000), borrowed=Decimal(10)), AssetBalance("BTC", free=Decimal(1))]
    assert wallet_reach(balances, {"BTC": Decimal(60000), "USDT": Decimal(1)}, "USDT", CALL) == Reach("BTC")


# --- what a user sees: no stale reach hides a crossing ------------------------------------------------


def test_interest_that_moves_a_debt_moves_the_price_that_reaches_the_wallet(wallet: Wallet) -> None:
    open_long(wallet)
    first = wallet.ok("price", "set", "BTC/USDT", "52060", now=t("10:03:00"))
    # 0.04995 × 52060 = 2600.397; 2600.397 / 2000.02 = 1.30018… > 1.3: no margin call (reach ≤ 52052.57)
    assert calls_of(first) == []
    # 15 boundaries 11:00 … 01:00 at 2000 × 0.00001 = 0.02: debt 2000.02 + 0.30 = 2000.32;
    # 2600.397 / 2000.32 = 1.2999905… ≤ 1.3 (at 00:00, 2600.397 / 2000.30 = 1.3000035: not yet)
    accrued = wallet.ok("accrue", "--until", t("01:30:00", "2026-02-02"), now=t("01:30:00", "2026-02-02"))
    assert calls_of(accrued) == [("cross", "1.29999050", "MARGIN_CALL")]
    again = wallet.ok("price", "set", "BTC/USDT", "52060", now=t("01:40:00", "2026-02-02"))
    assert calls_of(again) == [("cross", "1.29999050", "MARGIN_CALL")]


def test_a_cross_wallet_of_two_assets_is_reached_after_its_other_price_moved(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1000", now=t("10:00:00"))
    wallet.ok("transfer", "USDT", "1000", "--yes", now=t("10:01:00"))
    # 0.02 × 60000 = 1200: borrows 200 (ON_BORROW 0.002), receives 0.01998 BTC
    wallet.ok("trade", "buy", "BTC/USDT", "0.02", "--side-effect", "auto-borrow", now=t("10:02:00"))
    # 0.2 × 3000 = 600: borrows 600 (ON_BORROW 0.006), receives 0.1998 ETH; debt 800.008 USDT
    wallet.ok("trade", "buy", "ETH/USDT", "0.2", "--side-effect", "auto-borrow", now=t("10:03:00"))
    eth_down = wallet.ok("price", "set", "ETH/USDT", "1500", now=t("10:04:00"))
    # 0.01998 × 60000 + 0.1998 × 1500 = 1198.8 + 299.7 = 1498.5; / 800.008 = 1.873…: no margin call
    assert calls_of(eth_down) == []
    btc_down = wallet.ok("price", "set", "BTC/USDT", "37000", now=t("10:05:00"))
    # 0.01998 × 37000 + 299.7 = 739.26 + 299.7 = 1038.96; / 800.008 = 1.2986870… ≤ 1.3
    # (with ETH still at 3000: (739.26 + 599.4) / 800.008 = 1.673…, no margin call)
    assert calls_of(btc_down) == [("cross", "1.29868701", "MARGIN_CALL")]


def test_a_short_is_reached_when_the_price_rises_to_it(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1000", now=t("10:00:00"))
    wallet.ok("transfer", "USDT", "1000", "--yes", now=t("10:01:00"))
    # borrows 0.01 BTC (ON_BORROW 0.01 × 0.000002 = 0.00000002), sells at 60000: 600 − 0.6 fee = 599.4 USDT
    wallet.ok("trade", "sell", "BTC/USDT", "0.01", "--side-effect", "auto-borrow", now=t("10:02:00"))
    below = wallet.ok("price", "set", "BTC/USDT", "123000", now=t("10:03:00"))
    # 1599.4 / (0.01000002 × 123000) = 1599.4 / 1230.00246 = 1.30032…: no margin call
    assert calls_of(below) == []
    above = wallet.ok("price", "set", "BTC/USDT", "123100", now=t("10:04:00"))
    # 1599.4 / (0.01000002 × 123100) = 1599.4 / 1231.002462 = 1.2992662… ≤ 1.3
    assert calls_of(above) == [("cross", "1.29926628", "MARGIN_CALL")]


def test_config_apply_of_a_higher_margin_call_level_reaches_a_wallet_a_price_could_not(wallet: Wallet) -> None:
    wallet.with_config("[margin]\nleverage = 5\n")
    wallet.ok("deposit", "USDT", "1000", now=t("10:00:00"))
    wallet.ok("transfer", "USDT", "1000", "--yes", now=t("10:01:00"))
    # 4000 borrowed, ON_BORROW 4000 × 0.00001 = 0.04: 5000 / 4000.04 = 1.24998… above 5x's margin call 1.16
    wallet.ok("borrow", "USDT", "4000", "--yes", now=t("10:05:00"))
    wallet.config = None
    assert calls_of(wallet.ok("price", "set", "BTC/USDT", "60000", now=t("10:06:00"))) == []
    three = wallet.file.parent / "three.toml"
    three.write_text("[margin]\nleverage = 3\n", encoding="utf-8")
    assert wallet.run("config", "apply", str(three), "--yes", now=t("10:07:00")).code == 0
    # at 3x the margin-call level is 1.3: 5000 / 4000.04 = 1.2499875… ≤ 1.3 at any price
    after = wallet.ok("price", "set", "BTC/USDT", "60000", now=t("10:08:00"))
    assert calls_of(after) == [("cross", "1.24998750", "MARGIN_CALL")]


def test_a_wallet_upgraded_from_0004_builds_its_reach_on_the_first_price(wallet: Wallet) -> None:
    from alembic import command
    from alembic.config import Config as AlembicConfig
    from sqlalchemy import create_engine

    from marginctl.resources import resource_path

    open_long(wallet)
    config = AlembicConfig()
    config.set_main_option("script_location", str(resource_path("migrations")))
    engine = create_engine(f"sqlite:///{wallet.path}")
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0004")
    engine.dispose()
    # 0.04995 × 50000 = 2497.5; 2497.5 / 2000.02 = 1.2487375… ≤ 1.3 (the 0004 wallet had no reach yet)
    dropped = wallet.ok("price", "set", "BTC/USDT", "50000", now=t("10:03:00"))
    assert calls_of(dropped) == [("cross", "1.24873751", "MARGIN_CALL")]
    assert wallet.ok("audit", now=t("10:04:00"))["ok"] is True
