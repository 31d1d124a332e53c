"""What `audit` reads: the whole journal and the balances as stored, to be recomputed and compared."""

from __future__ import annotations

from collections.abc import Sequence

from marginctl.store.database import Row, Transaction


def all_accounts(tx: Transaction) -> Sequence[Row]:
    return tx.execute("SELECT id, name, is_system FROM accounts")


def entry_count(tx: Transaction) -> int:
    return int(tx.execute("SELECT count(*) AS n FROM entries")[0]["n"])


def all_postings(tx: Transaction) -> Sequence[Row]:
    return tx.execute("SELECT entry_id, account_id, wallet, asset, bucket, amount FROM postings")


def all_balances(tx: Transaction) -> Sequence[Row]:
    return tx.execute("SELECT account_id, wallet, asset, bucket, amount FROM balances")
