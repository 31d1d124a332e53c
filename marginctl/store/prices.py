"""Market prices: the last price of each pair, with its time and source."""

from __future__ import annotations

from decimal import Decimal

from marginctl.store.database import Row, Transaction


def recorded_prices(tx: Transaction) -> list[Row]:
    """pair, price, at, source of every pair that has a recorded price."""
    return tx.execute("SELECT pair, price, at, source FROM prices")


def record_price(tx: Transaction, pair: str, price: Decimal, at: str, source: str) -> None:
    """The pair's last price is now `price` (one row per pair); queued, nothing waits for its answer."""
    tx.send(
        "INSERT INTO prices (pair, price, at, source) VALUES (:pair, :price, :at, :source) "
        "ON CONFLICT (pair) DO UPDATE SET price = excluded.price, at = excluded.at, source = excluded.source",
        {"pair": pair, "price": price, "at": at, "source": source},
    )
