"""The one way balances change: `post_entry` writes an entry, its postings and the balances together."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from marginctl.domain.errors import DatabaseError, InsufficientBalance, UnknownAccount
from marginctl.domain.ledger import FREE, LOCKED, Posting, asset_balance, unbalanced_assets
from marginctl.domain.margin import AssetBalance
from marginctl.domain.money import ZERO, from_text
from marginctl.domain.times import from_storage, to_storage
from marginctl.store.book import sync_sequence, take_id
from marginctl.store.database import Row, Transaction, id_lists

_ACCOUNT_COLUMNS = "id, name, is_system, created_at, agreement_accepted_at, cooling_off_until"


def find_account(tx: Transaction, name: str) -> Row | None:
    rows = tx.execute(f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE name = :name", {"name": name})
    return rows[0] if rows else None


def account_by_id(tx: Transaction, account_id: int) -> Row:
    return tx.execute(f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE id = :id", {"id": account_id})[0]


def accounts_by_id(tx: Transaction, account_ids: Sequence[int]) -> dict[int, Row]:
    found: dict[int, Row] = {}
    for placeholders, params in id_lists(account_ids):
        for row in tx.execute(f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE id IN ({placeholders})", params):
            found[int(row["id"])] = row
    return found


def require_account(tx: Transaction, name: str) -> Row:
    account = find_account(tx, name)
    if account is None or account["is_system"]:
        raise UnknownAccount(f"no account {name!r} in this wallet; create it with: marginctl accounts create {name}")
    return account


def create_account(tx: Transaction, name: str, *, is_system: bool, at: datetime) -> int:
    """A new account; with an id reserved by the write's load, no answer from the server is awaited."""
    values = {"name": name, "is_system": is_system, "at": to_storage(at)}
    reserved = take_id(tx, "accounts")
    if reserved is None:
        rows = tx.execute(
            "INSERT INTO accounts (name, is_system, created_at) VALUES (:name, :is_system, :at) RETURNING id", values
        )
        return int(rows[0]["id"])
    tx.send(
        "INSERT INTO accounts (id, name, is_system, created_at) VALUES (:id, :name, :is_system, :at)",
        {"id": reserved, **values},
    )
    sync_sequence(tx, "accounts", reserved)
    return reserved


def is_seeded(tx: Transaction) -> bool:
    """A wallet exists once its first write created the system accounts."""
    return bool(tx.execute("SELECT id FROM accounts WHERE is_system = :yes LIMIT 1", {"yes": True}))


def accept_agreement(tx: Transaction, account_id: int, at: datetime) -> None:
    tx.send("UPDATE accounts SET agreement_accepted_at = :at WHERE id = :id", {"at": to_storage(at), "id": account_id})


