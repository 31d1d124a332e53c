"""The wallet's stored rules (DESIGN §9) and what `config apply` must check against what the wallet holds."""

from __future__ import annotations

import json
from datetime import datetime

from marginctl.domain.money import from_text
from marginctl.domain.rules import RulesVersion
from marginctl.domain.times import from_storage, to_storage
from marginctl.store.database import Transaction


def load_versions(tx: Transaction) -> list[RulesVersion]:
    """Every stored version of the wallet's rules, oldest first (a handful of rows: one per change)."""
    return [
        RulesVersion(from_storage(str(row["effective_at"])), json.loads(row["document"]))
        for row in tx.execute("SELECT effective_at, document FROM wallet_rules ORDER BY effective_at, id")
    ]


def record_rules(tx: Transaction, at: datetime, document_json: str, source: str) -> None:
    """`document_json` is the canonical JSON of the rules (config.canonical_json)."""
    tx.execute(
        "INSERT INTO wallet_rules (effective_at, document, source) VALUES (:at, :document, :source)",
        {"at": to_storage(at), "document": document_json, "source": source},
    )


def has_rules(tx: Transaction) -> bool:
    return bool(tx.execute("SELECT id FROM wallet_rules LIMIT 1"))


def wallet_began(tx: Transaction) -> datetime | None:
    """When the wallet's first account was made (its start, for a wallet from before stored rules)."""
    began = tx.execute("SELECT min(created_at) AS began FROM accounts")[0]["began"]
    return from_storage(str(began)) if began is not None else None


def assets_with_balances(tx: Transaction) -> set[str]:
    """Assets any account (system ones included) holds, owes or has interest on."""
    return {
        str(row["asset"]) for row in tx.execute("SELECT asset, amount FROM balances") if from_text(row["amount"]) != 0
    }


def pairs_in_use(tx: Transaction) -> set[str]:
    """Pairs with any order ever placed (their history still names them) or a non-empty isolated wallet."""
    pairs = {str(row["pair"]) for row in tx.execute("SELECT DISTINCT pair FROM orders")}
    pairs |= {
        str(row["wallet"])
        for row in tx.execute("SELECT wallet, amount FROM balances WHERE wallet NOT IN ('spot', 'cross')")
        if from_text(row["amount"]) != 0
    }
    return pairs
