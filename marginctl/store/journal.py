"""Reading an account's journal back: entries newest first, with their postings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from marginctl.store.database import Row, Transaction


def recent_entries(
    tx: Transaction, account_id: int, limit: int, kind: str | None = None, since: str | None = None
) -> Sequence[Row]:
    """The account's newest `limit` entries (of one kind, from a stored time on), newest first."""
    sql = "SELECT id, kind, created_at, memo FROM entries WHERE account_id = :account_id"
    params: dict[str, Any] = {"account_id": account_id, "limit": limit}
    if kind is not None:
        sql += " AND kind = :kind"
        params["kind"] = kind
    if since is not None:
        sql += " AND created_at >= :since"
        params["since"] = since
    return tx.execute(sql + " ORDER BY id DESC LIMIT :limit", params)


def account_postings(tx: Transaction, account_id: int, low: int, high: int) -> Sequence[Row]:
    """The account's postings of the entries with ids from `low` to `high`, in the order they were written."""
    return tx.execute(
        "SELECT entry_id, wallet, asset, bucket, amount FROM postings "
        "WHERE account_id = :account_id AND entry_id BETWEEN :low AND :high ORDER BY id",
        {"account_id": account_id, "low": low, "high": high},
    )
