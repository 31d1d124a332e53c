"""What a command loads before it decides, each in one round trip (issue 14: load once, write once).

`load_opening` is the wallet's state every command needs first (its schema revision, its clock, whether it
is seeded, its rules); `load_write` what a write needs once it holds the write lock (the account, a repeated
client id, the clock, the account's loans and balances, the next ids). Both are plain reads, sent together.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from marginctl.domain.clock import floor_hour
from marginctl.domain.money import from_text
from marginctl.domain.rules import RulesVersion
from marginctl.domain.times import from_storage, to_storage
from marginctl.store.database import Database, Row, Statement, Transaction

LAST_EVENT_KEY = "last_event_at"
#: The tables whose next id a write reserves in its load, so its inserts need no answer from the server.
ID_TABLES = ("accounts", "entries", "requests")


class Opening:
    """What every command reads first (plain classes here: a dataclass costs ~1 ms to define at every start)."""

    __slots__ = ("last_event", "revision", "rules", "system_ids")

    def __init__(self, revision: str | None, last_event: str | None, system_ids: dict[str, int], rules: list[Row]):
        self.revision, self.last_event, self.system_ids, self.rules = revision, last_event, system_ids, rules


def load_opening(database: Database, system_names: list[str]) -> Opening | None:
    """None for a database without marginctl's tables (a new or foreign one: the slow path says which)."""
    names = {f"n{i}": name for i, name in enumerate(system_names)}
    placeholders = ", ".join(f":{key}" for key in names)
    statements: list[Statement] = [
        ("SELECT version_num FROM alembic_version", {}),
        ("SELECT value FROM meta WHERE key = :key", {"key": LAST_EVENT_KEY}),
        (f"SELECT id, name FROM accounts WHERE name IN ({placeholders}) AND is_system = :yes", {**names, "yes": True}),
        ("SELECT effective_at, document FROM wallet_rules ORDER BY effective_at, id", {}),
    ]
    try:
        revision, meta, system, rules = database.read_batch(statements)
    except Exception as error:
        if "no such table" in str(error) or "does not exist" in str(error):
            return None
        raise
    return Opening(
        revision=str(revision[0]["version_num"]) if revision else None,
        last_event=str(meta[0]["value"]) if meta else None,
        system_ids={str(row["name"]): int(row["id"]) for row in system},
        rules=rules,
    )


def rules_versions(rows: list[Row]) -> list[RulesVersion]:
    """The stored rules as `load_opening` read them (the same as services.rules.load_versions), oldest first."""
    return [RulesVersion(from_storage(str(row["effective_at"])), json.loads(row["document"])) for row in rows]


class WriteBook:
    """What a write decides on. `server_clock`: PostgreSQL's, read under the write lock (None on SQLite or with
    a given clock); `loan_clocks`: (wallet, asset, accrued_through) of the account's loans."""

    __slots__ = ("account", "last_event", "loan_clocks", "next_ids", "request", "server_clock", "system_ids")

    def __init__(
        self,
        *,
        account: Row | None,
        request: Row | None,
        server_clock: datetime | None,
        last_event: str | None,
        loan_clocks: list[tuple[str, str, str]],
        next_ids: dict[str, int],
        system_ids: dict[str, int],
    ) -> None:
        self.account, self.request, self.server_clock, self.last_event = account, request, server_clock, last_event
        self.loan_clocks, self.next_ids, self.system_ids = loan_clocks, next_ids, system_ids

    def loans_due(self, at: datetime) -> bool:
        """Whether a loan clock of the account is before `at`'s hour: a catch-up is owed first."""
        hour = to_storage(floor_hour(at))
        return any(accrued_through < hour for _, _, accrued_through in self.loan_clocks)


