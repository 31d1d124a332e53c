"""`interest`: the hourly charges with Binance's interest-history fields, one row per loan and hour
(derived from the stored runs of hours, domain/interest.py)."""

from __future__ import annotations

from typing import Any

from marginctl.domain.interest import newest_rows
from marginctl.domain.money import format_amount, from_text
from marginctl.domain.names import CROSS, parse_asset, parse_count
from marginctl.domain.times import parse_time, to_display
from marginctl.services.context import Context, lookup_account
from marginctl.services.history import MAX_LIMIT
from marginctl.store import interest as store

#: Like `history`: the newest charges first, at most this many unless --limit says otherwise.
DEFAULT_LIMIT = "20"


def interest_history(
    context: Context, asset_text: str | None = None, since: str | None = None, limit_text: str = DEFAULT_LIMIT
) -> dict[str, Any]:
    """The newest `limit` charges, newest first; `total` counts every matching charge (Binance's paging)."""
    limit = parse_count(limit_text, "--limit", MAX_LIMIT)
    config = context.config
    asset = parse_asset(asset_text, config.assets) if asset_text else None
    since_at = parse_time(since) if since else None
    with context.read() as tx:
        account = lookup_account(tx, context)
        if account is None:
            return {"rows": [], "total": 0}
        account_id = int(account["id"])
        total = store.count_rows(tx, account_id, asset, since_at)
        newest = newest_rows(store.newest_runs(tx, account_id, asset, since_at, limit), since_at, limit)
        charges = store.charges_by_id(tx, [run_id for _, run_id, _ in newest])
    result = []
    for at, run_id, _ in newest:
        row = charges[run_id]
        places = config.places(str(row["asset"]))
        item: dict[str, Any] = {
            "txId": int(row["entry_id"]),
            "interestAccuredTime": to_display(at),
            "asset": row["asset"],
            "principal": format_amount(from_text(row["principal"]), places),
            "interest": format_amount(from_text(row["interest"]), places),
            # Binance's interestRate field is the daily rate (45.3313 × 0.00013233 / 24 = 0.00024995).
            "interestRate": format(from_text(row["daily_rate"]), "f"),
            "type": row["type"],
            # The wallet as every other view names it: cross, or the pair (BTC/USDT) of an isolated wallet.
            "wallet": row["wallet"],
        }
        if row["wallet"] != CROSS:
            item["isolatedSymbol"] = str(row["wallet"]).replace("/", "")
        result.append(item)
    return {"rows": result, "total": total}
