"""The latest events of an account's wallets, for `watch`: its fills, its interest charges and its risk events
(margin calls, liquidations), each kind newest first, read in one round trip with how many there are."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from marginctl.store.database import Row, Statement, Transaction


class LatestEvents:
    """Each kind's newest rows (at most the limit asked) and how many rows of that kind there are in all."""

    __slots__ = ("fills", "interest", "risk", "total")

    def __init__(self, fills: list[Row], interest: list[Row], risk: list[Row], total: int) -> None:
        self.fills, self.interest, self.risk, self.total = fills, interest, risk, total


def latest_events(tx: Transaction, account_id: int, wallets: Sequence[str] | None, limit: int) -> LatestEvents:
    """The account's newest `limit` fills, interest charges (a run of hours is one row, at its last hour) and
    risk events, of the given wallets (every wallet with None); times are fixed-width text, so they sort."""
    params: dict[str, Any] = {"account_id": account_id, "limit": limit}
    where = "account_id = :account_id"
    if wallets is not None:
        names = {f"w{index}": name for index, name in enumerate(wallets)}
        if not names:
            return LatestEvents([], [], [], 0)
        where += f" AND wallet IN ({', '.join(f':{key}' for key in names)})"
        params.update(names)
    statements: list[Statement] = [
        (
            "SELECT id, order_id, wallet, pair, side, price, qty, commission, commission_asset, is_maker, at "
            f"FROM trades WHERE {where} ORDER BY at DESC, id DESC LIMIT :limit",
            params,
        ),
        (
            "SELECT id, wallet, asset, type, hours, principal, interest, last_at AS at "
            f"FROM interest_charges WHERE {where} ORDER BY last_at DESC, id DESC LIMIT :limit",
            params,
        ),
        (
            "SELECT id, wallet, kind, at, margin_level, entry_id, detail "
            f"FROM risk_events WHERE {where} ORDER BY at DESC, id DESC LIMIT :limit",
            params,
        ),
        (
            f"SELECT (SELECT count(*) FROM trades WHERE {where}) + (SELECT count(*) FROM interest_charges "
            f"WHERE {where}) + (SELECT count(*) FROM risk_events WHERE {where}) AS n",
            {key: value for key, value in params.items() if key != "limit"},
        ),
    ]
    fills, interest, risk, count = tx.execute_batch(statements)
    return LatestEvents(fills, interest, risk, int(count[0]["n"]))
