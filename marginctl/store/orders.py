"""Orders and trades: the SQL behind placing, filling, triggering and cancelling (DESIGN §5).

Prices are exact decimals (text on SQLite); crossed orders are found through expression indexes on
`CAST(price AS DOUBLE PRECISION)`. A float key only pre-selects: the caller decides each candidate with
Decimal, so the range is widened by `KEY_MARGIN` on both sides and never misses an order at the price.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from marginctl.domain.money import ZERO, from_text
from marginctl.domain.times import to_storage
from marginctl.store.book import sync_sequence
from marginctl.store.database import Row, Transaction

ORDER_COLUMNS = (
    "id, account_id, client_order_id, wallet, pair, side, type, price, stop_price, triggered, orig_qty, "
    "executed_qty, quote_qty, status, side_effect, locked_asset, locked_amount, borrowed_amount, "
    "created_at, updated_at, order_list_id"
)

#: A float keeps about 16 significant digits; one part in 10⁹ on each side covers its rounding many times over.
KEY_MARGIN = 1e-9

#: The same text as the expression indexes of schema.py (SQLite matches an index's expression by its text).
PRICE_KEY = "CAST(price AS DOUBLE PRECISION)"
STOP_KEY = "CAST(stop_price AS DOUBLE PRECISION)"


def insert_order(tx: Transaction, values: dict[str, Any]) -> int:
    """A new order: `values` holds every column but id, executed_qty, quote_qty, status and locked_amount
    (`order_list_id` only for an OCO leg)."""
    rows = tx.execute(
        "INSERT INTO orders (account_id, client_order_id, wallet, pair, side, type, price, stop_price, triggered, "
        "orig_qty, executed_qty, quote_qty, status, side_effect, locked_asset, locked_amount, borrowed_amount, "
        "created_at, updated_at, order_list_id) VALUES (:account_id, :client_order_id, :wallet, :pair, :side, "
        ":type, :price, :stop_price, :triggered, :orig_qty, 0, 0, 'NEW', :side_effect, :locked_asset, 0, "
        ":borrowed, :at, :at, :order_list_id) RETURNING id",
        {"order_list_id": None, **values},
    )
    return int(rows[0]["id"])


def load_order(tx: Transaction, order_id: int) -> Row:
    return tx.execute(f"SELECT {ORDER_COLUMNS} FROM orders WHERE id = :id", {"id": order_id})[0]


def set_locked(tx: Transaction, order_id: int, amount: Decimal) -> None:
    tx.execute("UPDATE orders SET locked_amount = :amount WHERE id = :id", {"amount": amount, "id": order_id})


def mark_filled(tx: Transaction, order_id: int, quantity: Decimal, quote_qty: Decimal, at: datetime) -> None:
    tx.execute(
        "UPDATE orders SET executed_qty = :quantity, quote_qty = :quote_qty, status = 'FILLED', locked_amount = 0, "
        "updated_at = :at WHERE id = :id",
        {"quantity": quantity, "quote_qty": quote_qty, "at": to_storage(at), "id": order_id},
    )


def mark_filled_many(tx: Transaction, fills: list[tuple[int, Decimal, Decimal]], at: datetime) -> None:
    """Orders filled whole in one batch: (order id, executed quantity, quote quantity) each."""
    tx.executemany(
        "UPDATE orders SET executed_qty = :quantity, quote_qty = :quote_qty, status = 'FILLED', locked_amount = 0, "
        "updated_at = :at WHERE id = :id",
        [
            {"quantity": quantity, "quote_qty": quote_qty, "at": to_storage(at), "id": order_id}
            for order_id, quantity, quote_qty in fills
        ],
    )


def mark_triggered(tx: Transaction, order_id: int, at: datetime) -> None:
    tx.execute(
        "UPDATE orders SET triggered = :yes, updated_at = :at WHERE id = :id",
        {"yes": True, "at": to_storage(at), "id": order_id},
    )


def mark_cancelled(tx: Transaction, order_id: int, at: datetime) -> None:
    tx.execute(
        "UPDATE orders SET status = 'CANCELED', locked_amount = 0, updated_at = :at WHERE id = :id",
        {"at": to_storage(at), "id": order_id},
    )


def insert_trade(tx: Transaction, values: dict[str, Any]) -> int:
    """One row per fill (Binance's tradeId)."""
    rows = tx.execute(
        "INSERT INTO trades (order_id, account_id, wallet, pair, side, price, qty, quote_qty, commission, "
        "commission_asset, is_maker, quote_price, entry_id, at) VALUES (:order_id, :account_id, :wallet, :pair, "
        ":side, :price, :qty, :quote_qty, :commission, :commission_asset, :is_maker, :quote_price, :entry_id, :at) "
        "RETURNING id",
        values,
    )
    return int(rows[0]["id"])


def next_trade_id(tx: Transaction) -> int:
    """The id the next trade takes: writers are serialized, so the ids above the highest are free."""
    return int(tx.execute("SELECT coalesce(max(id), 0) + 1 AS id FROM trades")[0]["id"])


def insert_trades(tx: Transaction, rows: list[dict[str, Any]]) -> None:
    """Trades with the ids `next_trade_id` gave out (each row holds its `id`), in one batch."""
    if not rows:
        return
    tx.executemany(
        "INSERT INTO trades (id, order_id, account_id, wallet, pair, side, price, qty, quote_qty, commission, "
        "commission_asset, is_maker, quote_price, entry_id, at) VALUES (:id, :order_id, :account_id, :wallet, "
        ":pair, :side, :price, :qty, :quote_qty, :commission, :commission_asset, :is_maker, :quote_price, "
        ":entry_id, :at)",
        rows,
    )
    sync_sequence(tx, "trades", max(int(row["id"]) for row in rows))


def insert_filled_market_order(
    tx: Transaction,
    *,
    account_id: int,
    wallet: str,
    pair: str,
    side: str,
    quantity: Decimal,
    cash: Decimal,
    at: datetime,
    client_order_id: str,
) -> int:
    """A market order that filled at once with no commission (a liquidation's sale or buy-back)."""
    rows = tx.execute(
        "INSERT INTO orders (account_id, client_order_id, wallet, pair, side, type, price, stop_price, "
        "triggered, orig_qty, executed_qty, quote_qty, status, side_effect, locked_asset, locked_amount, "
        "borrowed_amount, created_at, updated_at) VALUES (:account_id, :client_order_id, :wallet, :pair, :side, "
        "'MARKET', NULL, NULL, :no, :qty, :qty, :cash, 'FILLED', 'NO_SIDE_EFFECT', NULL, 0, 0, :at, :at) "
        "RETURNING id",
        {
            "account_id": account_id,
            "client_order_id": client_order_id,
            "wallet": wallet,
            "pair": pair,
            "side": side,
            "no": False,
            "qty": quantity,
            "cash": cash,
            "at": to_storage(at),
        },
    )
    return int(rows[0]["id"])


def crossed_candidates(tx: Transaction, pair: str, price: Decimal) -> list[Row]:
    """The open orders of `pair` that `price` may trigger or cross, by id: every one it does, and perhaps a
    few at a hair's breadth (the float key), which the caller's exact check turns away.

    A buy limit crosses at price ≤ limit, a sell at ≥; a stop-loss sell and a take-profit buy trigger at
    price ≤ stop, a stop-loss buy and a take-profit sell at ≥ (domain.orders.stop_reached).
    """
    low = float(price) * (1 - KEY_MARGIN)
    high = float(price) * (1 + KEY_MARGIN)
    head = f"SELECT {ORDER_COLUMNS} FROM orders WHERE status = 'NEW' AND pair = :pair AND "
    parts = [
        f"side = 'BUY' AND {PRICE_KEY} >= :low",
        f"side = 'SELL' AND {PRICE_KEY} <= :high",
        f"side = 'SELL' AND type = 'STOP_LOSS_LIMIT' AND {STOP_KEY} >= :low",
        f"side = 'BUY' AND type = 'TAKE_PROFIT_LIMIT' AND {STOP_KEY} >= :low",
        f"side = 'BUY' AND type = 'STOP_LOSS_LIMIT' AND {STOP_KEY} <= :high",
        f"side = 'SELL' AND type = 'TAKE_PROFIT_LIMIT' AND {STOP_KEY} <= :high",
    ]
    sql = " UNION ".join(head + part for part in parts) + " ORDER BY id"
    return tx.execute(sql, {"pair": pair, "low": low, "high": high})


def open_order_prices(tx: Transaction, pair: str) -> list[Row]:
    """type, side, price, stop_price, triggered of every open order of `pair` (the replay's quiet band)."""
    return tx.execute(
        "SELECT type, side, price, stop_price, triggered FROM orders WHERE status = 'NEW' AND pair = :pair",
        {"pair": pair},
    )


def open_orders(
    tx: Transaction, account_id: int, *, order_id: int | None = None, wallet: str | None = None
) -> list[Row]:
    """An account's open orders by id (optionally one order, or one wallet's)."""
    sql = f"SELECT {ORDER_COLUMNS} FROM orders WHERE account_id = :account_id AND status = 'NEW'"
    params: dict[str, Any] = {"account_id": account_id}
    if order_id is not None:
        sql += " AND id = :id"
        params["id"] = order_id
    if wallet is not None:
        sql += " AND wallet = :wallet"
        params["wallet"] = wallet
    return tx.execute(sql + " ORDER BY id", params)


def account_orders(tx: Transaction, account_id: int, include_closed: bool) -> list[Row]:
    """`orders`: newest first; open ones only unless `include_closed`."""
    sql = f"SELECT {ORDER_COLUMNS} FROM orders WHERE account_id = :account_id"
    if not include_closed:
        sql += " AND status = 'NEW'"
    return tx.execute(sql + " ORDER BY id DESC", {"account_id": account_id})


def open_holds(tx: Transaction) -> list[tuple[int, str, str, Decimal]]:
    """(account, wallet, asset, amount) that each open order holds, for audit."""
    holds = []
    for row in tx.execute("SELECT account_id, wallet, locked_asset, locked_amount FROM orders WHERE status = 'NEW'"):
        amount = from_text(row["locked_amount"])
        if amount != ZERO:
            holds.append((int(row["account_id"]), str(row["wallet"]), str(row["locked_asset"]), amount))
    return holds


def wallet_orders(
    tx: Transaction,
    account_id: int,
    wallet: str,
    pair: str | None,
    *,
    order_id: int | None = None,
    client_order_id: str | None = None,
    open_only: bool = False,
    from_id: int | None = None,
    limit: int | None = None,
) -> list[Row]:
    """An account's orders in one wallet (of one pair), oldest first: Binance's order queries."""
    sql = f"SELECT {ORDER_COLUMNS} FROM orders WHERE account_id = :account_id AND wallet = :wallet"
    params: dict[str, Any] = {"account_id": account_id, "wallet": wallet}
    for column, value in (("pair", pair), ("id", order_id), ("client_order_id", client_order_id)):
        if value is not None:
            sql += f" AND {column} = :{column}"
            params[column] = value
    if open_only:
        sql += " AND status = 'NEW'"
    if from_id is not None:
        sql += " AND id >= :from_id"
        params["from_id"] = from_id
    sql += " ORDER BY id"
    if limit is not None:
        sql += " LIMIT :limit"
        params["limit"] = limit
    return tx.execute(sql, params)


def liquidation_orders(tx: Transaction, account_id: int, wallet: str | None) -> list[Row]:
    """The filled market orders of an account's liquidations (their client id is `liquidation`), newest first."""
    sql = f"SELECT {ORDER_COLUMNS} FROM orders WHERE account_id = :account_id AND client_order_id = 'liquidation'"
    params: dict[str, Any] = {"account_id": account_id}
    if wallet is not None:
        sql += " AND wallet = :wallet"
        params["wallet"] = wallet
    return tx.execute(sql + " ORDER BY id DESC", params)


def wallet_trades(
    tx: Transaction, account_id: int, wallet: str, pair: str, from_id: int | None, limit: int
) -> list[Row]:
    """An account's fills in one wallet and pair, oldest first (Binance's myTrades)."""
    sql = (
        "SELECT id, order_id, wallet, pair, side, price, qty, quote_qty, commission, commission_asset, is_maker, at "
        "FROM trades WHERE account_id = :account_id AND wallet = :wallet AND pair = :pair"
    )
    params: dict[str, Any] = {"account_id": account_id, "wallet": wallet, "pair": pair, "limit": limit}
    if from_id is not None:
        sql += " AND id >= :from_id"
        params["from_id"] = from_id
    return tx.execute(sql + " ORDER BY id LIMIT :limit", params)
