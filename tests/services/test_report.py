"""The price history `report` reads: the last price of each pair in each UTC hour (H − 1 h, H], kept under
its end H (`price_hours`), left by every recorded price, and started from the last price when an existing
wallet is upgraded to revision 0008."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marginctl.store import prices as prices_store
from tests.conftest import Wallet

DAY = "2026-01-05"


def at(clock: str) -> str:
    return f"{DAY}T{clock}Z"


def hours(wallet: Wallet) -> list[tuple[str, str, Decimal, str]]:
    from marginctl.store.database import locate

    database = locate(wallet.target)
    try:
        with database.transaction(write=False) as tx:
            rows: list[Any] = tx.execute("SELECT pair, hour, price, at FROM price_hours ORDER BY pair, hour")
            return [(str(row[0]), str(row[1]), Decimal(str(row[2])), str(row[3])) for row in rows]
    finally:
        database.close()


def test_each_hour_keeps_the_last_price_recorded_in_it(wallet: Wallet) -> None:
    wallet.ok("price", "set", "BTC/USDT", "60100", now=at("10:05:00"))
    wallet.ok("price", "set", "BTC/USDT", "60200", now=at("10:59:59"))
    wallet.ok("price", "set", "BTC/USDT", "60300", now=at("11:00:00"))
    wallet.ok("price", "set", "ETH/USDT", "3000", now=at("11:30:00"))
    # 10:05 and 10:59:59 lie in the hour ending 11:00, and so does 11:00:00 itself (the last of them);
    # 11:30 lies in the hour ending 12:00
    assert hours(wallet) == [
        ("BTC/USDT", "2026-01-05T11:00:00.000000Z", Decimal(60300), "2026-01-05T11:00:00.000000Z"),
        ("ETH/USDT", "2026-01-05T12:00:00.000000Z", Decimal(3000), "2026-01-05T11:30:00.000000Z"),
    ]


def test_a_mark_earlier_in_the_hour_than_the_one_kept_changes_nothing(wallet: Wallet) -> None:
    wallet.ok("price", "set", "BTC/USDT", "60200", now=at("10:40:00"))
    from marginctl.store.database import locate

    database = locate(wallet.target)
    try:
        with database.transaction(write=True) as tx:
            # a replay's quiet candle of 10:20 arrives after the 10:40 price: the hour keeps 10:40's
            prices_store.mark_hour(tx, "BTC/USDT", Decimal(59000), "2026-01-05T10:20:00.000000Z")
            prices_store.mark_hour(tx, "BTC/USDT", Decimal(61000), "2026-01-05T12:20:00.000000Z")
    finally:
        database.close()
    assert hours(wallet) == [
        ("BTC/USDT", "2026-01-05T11:00:00.000000Z", Decimal(60200), "2026-01-05T10:40:00.000000Z"),
        ("BTC/USDT", "2026-01-05T13:00:00.000000Z", Decimal(61000), "2026-01-05T12:20:00.000000Z"),
    ]


def test_a_wallet_of_revision_0007_upgrades_with_its_last_prices_as_history(wallet: Wallet) -> None:
    from tests.services.test_interest_closed_form import downgrade

    wallet.ok("price", "set", "BTC/USDT", "60100", now=at("10:05:00"))
    wallet.ok("price", "set", "BTC/USDT", "60200", now=at("11:15:00"))
    wallet.ok("price", "set", "ETH/USDT", "3000", now=at("11:30:00"))
    downgrade(wallet, "0007")
    # the next command upgrades the wallet: the hours start with each pair's last price (the earlier is gone)
    wallet.ok("price", "show", now=at("11:40:00"))
    assert hours(wallet) == [
        ("BTC/USDT", "2026-01-05T12:00:00.000000Z", Decimal(60200), "2026-01-05T11:15:00.000000Z"),
        ("ETH/USDT", "2026-01-05T12:00:00.000000Z", Decimal(3000), "2026-01-05T11:30:00.000000Z"),
    ]
    # and a report reads them: 12:00's BTC price is 11:15's 60200
    wallet.ok("deposit", "BTC", "1", now=at("11:45:00"))
    wallet.ok("transfer", "BTC", "1", "--yes", now=at("11:46:00"))
    document = wallet.ok("report", now=at("12:10:00"))
    assert [(point["time"], point["prices"]["BTC/USDT"]) for point in document["series"]] == [
        ("2026-01-05T12:00:00Z", "60200.00")
    ]
    # 1 BTC × 60200 = 60200 USDT, no debt
    assert document["series"][0]["totalNetAssetValue"] == "60200.00000000"


def test_a_price_on_the_hour_is_that_hour_end_s_price(wallet: Wallet) -> None:
    """A liquidation at 04:00:00 and the price that caused it belong to the same hour end: the row of 04:00
    shows both (a price of 10:00:00 is in the hour ending 10:00, as a balance change of 10:00:00 is)."""
    wallet.ok("deposit", "BTC", "1", now=at("09:30:00"))
    wallet.ok("transfer", "BTC", "1", "--yes", now=at("09:31:00"))
    wallet.ok("price", "set", "BTC/USDT", "60100", now=at("09:59:00"))
    wallet.ok("price", "set", "BTC/USDT", "55000", now=at("10:00:00"))
    wallet.ok("price", "set", "BTC/USDT", "57000", now=at("10:30:00"))
    document = wallet.ok("report", "--since", at("10:00:00"), "--until", at("11:00:00"), now=at("11:10:00"))
    # 10:00 → 55000 (set at 10:00:00, not 60100 of 09:59); 11:00 → 57000 (10:30); 1 BTC each
    assert [
        (point["time"], point["prices"]["BTC/USDT"], point["totalNetAssetValue"]) for point in document["series"]
    ] == [
        ("2026-01-05T10:00:00Z", "55000.00", "55000.00000000"),
        ("2026-01-05T11:00:00Z", "57000.00", "57000.00000000"),
    ]
