"""Market prices: the last price of each pair, with its time and source, and the last one of every hour
(`price_hours`, keyed by the hour's end)."""

from __future__ import annotations

from decimal import Decimal

from marginctl.domain.clock import ceil_hour
from marginctl.domain.times import from_storage, to_storage
from marginctl.store.database import Row, Transaction


def recorded_prices(tx: Transaction) -> list[Row]:
    """pair, price, at, source of every pair that has a recorded price."""
    return tx.execute("SELECT pair, price, at, source FROM prices")


def record_price(tx: Transaction, pair: str, price: Decimal, at: str, source: str) -> None:
    """The pair's last price is now `price` (one row per pair), kept in its hour's history too; queued,
    nothing waits for an answer."""
    tx.send(
        "INSERT INTO prices (pair, price, at, source) VALUES (:pair, :price, :at, :source) "
        "ON CONFLICT (pair) DO UPDATE SET price = excluded.price, at = excluded.at, source = excluded.source",
        {"pair": pair, "price": price, "at": at, "source": source},
    )
    mark_hour(tx, pair, price, at)


def hour_end_of(at: str) -> str:
    """The stored end of the UTC hour that holds the stored time `at`, an hour being (H − 1 h, H]: a price of
    exactly 10:00:00 is the price of the hour ending 10:00, as a balance change of 10:00:00 counts at 10:00."""
    return to_storage(ceil_hour(from_storage(at)))


def mark_hour(tx: Transaction, pair: str, price: Decimal, at: str) -> None:
    """`price` at `at` is the pair's price of the hour ending at or after it, unless that hour holds a later one.

    One queued statement: a replay marks every hour it passes through, quiet candles included.
    """
    tx.send(
        "INSERT INTO price_hours (pair, hour, price, at) VALUES (:pair, :hour, :price, :at) "
        "ON CONFLICT (pair, hour) DO UPDATE SET price = excluded.price, at = excluded.at "
        "WHERE excluded.at >= price_hours.at",
        {"pair": pair, "hour": hour_end_of(at), "price": price, "at": at},
    )


def price_history(tx: Transaction, pairs: list[str], since: str, until: str) -> list[Row]:
    """pair, price, at of every hour's mark from the hour ending at or after `since` through `until` (stored
    times), and each pair's last mark before that (its price when the range begins), oldest first."""
    if not pairs:
        return []
    params: dict[str, object] = {"since_hour": hour_end_of(since), "until": until}
    params.update({f"p{index}": pair for index, pair in enumerate(pairs)})
    wanted = ", ".join(f":p{index}" for index in range(len(pairs)))
    return tx.execute(
        f"SELECT pair, price, at FROM price_hours WHERE pair IN ({wanted}) AND hour >= :since_hour AND at <= :until "
        "UNION ALL "
        f"SELECT earlier.pair, earlier.price, earlier.at FROM price_hours earlier WHERE earlier.pair IN ({wanted}) "
        "AND earlier.hour = (SELECT max(hour) FROM price_hours previous "
        "WHERE previous.pair = earlier.pair AND previous.hour < :since_hour) "
        "ORDER BY at",
        params,
    )
