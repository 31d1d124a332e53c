"""`history`: the account's journal, newest first."""

from __future__ import annotations

from typing import Any

from marginctl.domain.errors import InvalidInput
from marginctl.domain.ledger import ENTRY_KINDS, user_field
from marginctl.domain.money import format_amount, from_text
from marginctl.domain.names import parse_count
from marginctl.domain.times import from_storage, parse_time, to_display, to_storage
from marginctl.services.context import Context, lookup_account
from marginctl.store import journal

MAX_LIMIT = 1_000_000


def history(
    context: Context, limit_text: str = "20", kind: str | None = None, since: str | None = None
) -> list[dict[str, Any]]:
    limit = parse_count(limit_text, "--limit", MAX_LIMIT)
    if kind is not None and kind not in ENTRY_KINDS:
        raise InvalidInput(f"unknown kind {kind[:40]!r}; known: {', '.join(ENTRY_KINDS)}")
    since_stored = to_storage(parse_time(since)) if since else None
    with context.read() as tx:
        account = lookup_account(tx, context)
        if account is None:
            return []
        entries = journal.recent_entries(tx, int(account["id"]), limit, kind, since_stored)
        if not entries:
            return []
        low, high = int(entries[-1]["id"]), int(entries[0]["id"])
        changes: dict[int, list[dict[str, Any]]] = {}
        for row in journal.account_postings(tx, int(account["id"]), low, high):
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
