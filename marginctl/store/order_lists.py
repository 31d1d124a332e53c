"""OCO order lists and their legs (Binance's orderList): the rows placing, filling and cancelling change."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from marginctl.domain import oco as rules
from marginctl.domain.orders import NEW
from marginctl.domain.times import to_storage
from marginctl.store import orders
from marginctl.store.database import Row, Transaction


def insert_list(tx: Transaction, account_id: int, client_id: str | None, wallet: str, pair: str, at: datetime) -> int:
    rows = tx.execute(
        "INSERT INTO order_lists (account_id, list_client_order_id, wallet, pair, contingency_type, "
        "list_status_type, list_order_status, created_at, updated_at) VALUES (:account_id, :client_id, :wallet, "
        ":pair, :oco, :started, :executing, :at, :at) RETURNING id",
        {
            "account_id": account_id,
            "client_id": client_id,
            "wallet": wallet,
            "pair": pair,
            "oco": rules.OCO,
            "started": rules.EXEC_STARTED,
            "executing": rules.EXECUTING,
            "at": to_storage(at),
        },
    )
    return int(rows[0]["id"])


def insert_leg(tx: Transaction, leg: dict[str, Any]) -> int:
    """A leg as a NEW order of list `leg["list_id"]`, nothing locked yet (the caller locks the list's funds)."""
    values = {key: value for key, value in leg.items() if key != "list_id"}
    return orders.insert_order(
        tx,
        {
            **values,
            "client_order_id": leg.get("client_order_id"),
            "triggered": False,
            "order_list_id": leg["list_id"],
            "at": to_storage(leg["at"]),
        },
    )


def order_list(tx: Transaction, list_id: int) -> Row:
    return tx.execute("SELECT * FROM order_lists WHERE id = :id", {"id": list_id})[0]


def list_legs(tx: Transaction, list_id: int) -> Sequence[Row]:
    """Every leg of the list, in Binance's order (the stop leg first)."""
    return tx.execute("SELECT * FROM orders WHERE order_list_id = :id ORDER BY id", {"id": list_id})


def open_legs(tx: Transaction, list_id: int, other_than: int) -> Sequence[Row]:
    return tx.execute(
        "SELECT * FROM orders WHERE order_list_id = :list_id AND id <> :id AND status = :new ORDER BY id",
        {"list_id": list_id, "id": other_than, "new": NEW},
    )


def has_open_leg(tx: Transaction, list_id: int) -> bool:
    return bool(
        tx.execute(
            "SELECT id FROM orders WHERE order_list_id = :list_id AND status = :new", {"list_id": list_id, "new": NEW}
        )
    )


def order_holds(tx: Transaction, order_id: int) -> Row:
    return tx.execute("SELECT locked_amount, borrowed_amount FROM orders WHERE id = :id", {"id": order_id})[0]


def set_holds(tx: Transaction, order_id: int, locked: Decimal, borrowed: Decimal) -> None:
    tx.execute(
        "UPDATE orders SET locked_amount = :locked, borrowed_amount = :borrowed WHERE id = :id",
        {"locked": locked, "borrowed": borrowed, "id": order_id},
    )


def set_expired(tx: Transaction, order_id: int, at: datetime) -> None:
    """A leg Binance expires: its hold and loan are no longer on it."""
    tx.execute(
        "UPDATE orders SET status = :expired, locked_amount = 0, borrowed_amount = 0, updated_at = :at WHERE id = :id",
        {"expired": rules.EXPIRED, "at": to_storage(at), "id": order_id},
    )


def set_done(tx: Transaction, list_id: int, at: datetime) -> None:
    tx.execute(
        "UPDATE order_lists SET list_status_type = :done, list_order_status = :done, updated_at = :at "
        "WHERE id = :list_id",
        {"done": rules.ALL_DONE, "at": to_storage(at), "list_id": list_id},
    )


def open_order_ids(tx: Transaction, account_id: int, wallet: str) -> list[int]:
    """The wallet's working orders, oldest first."""
    rows = tx.execute(
        "SELECT id FROM orders WHERE account_id = :account_id AND wallet = :wallet AND status = :new ORDER BY id",
        {"account_id": account_id, "wallet": wallet, "new": NEW},
    )
    return [int(row["id"]) for row in rows]
