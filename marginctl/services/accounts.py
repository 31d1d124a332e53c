"""Accounts (profiles) of one wallet."""

from __future__ import annotations

from typing import Any

from marginctl.domain.errors import AccountExists
from marginctl.domain.names import validate_account_name
from marginctl.domain.times import display_stored, from_storage, to_display
from marginctl.services.context import DEFAULT_ACCOUNT, Context, take_event_time
from marginctl.store import accounts as account_store
from marginctl.store import ledger


def list_accounts(context: Context) -> list[dict[str, Any]]:
    with context.read() as tx:
        rows = account_store.user_accounts(tx)
    accounts = [
        {
            "name": row["name"],
            "createdAt": to_display(from_storage(row["created_at"])),
            "agreementAcceptedAt": display_stored(row["agreement_accepted_at"]),
            "coolingOffUntil": display_stored(row["cooling_off_until"]),
        }
        for row in rows
    ]
    if not any(account["name"] == DEFAULT_ACCOUNT for account in accounts):
        # `main` exists from the start; it is written to the database on first use.
        accounts.insert(
            0, {"name": DEFAULT_ACCOUNT, "createdAt": None, "agreementAcceptedAt": None, "coolingOffUntil": None}
        )
    return accounts


def create_account(context: Context, name: str) -> dict[str, Any]:
    name = validate_account_name(name)
    with context.transaction(write=True) as tx:
        if ledger.find_account(tx, name) is not None:
            raise AccountExists(f"an account named {name!r} already exists")
        now = take_event_time(tx, context)
        ledger.create_account(tx, name, is_system=False, at=now)
    return {"name": name, "createdAt": to_display(now)}
