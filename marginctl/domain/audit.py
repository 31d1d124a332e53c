"""The ledger's invariants (DESIGN §3), each a small check over plain data that reports every violation."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from marginctl.domain.ledger import (
    BORROWED,
    FREE,
    INTEREST,
    INTEREST_RECEIVABLE,
    LOANED,
    LOCKED,
    Posting,
    unbalanced_assets,
)
from marginctl.domain.money import ZERO, to_text

#: (account id, wallet, asset, bucket)
BalanceKey = tuple[int, str, str, str]


@dataclass(frozen=True)
class Violation:
    check: str
    where: str
    detail: str


def entries_balance(postings_by_entry: Mapping[int, Iterable[Posting]]) -> list[Violation]:
    """Every entry's postings sum to zero per asset."""
    violations = []
    for entry_id, postings in postings_by_entry.items():
        for asset, total in unbalanced_assets(postings).items():
            violations.append(
                Violation("entries_balance", f"entry {entry_id}", f"{asset} postings sum to {to_text(total)}, not 0")
            )
    return violations


def recompute_balances(postings: Iterable[Posting]) -> dict[BalanceKey, Decimal]:
    totals: dict[BalanceKey, Decimal] = defaultdict(lambda: ZERO)
    for posting in postings:
        totals[(posting.account_id, posting.wallet, posting.asset, posting.bucket)] += posting.amount
    return dict(totals)


def materialized_match(
    recomputed: Mapping[BalanceKey, Decimal], materialized: Mapping[BalanceKey, Decimal], names: Mapping[int, str]
) -> list[Violation]:
    """Each stored balance equals the sum of its postings."""
    violations = []
    for key in sorted(set(recomputed) | set(materialized)):
        expected = recomputed.get(key, ZERO)
        stored = materialized.get(key, ZERO)
        if expected != stored:
            account_id, wallet, asset, bucket = key
            violations.append(
                Violation(
                    "balances_match_postings",
                    f"{names.get(account_id, account_id)} {wallet} {asset} {bucket}",
                    f"stored {to_text(stored)}, postings sum to {to_text(expected)}",
                )
            )
    return violations


def no_negative_user_funds(
    materialized: Mapping[BalanceKey, Decimal], user_ids: Iterable[int], names: Mapping[int, str]
) -> list[Violation]:
    """No user's free or locked balance is below zero (and no debt is negative)."""
    users = set(user_ids)
    violations = []
    for (account_id, wallet, asset, bucket), amount in sorted(materialized.items()):
        if account_id not in users:
            continue
        negative = amount < 0 if bucket in (FREE, LOCKED) else amount > 0
        if negative:
            violations.append(
                Violation(
                    "no_negative_balance",
                    f"{names.get(account_id, account_id)} {wallet} {asset} {bucket}",
                    f"balance is {to_text(amount)}",
                )
            )
    return violations


def liabilities_match_receivables(
    materialized: Mapping[BalanceKey, Decimal], user_ids: Iterable[int], pool_id: int
) -> list[Violation]:
    """What users owe (borrowed, interest) equals what the lending pool is owed, per asset."""
    users = set(user_ids)
    owed: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    receivable: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for (account_id, _, asset, bucket), amount in materialized.items():
        if account_id in users and bucket in (BORROWED, INTEREST):
            owed[(asset, bucket)] -= amount
        elif account_id == pool_id and bucket in (LOANED, INTEREST_RECEIVABLE):
            receivable[(asset, BORROWED if bucket == LOANED else INTEREST)] += amount
    violations = []
    for asset, bucket in sorted(set(owed) | set(receivable)):
        if owed[(asset, bucket)] != receivable[(asset, bucket)]:
            violations.append(
                Violation(
                    "liabilities_match_receivables",
                    f"{asset} {bucket}",
                    f"users owe {to_text(owed[(asset, bucket)])}, "
                    f"the lending pool is owed {to_text(receivable[(asset, bucket)])}",
                )
            )
    return violations


def interest_hours_unique(periodic_charges: Iterable[tuple[int, str, str, str]]) -> list[Violation]:
    """Each (account, wallet, asset, hour) is charged PERIODIC interest at most once."""
    counts = Counter(periodic_charges)
    return [
        Violation("interest_hours_unique", f"account {key[0]} {key[1]} {key[2]} {key[3]}", f"charged {count} times")
        for key, count in sorted(counts.items())
        if count > 1
    ]


def locks_match_orders(
    materialized: Mapping[BalanceKey, Decimal], held_by_orders: Mapping[BalanceKey, Decimal], names: Mapping[int, str]
) -> list[Violation]:
    """Locked funds equal what the open orders hold."""
    locked = {key: amount for key, amount in materialized.items() if key[3] == LOCKED and amount != 0}
    violations = []
    for key in sorted(set(locked) | set(held_by_orders)):
        if locked.get(key, ZERO) != held_by_orders.get(key, ZERO):
            account_id, wallet, asset, _ = key
            violations.append(
                Violation(
                    "locks_match_orders",
                    f"{names.get(account_id, account_id)} {wallet} {asset}",
                    f"locked {to_text(locked.get(key, ZERO))}, "
                    f"open orders hold {to_text(held_by_orders.get(key, ZERO))}",
                )
            )
    return violations
