"""The risk check's SQL: margin balances of the wallets that owe, their reach (which prices can put them in
danger, domain/reach.py), and the risk events a check records."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from marginctl.domain.ledger import LIABILITY_BUCKETS
from marginctl.domain.money import from_text
from marginctl.domain.reach import Reach
from marginctl.store import ledger
from marginctl.store.database import Row, Transaction
from marginctl.store.orders import KEY_MARGIN

WalletKey = tuple[int, str]
RawWallet = dict[str, dict[str, Decimal]]

#: The last posting whose wallet's reach is up to date, and the margin-call levels the reach was worked at.
REACH_THROUGH = "reach_through"
REACH_RULES = "reach_rules"

#: Above this many wallets one scan of the balances is cheaper than a lookup per wallet.
SCAN_ABOVE = 2000

#: A float keeps about 16 significant digits; one part in 10⁹ on each side covers its rounding many times over.


def owing_balances(tx: Transaction, keys: Iterable[WalletKey] | None = None) -> dict[WalletKey, RawWallet]:
    """asset → bucket → amount of each users' margin wallet that owes something (all of them, or `keys`)."""
    raw: dict[WalletKey, RawWallet] = {}
    wanted = set(keys) if keys is not None else None
    if wanted is None or len(wanted) > SCAN_ABOVE:
        rows: Iterable[Row] = tx.execute(
            "SELECT b.account_id, b.wallet, b.asset, b.bucket, b.amount FROM balances b "
            "JOIN accounts a ON a.id = b.account_id WHERE a.is_system = :no AND b.wallet <> 'spot'",
            {"no": False},
        )
    else:
        rows = [
            row
            for account_id, wallet in sorted(wanted)
            for row in tx.execute(
                "SELECT b.account_id, b.wallet, b.asset, b.bucket, b.amount FROM balances b "
                "JOIN accounts a ON a.id = b.account_id WHERE b.account_id = :account_id AND b.wallet = :wallet "
                "AND a.is_system = :no AND b.wallet <> 'spot'",
                {"account_id": account_id, "wallet": wallet, "no": False},
            )
        ]
    owing: set[WalletKey] = set()
    for account_id, wallet, asset, bucket, amount in rows:
        key = (int(account_id), str(wallet))
        if wanted is not None and key not in wanted:
            continue
        value = from_text(amount)
        raw.setdefault(key, {}).setdefault(str(asset), {})[str(bucket)] = value
        if value and bucket in LIABILITY_BUCKETS:
            owing.add(key)
    return {key: raw[key] for key in owing}


def reach_state(tx: Transaction) -> tuple[int | None, str | None]:
    """The reach's watermark (last posting covered) and the margin-call levels it was worked at."""
    rows = tx.execute(
        "SELECT key, value FROM meta WHERE key IN (:through, :rules)", {"through": REACH_THROUGH, "rules": REACH_RULES}
    )
    found = {str(row[0]): str(row[1]) for row in rows}
    through = found.get(REACH_THROUGH)
    return (int(through) if through is not None else None), found.get(REACH_RULES)


def last_posting_id(tx: Transaction) -> int:
    return int(tx.execute("SELECT coalesce(max(id), 0) AS id FROM postings")[0]["id"])


def wallets_posted_after(tx: Transaction, posting_id: int) -> set[WalletKey]:
    """The margin wallets of users that any posting after `posting_id` moved (the primary key's range)."""
    rows = tx.execute(
        "SELECT DISTINCT p.account_id, p.wallet FROM postings p JOIN accounts a ON a.id = p.account_id "
        "WHERE p.id > :after AND a.is_system = :no AND p.wallet <> 'spot'",
        {"after": posting_id, "no": False},
    )
    return {(int(row[0]), str(row[1])) for row in rows}