def account_ids(tx: Transaction, names: Iterable[str]) -> dict[str, int]:
    """Ids of the named accounts; one indexed lookup per name, never a scan of every account."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    parameters = {f"n{i}": name for i, name in enumerate(wanted)}
    placeholders = ", ".join(f":{key}" for key in parameters)
    rows = tx.execute(f"SELECT id, name FROM accounts WHERE name IN ({placeholders})", parameters)
    return {str(row["name"]): int(row["id"]) for row in rows}


class NewEntry:
    """One journal entry to write (a plain class: a dataclass costs ~1 ms to define at every start)."""

    __slots__ = ("account_id", "at", "kind", "memo", "postings", "request_id")

    def __init__(
        self,
        account_id: int,
        kind: str,
        at: datetime,
        postings: Sequence[Posting],
        memo: str | None = None,
        request_id: int | None = None,
    ) -> None:
        self.account_id, self.kind, self.at, self.postings = account_id, kind, at, postings
        self.memo, self.request_id = memo, request_id


def post_entry(
    tx: Transaction,
    *,
    account_id: int,
    kind: str,
    at: datetime,
    postings: Sequence[Posting],
    memo: str | None = None,
    request_id: int | None = None,
    user_account_ids: Iterable[int] = (),
) -> int:
    """Write one balanced journal entry and move the materialized balances with it."""
    entry = NewEntry(account_id, kind, at, postings, memo, request_id)
    return post_entries(tx, [entry], user_account_ids)[0]


def post_entries(tx: Transaction, entries: Sequence[NewEntry], user_account_ids: Iterable[int] = ()) -> list[int]:
    """Write balanced journal entries, their postings and the balances they move, set-based.

    The ledger itself refuses a user's `free` or `locked` going below zero (TigerBeetle's limits):
    `user_account_ids` names the accounts that limit applies to.
    """
    for entry in entries:
        unbalanced = unbalanced_assets(entry.postings)
        if unbalanced:
            raise AssertionError(f"unbalanced {entry.kind} entry: {unbalanced}")
    if not entries:
        return []
    # Writers are serialized (BEGIN IMMEDIATE, or PostgreSQL's writer lock), so the ids above the highest
    # one are free: the entries take them explicitly and nothing waits for the server to name them.
    first = take_id(tx, "entries")
    if first is None:
        first = int(tx.execute("SELECT coalesce(max(id), 0) AS id FROM entries")[0]["id"]) + 1
    else:
        tx.cache["next_ids"]["entries"] = first + len(entries)
    entry_ids = list(range(first, first + len(entries)))
    tx.executemany(
        "INSERT INTO entries (id, account_id, kind, created_at, request_id, memo) "
        "VALUES (:id, :account_id, :kind, :at, :request_id, :memo)",
        [
            {
                "id": entry_id,
                "account_id": entry.account_id,
                "kind": entry.kind,
                "at": to_storage(entry.at),
                "request_id": entry.request_id,
                "memo": entry.memo,
            }
            for entry_id, entry in zip(entry_ids, entries, strict=True)
        ],
    )
    sync_sequence(tx, "entries", entry_ids[-1])
    posting_rows = []
    for entry_id, entry in zip(entry_ids, entries, strict=True):
        posting_rows.extend(
            {
                "entry_id": entry_id,
                "account_id": posting.account_id,
                "wallet": posting.wallet,
                "asset": posting.asset,
                "bucket": posting.bucket,
                "amount": posting.amount,
            }
            for posting in entry.postings
            if posting.amount != 0
        )
    tx.executemany(
        "INSERT INTO postings (entry_id, account_id, wallet, asset, bucket, amount) "
        "VALUES (:entry_id, :account_id, :wallet, :asset, :bucket, :amount)",
        posting_rows,
    )
    _move_balances(tx, [posting for entry in entries for posting in entry.postings], set(user_account_ids))
    return entry_ids


BalanceKey = tuple[int, str, str, str]
#: Keys per balance lookup: 4 parameters each, well under SQLite's limit of variables.
_KEYS_PER_QUERY = 400


def _current_balances(tx: Transaction, keys: list[BalanceKey]) -> dict[BalanceKey, Decimal]:
    found: dict[BalanceKey, Decimal] = {}
    for start in range(0, len(keys), _KEYS_PER_QUERY):
        chunk = keys[start : start + _KEYS_PER_QUERY]
        params: dict[str, Any] = {}
        tuples = []
        for index, (account_id, wallet, asset, bucket) in enumerate(chunk):
            params.update({f"a{index}": account_id, f"w{index}": wallet, f"s{index}": asset, f"b{index}": bucket})
            tuples.append(f"(:a{index}, :w{index}, :s{index}, :b{index})")
        # Only generated placeholder names go into the SQL text; every value is a bound parameter.
        # A join (not IN) so both engines look each key up in the primary key instead of scanning.
        sql = (
            f"SELECT b.account_id, b.wallet, b.asset, b.bucket, b.amount FROM (VALUES {', '.join(tuples)}) AS wanted "
            "JOIN balances b ON b.account_id = wanted.column1 AND b.wallet = wanted.column2 "
            "AND b.asset = wanted.column3 AND b.bucket = wanted.column4"
        )
        for row in tx.execute(sql, params):
            found[(int(row["account_id"]), str(row["wallet"]), str(row["asset"]), str(row["bucket"]))] = from_text(
                row["amount"]
            )
    return found


#: Exact addition inside the database: NUMERIC on PostgreSQL, `dec_add` (Python's Decimal) on SQLite's TEXT.
_ADD_AMOUNTS = {
    "sqlite": "dec_add(balances.amount, excluded.amount)",
    "postgresql": "balances.amount + excluded.amount",
}


def _move_balances(tx: Transaction, postings: Sequence[Posting], limited: set[int]) -> None:
    """Add each key's delta in one upsert batch; then check the keys a limit applies to."""
    deltas: dict[BalanceKey, Decimal] = defaultdict(lambda: ZERO)
    for posting in postings:
        deltas[(posting.account_id, posting.wallet, posting.asset, posting.bucket)] += posting.amount
    moved = {key: delta for key, delta in deltas.items() if delta != 0}
    checked = [key for key, delta in moved.items() if key[0] in limited and key[3] in (FREE, LOCKED) and delta < 0]
    known: dict[int, dict[tuple[str, str, str], Decimal]] = tx.cache.get("balances", {})
    # A balance the write loaded is checked here, before anything is sent; the others after the upsert.
    for key in [key for key in checked if key[0] in known]:
        _refuse_negative(key, known[key[0]].get(key[1:], ZERO) + moved[key], moved[key])
    for (account_id, *rest), delta in moved.items():
        if account_id in known:
            bucket_key = (rest[0], rest[1], rest[2])
            known[account_id][bucket_key] = known[account_id].get(bucket_key, ZERO) + delta
    tx.executemany(
        "INSERT INTO balances (account_id, wallet, asset, bucket, amount) "
        "VALUES (:account_id, :wallet, :asset, :bucket, :amount) "
        f"ON CONFLICT (account_id, wallet, asset, bucket) DO UPDATE SET amount = {_ADD_AMOUNTS[tx.dialect]}",
        [
            {"account_id": account_id, "wallet": wallet, "asset": asset, "bucket": bucket, "amount": delta}
            for (account_id, wallet, asset, bucket), delta in moved.items()
        ],
    )
    unknown = [key for key in checked if key[0] not in known]
    for key, after in _current_balances(tx, unknown).items():
        _refuse_negative(key, after, moved[key])


