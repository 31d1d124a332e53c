"""API keys of `marginctl serve`: the one place that reads or writes the `api_keys` table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from marginctl.domain.times import to_storage
from marginctl.store.database import Row, Transaction


class NewApiKey(NamedTuple):
    api_key: str
    account_id: int
    key_type: str
    permissions: str
    secret: str | None
    public_key: str | None
    created_at: datetime


def insert_api_key(tx: Transaction, key: NewApiKey) -> None:
    tx.execute(
        "INSERT INTO api_keys (api_key, account_id, key_type, permissions, secret, public_key, created_at) "
        "VALUES (:api_key, :account_id, :key_type, :permissions, :secret, :public_key, :created_at)",
        {**key._asdict(), "created_at": to_storage(key.created_at)},
    )


def api_keys_of(tx: Transaction, account_id: int) -> Sequence[Row]:
    """The account's keys, oldest first, without their secrets."""
    return tx.execute(
        "SELECT api_key, key_type, permissions, created_at, revoked_at FROM api_keys "
        "WHERE account_id = :account_id ORDER BY id",
        {"account_id": account_id},
    )


def public_key_registered(tx: Transaction, public_key: str) -> bool:
    """Whether a key that is not revoked already holds this Ed25519 public key."""
    rows = tx.execute(
        "SELECT 1 AS found FROM api_keys WHERE public_key = :public_key AND revoked_at IS NULL",
        {"public_key": public_key},
    )
    return bool(rows)


def revoke_api_key(tx: Transaction, account_id: int, api_key: str, at: datetime) -> Row | None:
    """Revoke one of the account's keys that is not revoked yet; the key as it was, or None."""
    rows = tx.execute(
        "SELECT api_key, revoked_at FROM api_keys WHERE api_key = :api_key AND account_id = :account_id",
        {"api_key": api_key, "account_id": account_id},
    )
    if not rows:
        return None
    if rows[0]["revoked_at"] is None:
        tx.execute(
            "UPDATE api_keys SET revoked_at = :at WHERE api_key = :api_key AND account_id = :account_id",
            {"at": to_storage(at), "api_key": api_key, "account_id": account_id},
        )
    return rows[0]


def signing_key(tx: Transaction, api_key: str) -> Row | None:
    """A key that is not revoked, with its account's name and what checks its signatures."""
    rows = tx.execute(
        "SELECT k.api_key, k.key_type, k.permissions, k.secret, k.public_key, a.name AS account_name "
        "FROM api_keys k JOIN accounts a ON a.id = k.account_id "
        "WHERE k.api_key = :api_key AND k.revoked_at IS NULL",
        {"api_key": api_key},
    )
    return rows[0] if rows else None
