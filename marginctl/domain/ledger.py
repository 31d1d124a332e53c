"""The journal's vocabulary and its one arithmetic rule: an entry's postings sum to zero per asset.

Postings carry signed raw amounts, debit positive: a user's `free` and `locked` are positive, its
`borrowed` and `interest` (liabilities) negative; the lending pool holds the mirror receivables
(`loaned`, `interest_receivable`) positive. So a borrow of 500 USDT posts user free +500,
user borrowed −500, pool free −500, pool loaned +500.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import NamedTuple

from marginctl.domain.margin import AssetBalance
from marginctl.domain.money import ZERO

FREE = "free"
LOCKED = "locked"
BORROWED = "borrowed"
INTEREST = "interest"
LOANED = "loaned"
INTEREST_RECEIVABLE = "interest_receivable"

#: The liability buckets: their raw balance is minus what the user owes.
LIABILITY_BUCKETS = (BORROWED, INTEREST)

EXTERNAL = "external"
LENDING_POOL = "lending-pool"
EXCHANGE = "exchange"
FEES = "fees"
INSURANCE_FUND = "insurance-fund"
SYSTEM_ACCOUNTS = (EXTERNAL, LENDING_POOL, EXCHANGE, FEES, INSURANCE_FUND)


class Posting(NamedTuple):
    """One line of a journal entry (a NamedTuple: entries are built by the hundred thousand)."""

    account_id: int
    wallet: str
    asset: str
    bucket: str
    amount: Decimal


def unbalanced_assets(postings: Iterable[Posting]) -> dict[str, Decimal]:
    """Assets whose postings do not sum to zero, with the sum; empty for a balanced entry."""
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for posting in postings:
        totals[posting.asset] += posting.amount
    return {asset: total for asset, total in totals.items() if total != 0}


def asset_balance(asset: str, raw: dict[str, Decimal]) -> AssetBalance:
    """Binance's fields from raw bucket balances (liabilities flip sign)."""
    return AssetBalance(
        asset=asset,
        free=raw.get(FREE, ZERO),
        locked=raw.get(LOCKED, ZERO),
        borrowed=-raw.get(BORROWED, ZERO),
        interest=-raw.get(INTEREST, ZERO),
    )


#: Every kind of journal entry; `history --kind` accepts these.
ENTRY_KINDS = (
    "seed",
    "deposit",
    "withdraw",
    "transfer",
    "borrow",
    "repay",
    "interest",
    "order",
    "cancel",
    "trade",
    "fee",
    "liquidation",
    "insurance",
)


def user_field(bucket: str, raw_amount: Decimal) -> tuple[str, Decimal]:
    """A posting as the user reads it: liabilities as positive amounts owed."""
    if bucket in LIABILITY_BUCKETS:
        return bucket, -raw_amount
    return bucket, raw_amount