def _refuse_negative(key: BalanceKey, after: Decimal, delta: Decimal) -> None:
    if after < 0:
        _, wallet, asset, bucket = key
        before, needed = _plain(after - delta), _plain(-delta)
        raise InsufficientBalance(f"insufficient {asset} {bucket} in {wallet}: have {before}, need {needed}")


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


def raw_balances(
    tx: Transaction, account_id: int, wallet: str | None = None
) -> dict[tuple[str, str], dict[str, Decimal]]:
    """(wallet, asset) → bucket → raw signed amount, for one account (optionally one wallet)."""
    sql = "SELECT wallet, asset, bucket, amount FROM balances WHERE account_id = :account_id"
    params: dict[str, Any] = {"account_id": account_id}
    if wallet is not None:
        sql += " AND wallet = :wallet"
        params["wallet"] = wallet
    result: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(dict)
    for row in tx.execute(sql, params):
        result[(str(row["wallet"]), str(row["asset"]))][str(row["bucket"])] = from_text(row["amount"])
    return result


def wallet_balances(tx: Transaction, account_id: int, wallet: str) -> dict[str, AssetBalance]:
    return {
        asset: asset_balance(asset, buckets) for (_, asset), buckets in raw_balances(tx, account_id, wallet).items()
    }


def free_balance(tx: Transaction, account_id: int, wallet: str, asset: str) -> Decimal:
    known = tx.cache.get("balances", {}).get(account_id)
    if known is not None:
        return known.get((wallet, asset, FREE), ZERO)  # type: ignore[no-any-return]
    rows = tx.execute(
        "SELECT amount FROM balances WHERE account_id = :account_id AND wallet = :wallet "
        "AND asset = :asset AND bucket = 'free'",
        {"account_id": account_id, "wallet": wallet, "asset": asset},
    )
    return from_text(rows[0]["amount"]) if rows else ZERO


def shared_clock(tx: Transaction) -> datetime | None:
    """PostgreSQL's own clock, for a wallet that several machines share: their writes then agree on one
    time whatever each machine's clock says, so a few milliseconds of skew never refuse a write. SQLite is
    one machine's file: None, the system clock serves."""
    if tx.dialect != "postgresql":
        return None
    moment = tx.execute("SELECT clock_timestamp() AS now")[0]["now"]
    assert isinstance(moment, datetime)
    return moment.astimezone(UTC)


def get_meta(tx: Transaction, key: str) -> str | None:
    rows = tx.execute("SELECT value FROM meta WHERE key = :key", {"key": key})
    return str(rows[0]["value"]) if rows else None


def check_time_meta(tx: Transaction, key: str, shown: str) -> None:
    """A meta row that holds a time (the wallet's clock) must hold one; else the wallet is damaged (one line)."""
    check_time_value(key, get_meta(tx, key), shown)


def check_time_value(key: str, value: str | None, shown: str) -> None:
    if value is None:
        return
    try:
        moment = from_storage(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise DatabaseError(
            f"the wallet {shown} is damaged: its meta row {key} holds {value[:40]!r}, not a time; "
            "restore it from a backup"
        )


def set_meta(tx: Transaction, key: str, value: str) -> None:
    tx.send(
        "INSERT INTO meta (key, value) VALUES (:key, :value) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        {"key": key, "value": value},
    )


def start_request(
    tx: Transaction, account_id: int, client_id: str, command: str, fingerprint: str, at: datetime
) -> int:
    values = {
        "account_id": account_id,
        "client_id": client_id,
        "command": command,
        "fingerprint": fingerprint,
        "at": to_storage(at),
    }
    reserved = take_id(tx, "requests")
    if reserved is None:
        rows = tx.execute(
            "INSERT INTO requests (account_id, client_id, command, fingerprint, result, created_at) "
            "VALUES (:account_id, :client_id, :command, :fingerprint, '', :at) RETURNING id",
            values,
        )
        return int(rows[0]["id"])
    tx.send(
        "INSERT INTO requests (id, account_id, client_id, command, fingerprint, result, created_at) "
        "VALUES (:id, :account_id, :client_id, :command, :fingerprint, '', :at)",
        {"id": reserved, **values},
    )
    sync_sequence(tx, "requests", reserved)
    return reserved


def finish_request(tx: Transaction, request_id: int, result: dict[str, Any]) -> None:
    tx.send(
        "UPDATE requests SET result = :result WHERE id = :id",
        {"id": request_id, "result": json.dumps(result)},
    )


def wallets_in_use(tx: Transaction, account_id: int) -> set[str]:
    """The wallets in which the account holds, owes or has locked anything."""
    rows = tx.execute(
        "SELECT DISTINCT wallet FROM balances WHERE account_id = :account_id AND amount <> 0",
        {"account_id": account_id},
    )
    return {str(row["wallet"]) for row in rows}