def load_write(
    tx: Transaction,
    account_name: str,
    client_id: str | None,
    *,
    server_clock: bool,
    system_names: list[str] | None,
) -> WriteBook:
    """Everything `run_write` decides on, in one round trip; the account's balances go to `tx.cache`."""
    by_name = {"name": account_name}
    statements: list[Statement] = [
        (
            "SELECT id, name, is_system, created_at, agreement_accepted_at, cooling_off_until "
            "FROM accounts WHERE name = :name",
            by_name,
        ),
        ("SELECT value FROM meta WHERE key = :key", {"key": LAST_EVENT_KEY}),
        (
            "SELECT l.wallet, l.asset, l.accrued_through FROM loan_accruals l "
            "JOIN accounts a ON a.id = l.account_id WHERE a.name = :name",
            by_name,
        ),
        (
            "SELECT b.wallet, b.asset, b.bucket, b.amount FROM balances b "
            "JOIN accounts a ON a.id = b.account_id WHERE a.name = :name",
            by_name,
        ),
        (
            "SELECT " + ", ".join(f"(SELECT coalesce(max(id), 0) FROM {table}) AS {table}" for table in ID_TABLES),
            {},
        ),
    ]
    if client_id is not None:
        statements.append(
            (
                "SELECT r.id, r.command, r.fingerprint, r.result FROM requests r JOIN accounts a "
                "ON a.id = r.account_id WHERE a.name = :name AND r.client_id = :client_id",
                {"name": account_name, "client_id": client_id},
            )
        )
    if server_clock:
        statements.append(("SELECT clock_timestamp() AS now", {}))
    if system_names is not None:
        names = {f"n{i}": name for i, name in enumerate(system_names)}
        placeholders = ", ".join(f":{key}" for key in names)
        statements.append((f"SELECT id, name FROM accounts WHERE name IN ({placeholders})", names))
    results = iter(tx.execute_batch(statements))
    account, meta, loans, balances, highest = (next(results) for _ in range(5))
    next_ids = {table: int(highest[0][table]) + 1 for table in ID_TABLES}
    request = next(results) if client_id is not None else []
    clock = next(results) if server_clock else []
    system = next(results) if system_names is not None else []
    book = WriteBook(
        account=account[0] if account else None,
        request=request[0] if request else None,
        server_clock=_utc(clock[0]["now"]) if clock else None,
        last_event=str(meta[0]["value"]) if meta else None,
        loan_clocks=[(str(row["wallet"]), str(row["asset"]), str(row["accrued_through"])) for row in loans],
        next_ids=next_ids,
        system_ids={str(row["name"]): int(row["id"]) for row in system},
    )
    account_id = int(book.account["id"]) if book.account is not None else next_ids["accounts"]
    remember_balances(
        tx,
        account_id,
        {(str(row["wallet"]), str(row["asset"]), str(row["bucket"])): from_text(row["amount"]) for row in balances},
    )
    tx.cache["next_ids"] = next_ids
    return book


def remember_balances(tx: Transaction, account_id: int, balances: dict[tuple[str, str, str], Decimal]) -> None:
    """Every balance row of `account_id`, as loaded: `ledger` keeps them up to date as it posts."""
    tx.cache.setdefault("balances", {})[account_id] = balances


def take_id(tx: Transaction, table: str) -> int | None:
    """The next id of `table`, reserved by the load (writers are serialized); None when nothing was loaded."""
    next_ids: dict[str, int] | None = tx.cache.get("next_ids")
    if next_ids is None or table not in next_ids:
        return None
    taken = next_ids[table]
    next_ids[table] = taken + 1
    return taken


def sync_sequence(tx: Transaction, table: str, highest: int) -> None:
    """PostgreSQL: an explicit id leaves the table's sequence behind; move it, so a default id never collides."""
    if tx.dialect == "postgresql":
        # Moving it back over ids rolled back is harmless: every id above `highest` is free.
        tx.send(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), :id)", {"id": highest})


def _utc(moment: Any) -> datetime:
    assert isinstance(moment, datetime)
    return moment.astimezone(UTC)
