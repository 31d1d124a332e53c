"""What profit and loss reads of a wallet: its fills, the interest charged, and its liquidations."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from marginctl.store.database import Row, Transaction


def traded_wallets(tx: Transaction, account_id: int) -> set[str]:
    rows = tx.execute("SELECT DISTINCT wallet FROM trades WHERE account_id = :account_id", {"account_id": account_id})
    return {str(row["wallet"]) for row in rows}


def wallet_trades(tx: Transaction, account_id: int, wallet: str) -> Sequence[Row]:
    """Every fill of the wallet, oldest first."""
    return tx.execute(
        "SELECT id, pair, side, price, qty, commission, commission_asset, quote_price, at FROM trades "
        "WHERE account_id = :account_id AND wallet = :wallet ORDER BY id",
        {"account_id": account_id, "wallet": wallet},
    )


def liquidation_details(tx: Transaction, account_id: int, wallet: str, since: str | None) -> list[dict[str, Any]]:
    """The recorded detail of each liquidation of the wallet, from `since` on."""
    sql = "SELECT detail FROM risk_events WHERE account_id = :account_id AND wallet = :wallet AND kind = 'liquidation'"
    if since is not None:
        sql += " AND at >= :since"
    rows = tx.execute(sql, {"account_id": account_id, "wallet": wallet, "since": since})
    return [json.loads(str(row["detail"])) for row in rows]
