"""`history`: the account's journal, newest first."""

from __future__ import annotations

from typing import Any

from marginctl.domain.errors import InvalidInput
from marginctl.domain.ledger import ENTRY_KINDS, user_field
from marginctl.domain.money import format_amount, from_text
from marginctl.domain.times import from_storage, parse_time, to_display, to_storage
from marginctl.services.context import Context, lookup_account

MAX_LIMIT = 1_000_000


def check_limit(limit: int) -> int:
    """`--limit` of history and interest: how many of the newest to show."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"--limit must be between 1 and {MAX_LIMIT}")
    return limit


def history(
    context: Context, limit: int = 20, kind: str | None = None, since: str | None = None
) -> list[dict[str, Any]]:
    check_limit(limit)
    if kind is not None and kind not in ENTRY_KINDS:
        raise InvalidInput(f"unknown kind {kind[:40]!r}; known: {', '.join(ENTRY_KINDS)}")
    since_stored = to_storage(parse_time(since)) if since else None
    with context.read() as tx:
        account = lookup_account(tx, context)
        if account is None:
            return []
        sql = "SELECT id, kind, created_at, memo FROM entries WHERE account_id = :account_id"
        params: dict[str, Any] = {"account_id": int(account["id"]), "limit": limit}
        if kind is not None:
            sql += " AND kind = :kind"
            params["kind"] = kind
        if since_stored is not None:
            sql += " AND created_at >= :since"
            params["since"] = since_stored
        entries = tx.execute(sql + " ORDER BY id DESC LIMIT :limit", params)
        if not entries:
            return []
        low, high = int(entries[-1]["id"]), int(entries[0]["id"])
        changes: dict[int, list[dict[str, Any]]] = {}
        for row in tx.execute(
            "SELECT entry_id, wallet, asset, bucket, amount FROM postings "
            "WHERE account_id = :account_id AND entry_id BETWEEN :low AND :high ORDER BY id",
            {"account_id": int(account["id"]), "low": low, "high": high},
        ):
            field, amount = user_field(str(row["bucket"]), from_text(row["amount"]))
            changes.setdefault(int(row["entry_id"]), []).append(
                {
                    "wallet": row["wallet"],
                    "asset": row["asset"],
                    "field": field,
                    "amount": format_amount(amount, context.config.places(str(row["asset"])))
                    if row["asset"] in context.config.assets
                    else format(amount, "f"),
                }
            )
    return [
        {
            "tranId": int(entry["id"]),
            "time": to_display(from_storage(str(entry["created_at"]))),
            "kind": entry["kind"],
            "memo": entry["memo"],
            "changes": changes.get(int(entry["id"]), []),
        }
        for entry in entries
    ]


CSV_COLUMNS = ("tranId", "time", "kind", "wallet", "asset", "field", "amount", "memo")


def history_csv_rows(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per change, for spreadsheets and plain-text accounting."""
    return [
        {
            "tranId": entry["tranId"],
            "time": entry["time"],
            "kind": entry["kind"],
            "memo": entry["memo"] or "",
            **change,
        }
        for entry in entries
        for change in entry["changes"]
    ]
