"""What `report` reads of one wallet: its balance changes with their times, its interest runs, its fills and
its risk events."""

from __future__ import annotations

from collections.abc import Sequence

from marginctl.store.database import Row, Transaction


def wallet_postings(tx: Transaction, account_id: int, wallet: str, until: str) -> Sequence[Row]:
    """entry_id, created_at, asset, bucket, amount of every posting of the wallet up to `until`, in the order
    they were written."""
    return tx.execute(
        "SELECT p.entry_id, e.created_at, p.asset, p.bucket, p.amount FROM postings p "
        "JOIN entries e ON e.id = p.entry_id "
        "WHERE p.account_id = :account_id AND p.wallet = :wallet AND e.created_at <= :until "
        "ORDER BY e.created_at, p.entry_id, p.id",
        {"account_id": account_id, "wallet": wallet, "until": until},
    )


def first_posting_time(tx: Transaction, account_id: int, wallet: str) -> str | None:
    rows = tx.execute(
        "SELECT min(e.created_at) AS first FROM postings p JOIN entries e ON e.id = p.entry_id "
        "WHERE p.account_id = :account_id AND p.wallet = :wallet",
        {"account_id": account_id, "wallet": wallet},
    )
    return str(rows[0]["first"]) if rows and rows[0]["first"] is not None else None


def periodic_runs(tx: Transaction, account_id: int, wallet: str) -> Sequence[Row]:
    """entry_id, asset, periodic_hour (the first hour), hours, interest (per hour) of the wallet's PERIODIC
    charges: one entry books a run of hours at its last hour."""
    return tx.execute(
        "SELECT entry_id, asset, periodic_hour, hours, interest FROM interest_charges "
        "WHERE account_id = :account_id AND wallet = :wallet AND periodic_hour IS NOT NULL",
        {"account_id": account_id, "wallet": wallet},
    )


def wallet_fills(tx: Transaction, account_id: int, wallet: str, since: str, until: str) -> Sequence[Row]:
    """The wallet's trades from `since` through `until`, oldest first."""
    return tx.execute(
        "SELECT id, entry_id, pair, side, price, qty, at FROM trades "
        "WHERE account_id = :account_id AND wallet = :wallet AND at >= :since AND at <= :until ORDER BY at, id",
        {"account_id": account_id, "wallet": wallet, "since": since, "until": until},
    )


def wallet_risk_events(tx: Transaction, account_id: int, wallet: str, since: str, until: str) -> Sequence[Row]:
    """The wallet's margin calls and liquidations from `since` through `until`, oldest first."""
    return tx.execute(
        "SELECT kind, at, margin_level, entry_id FROM risk_events "
        "WHERE account_id = :account_id AND wallet = :wallet AND kind IN ('margin_call', 'liquidation') "
        "AND at >= :since AND at <= :until ORDER BY at, id",
        {"account_id": account_id, "wallet": wallet, "since": since, "until": until},
    )
