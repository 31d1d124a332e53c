"""User accounts (profiles) as `accounts` and `cooloff` read and change them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from marginctl.domain.times import to_storage
from marginctl.store.database import Row, Transaction


def user_accounts(tx: Transaction) -> Sequence[Row]:
    """Every user account (system accounts aside), by name."""
    return tx.execute(
        "SELECT name, created_at, agreement_accepted_at, cooling_off_until FROM accounts "
        "WHERE is_system = :no ORDER BY name",
        {"no": False},
    )


def set_cooling_off(tx: Transaction, account_id: int, until: datetime) -> None:
    tx.execute(
        "UPDATE accounts SET cooling_off_until = :until WHERE id = :id",
        {"until": to_storage(until), "id": account_id},
    )