def save_reach(
    tx: Transaction, reaches: Mapping[WalletKey, Reach], replaced: Iterable[WalletKey] | None, through: int, rules: str
) -> None:
    """Replace the reach of the `replaced` wallets (None: of every wallet) and move the watermark."""
    if replaced is None:
        tx.execute("DELETE FROM risk_reach")
    else:
        tx.executemany(
            "DELETE FROM risk_reach WHERE account_id = :account_id AND wallet = :wallet",
            [{"account_id": account_id, "wallet": wallet} for account_id, wallet in replaced],
        )
    tx.executemany(
        "INSERT INTO risk_reach (account_id, wallet, asset, at_or_below, at_or_above, always) "
        "VALUES (:account_id, :wallet, :asset, :at_or_below, :at_or_above, :always)",
        [
            {
                "account_id": account_id,
                "wallet": wallet,
                "asset": reach.asset,
                # Widened so that the float never leaves out a wallet the exact bound takes in.
                "at_or_below": _key(reach.at_or_below, 1 + KEY_MARGIN),
                "at_or_above": _key(reach.at_or_above, 1 - KEY_MARGIN),
                "always": reach.always,
            }
            for (account_id, wallet), reach in reaches.items()
        ],
    )
    ledger.set_meta(tx, REACH_THROUGH, str(through))
    ledger.set_meta(tx, REACH_RULES, rules)


def _key(bound: Decimal | None, widen: float) -> float | None:
    return None if bound is None else float(bound) * widen


def reachable_wallets(tx: Transaction, prices: Mapping[str, Decimal]) -> set[WalletKey]:
    """Every wallet that may be in danger at `prices` (valuation prices): each one that is, and perhaps a
    few at a hair's breadth of a bound, which the exact check turns away."""
    parts = ["SELECT account_id, wallet FROM risk_reach WHERE always = :yes"]
    params: dict[str, Any] = {"yes": True}
    for index, (asset, price) in enumerate(sorted(prices.items())):
        params[f"asset{index}"], params[f"price{index}"] = asset, float(price)
        parts.append(
            f"SELECT account_id, wallet FROM risk_reach WHERE asset = :asset{index} AND at_or_below >= :price{index}"
        )
        parts.append(
            f"SELECT account_id, wallet FROM risk_reach WHERE asset = :asset{index} AND at_or_above <= :price{index}"
        )
    return {(int(row[0]), str(row[1])) for row in tx.execute(" UNION ".join(parts), params)}


def recent_margin_call(tx: Transaction, account_id: int, wallet: str, since: str) -> bool:
    return bool(
        tx.execute(
            "SELECT id FROM risk_events WHERE account_id = :account_id AND wallet = :wallet "
            "AND kind = 'margin_call' AND at > :since LIMIT 1",
            {"account_id": account_id, "wallet": wallet, "since": since},
        )
    )


def record_margin_call(tx: Transaction, account_id: int, wallet: str, at: str, level: str) -> None:
    tx.execute(
        "INSERT INTO risk_events (account_id, wallet, kind, at, margin_level) "
        "VALUES (:account_id, :wallet, 'margin_call', :at, :level)",
        {"account_id": account_id, "wallet": wallet, "at": at, "level": level},
    )


def record_liquidation(tx: Transaction, values: dict[str, Any]) -> None:
    """`values`: account_id, wallet, at, level, entry_id, detail (JSON text)."""
    tx.execute(
        "INSERT INTO risk_events (account_id, wallet, kind, at, margin_level, entry_id, detail) "
        "VALUES (:account_id, :wallet, 'liquidation', :at, :level, :entry_id, :detail)",
        values,
    )


def last_liquidation(tx: Transaction, account_id: int, wallet: str) -> Row | None:
    """The wallet's latest liquidation event (its entry id and recorded report), or None."""
    rows = tx.execute(
        "SELECT entry_id, detail FROM risk_events WHERE account_id = :account_id AND wallet = :wallet "
        "AND kind = 'liquidation' ORDER BY id DESC LIMIT 1",
        {"account_id": account_id, "wallet": wallet},
    )
    return rows[0] if rows else None
