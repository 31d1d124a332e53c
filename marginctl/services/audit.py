"""`audit`: recompute everything from the journal and check every invariant (DESIGN §3)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from marginctl.domain import audit as checks
from marginctl.domain.interest import interest_hours_unique
from marginctl.domain.ledger import LENDING_POOL, Posting
from marginctl.domain.money import from_text
from marginctl.services.context import Context
from marginctl.services.trading import open_order_holds
from marginctl.store import audit as ledger_rows
from marginctl.store import interest as interest_store


def audit(context: Context) -> dict[str, Any]:
    with context.read() as tx:
        accounts = ledger_rows.all_accounts(tx)
        names = {int(row["id"]): str(row["name"]) for row in accounts}
        user_ids = [int(row["id"]) for row in accounts if not row["is_system"]]
        pool_id = next((int(row["id"]) for row in accounts if row["name"] == LENDING_POOL), -1)
        postings_by_entry: dict[int, list[Posting]] = defaultdict(list)
        malformed: list[checks.Violation] = []
        entry_count = ledger_rows.entry_count(tx)
        for row in ledger_rows.all_postings(tx):
            amount = _amount(row["amount"], f"posting of entry {row['entry_id']}", malformed)
            if amount is not None:
                postings_by_entry[int(row["entry_id"])].append(
                    Posting(int(row["account_id"]), str(row["wallet"]), str(row["asset"]), str(row["bucket"]), amount)
                )
        materialized: dict[checks.BalanceKey, Decimal] = {}
        for row in ledger_rows.all_balances(tx):
            where = f"{names.get(int(row['account_id']))} {row['wallet']} {row['asset']} {row['bucket']}"
            amount = _amount(row["amount"], where, malformed)
            if amount is not None:
                materialized[(int(row["account_id"]), str(row["wallet"]), str(row["asset"]), str(row["bucket"]))] = (
                    amount
                )
        held_by_orders = open_order_holds(tx)
        periodic = interest_store.periodic_runs(tx)
    all_postings = [posting for postings in postings_by_entry.values() for posting in postings]
    results = {
        "amounts_well_formed": malformed,
        "entries_balance": checks.entries_balance(postings_by_entry),
        "balances_match_postings": checks.materialized_match(
            checks.recompute_balances(all_postings), materialized, names
        ),
        "no_negative_balance": checks.no_negative_user_funds(materialized, user_ids, names),
        "liabilities_match_receivables": checks.liabilities_match_receivables(materialized, user_ids, pool_id),
        "interest_hours_unique": interest_hours_unique(periodic),
        "locks_match_orders": checks.locks_match_orders(materialized, held_by_orders, names),
    }
    violations = [
        {"check": violation.check, "where": violation.where, "detail": violation.detail}
        for found in results.values()
        for violation in found
    ]
    return {
        "ok": not violations,
        "entries": entry_count,
        "postings": len(all_postings),
        "checks": [{"name": name, "ok": not found, "violations": len(found)} for name, found in results.items()],
        "violations": violations,
    }


def _amount(stored: object, where: str, malformed: list[checks.Violation]) -> Decimal | None:
    """A stored amount, or a violation when a row holds something that is not a finite decimal."""
    try:
        amount = from_text(stored)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        amount = None
    if amount is None or not amount.is_finite():
        malformed.append(checks.Violation("amounts_well_formed", where, f"stored amount {str(stored)[:40]!r}"))
        return None
    return amount
