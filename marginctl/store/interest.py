"""Interest charges and loan clocks: every statement on `interest_charges` and `loan_accruals`.

A row of `interest_charges` is one charge (ON_BORROW) or a run of `hours` consecutive PERIODIC hours of
one loan, from `periodic_hour` (= `charged_at`) through `last_at`, each hour charged `interest` on
`principal` at `daily_rate`. The loan clock (`loan_accruals.accrued_through`) says through which hour a
loan has been charged; a run always starts the hour after it and is written, with the clock moved to its
last hour, in the same write transaction (writers are serialized), and the unique key on (account, wallet,
asset, periodic_hour) refuses a second run from the same hour: no hour is charged twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from marginctl.domain.interest import StoredRun, hours_since
from marginctl.domain.money import to_text
from marginctl.domain.times import from_storage, to_storage
from marginctl.store.database import Row, Transaction, id_lists


class DueLoan(NamedTuple):
    """A loan clock with the principal outstanding now (0 when nothing is borrowed)."""

    account_id: int
    wallet: str
    asset: str
    accrued_through: str
    borrowed: str | None


class NewRun(NamedTuple):
    """One stored charge: `hours` hours from `first` (stored text), `interest` each."""

    entry_id: int
    account_id: int
    wallet: str
    asset: str
    first: str
    last: str
    charge_type: str
    periodic_hour: str | None
    hours: int
    principal: Decimal
    daily_rate: Decimal
    interest: Decimal


def due_loans(tx: Transaction, before: datetime, account_id: int | None = None) -> list[DueLoan]:
    """Every loan clock behind `before`, with the principal outstanding now, in the table's own order (the
    order their hours have always been written in, so `interest`'s ties by id stay as they were)."""
    sql = (
        "SELECT l.account_id, l.wallet, l.asset, l.accrued_through, b.amount FROM loan_accruals l "
        "LEFT JOIN balances b ON b.account_id = l.account_id AND b.wallet = l.wallet AND b.asset = l.asset "
        "AND b.bucket = 'borrowed' WHERE l.accrued_through < :before"
    )
    params: dict[str, Any] = {"before": to_storage(before)}
    if account_id is not None:
        sql += " AND l.account_id = :account_id"
        params["account_id"] = account_id
    return [
        DueLoan(int(account), str(wallet), str(asset), str(through), None if amount is None else str(amount))
        for account, wallet, asset, through, amount in tx.execute(sql, params)
    ]


def accounts_with_loans_due(tx: Transaction, before: datetime, account_ids: Sequence[int]) -> set[int]:
    """Which of these accounts have a loan clock behind `before` (a catch-up is owed before they change)."""
    found: set[int] = set()
    for placeholders, params in id_lists(account_ids):
        rows = tx.execute(
            "SELECT DISTINCT account_id FROM loan_accruals "
            f"WHERE accrued_through < :before AND account_id IN ({placeholders})",
            {**params, "before": to_storage(before)},
        )
        found.update(int(row["account_id"]) for row in rows)
    return found


def open_loan_clock(tx: Transaction, account_id: int, wallet: str, asset: str, hour: datetime) -> None:
    tx.execute(
        "INSERT INTO loan_accruals (account_id, wallet, asset, accrued_through) "
        "VALUES (:account_id, :wallet, :asset, :hour) ON CONFLICT DO NOTHING",
        {"account_id": account_id, "wallet": wallet, "asset": asset, "hour": to_storage(hour)},
    )


def mark_accrued(tx: Transaction, hour: datetime, account_id: int | None = None) -> None:
    """Every clock behind `hour` (of one account, or all) moves to `hour`."""
    sql = "UPDATE loan_accruals SET accrued_through = :hour WHERE accrued_through < :hour"
    params: dict[str, Any] = {"hour": to_storage(hour)}
    if account_id is not None:
        sql += " AND account_id = :account_id"
        params["account_id"] = account_id
    tx.execute(sql, params)


def set_clocks(tx: Transaction, clocks: Sequence[tuple[int, str, str, str]]) -> None:
    """Put the named loans' clocks at the given stored hours (account, wallet, asset, hour)."""
    tx.executemany(
        "UPDATE loan_accruals SET accrued_through = :hour "
        "WHERE account_id = :account_id AND wallet = :wallet AND asset = :asset",
        [
            {"account_id": account_id, "wallet": wallet, "asset": asset, "hour": hour}
            for account_id, wallet, asset, hour in clocks
        ],
    )


def insert_runs(tx: Transaction, runs: Sequence[NewRun]) -> None:
    amount = _amount_binder(tx)
    tx.executemany(
        "INSERT INTO interest_charges (entry_id, account_id, wallet, asset, charged_at, last_at, type, "
        "periodic_hour, hours, principal, daily_rate, interest) VALUES (:entry_id, :account_id, :wallet, :asset, "
        ":first, :last, :type, :hour, :hours, :principal, :daily_rate, :interest)",
        [
            {
                "entry_id": run.entry_id,
                "account_id": run.account_id,
                "wallet": run.wallet,
                "asset": run.asset,
                "first": run.first,
                "last": run.last,
                "type": run.charge_type,
                "hour": run.periodic_hour,
                "hours": run.hours,
                "principal": amount(run.principal),
                "daily_rate": amount(run.daily_rate),
                "interest": amount(run.interest),
            }
            for run in runs
        ],
    )


def _amount_binder(tx: Transaction) -> Callable[[Decimal], Any]:
    """Amounts as the engine stores them: canonical text on SQLite (each distinct amount converted once: a
    catch-up repeats a few principals and rates many times), Decimal for PostgreSQL's NUMERIC."""
    if tx.dialect != "sqlite":
        return lambda value: value
    # A catch-up binds the same few rate and interest objects many times: each is converted once (keyed by
    # the object, which the caller keeps alive until the insert is done).
    texts: dict[int, tuple[Decimal, str]] = {}

    def text(value: Decimal) -> str:
        found = texts.get(id(value))
        if found is None or found[0] is not value:
            found = texts[id(value)] = (value, to_text(value))
        return found[1]

    return text


def _filters(account_id: int, asset: str | None, wallet: str | None = None) -> tuple[str, dict[str, Any]]:
    sql = " WHERE account_id = :account_id"
    params: dict[str, Any] = {"account_id": account_id}
    if asset is not None:
        sql += " AND asset = :asset"
        params["asset"] = asset
    if wallet is not None:
        sql += " AND wallet = :wallet"
        params["wallet"] = wallet
    return sql, params


def count_rows(tx: Transaction, account_id: int, asset: str | None, since: datetime | None) -> int:
    """How many hourly rows the account's charges hold at or after `since` (Binance's `total`)."""
    where, params = _filters(account_id, asset)
    if since is None:
        return int(tx.execute(f"SELECT coalesce(sum(hours), 0) AS n FROM interest_charges{where}", params)[0]["n"])
    params["since"] = to_storage(since)
    total = int(
        tx.execute(
            f"SELECT coalesce(sum(hours), 0) AS n FROM interest_charges{where} AND charged_at >= :since", params
        )[0]["n"]
    )
    # A run that starts before `since` and reaches it counts its hours from `since` on (one per loan at most).
    straddling = tx.execute(
        f"SELECT id, charged_at, hours FROM interest_charges{where} AND charged_at < :since AND last_at >= :since",
        params,
    )
    return total + sum(hours_since(_stored(row), since) for row in straddling)


def _stored(row: Row) -> StoredRun:
    return StoredRun(int(row["id"]), from_storage(str(row["charged_at"])), int(row["hours"]))


def newest_runs(
    tx: Transaction, account_id: int, asset: str | None, since: datetime | None, limit: int
) -> list[StoredRun]:
    """The `limit` runs whose last hours are newest: they hold the `limit` newest rows (each run has at least
    one row, and every row of a later run is older than or tied with its last, with a lower id)."""
    where, params = _filters(account_id, asset)
    if since is not None:
        where += " AND last_at >= :since"
        params["since"] = to_storage(since)
    rows = tx.execute(
        f"SELECT id, charged_at, hours FROM interest_charges{where} ORDER BY last_at DESC, id DESC LIMIT :limit",
        {**params, "limit": limit},
    )
    return [_stored(row) for row in rows]


def charges_by_id(tx: Transaction, ids: Sequence[int]) -> dict[int, Row]:
    found: dict[int, Row] = {}
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        params = {f"i{index}": value for index, value in enumerate(chunk)}
        placeholders = ", ".join(f":i{index}" for index in range(len(chunk)))
        for row in tx.execute(
            "SELECT id, entry_id, wallet, asset, type, principal, daily_rate, interest FROM interest_charges "
            f"WHERE id IN ({placeholders})",
            params,
        ):
            found[int(row["id"])] = row
    return found


def wallet_interest(
    tx: Transaction, account_id: int, wallet: str, since: datetime | None
) -> list[tuple[str, str, int]]:
    """(asset, interest per hour, hours at or after `since`) of every charge of one wallet."""
    where, params = _filters(account_id, None, wallet)
    if since is not None:
        where += " AND last_at >= :since"
        params["since"] = to_storage(since)
    rows = tx.execute(f"SELECT id, asset, interest, charged_at, hours FROM interest_charges{where}", params)
    return [(str(row["asset"]), str(row["interest"]), hours_since(_stored(row), since)) for row in rows]


def periodic_runs(tx: Transaction) -> list[tuple[int, str, str, datetime, int]]:
    """(account, wallet, asset, first hour, hours) of every PERIODIC charge, for the audit."""
    return [
        (
            int(row["account_id"]),
            str(row["wallet"]),
            str(row["asset"]),
            from_storage(str(row["periodic_hour"])),
            int(row["hours"]),
        )
        for row in tx.execute(
            "SELECT account_id, wallet, asset, periodic_hour, hours FROM interest_charges "
            "WHERE periodic_hour IS NOT NULL"
        )
    ]


def first_unaccrued_hour(tx: Transaction) -> str | None:
    """The earliest hour boundary through which some loan has been charged (the replay's next accrual)."""
    rows = tx.execute("SELECT min(accrued_through) AS hour FROM loan_accruals")
    return str(rows[0]["hour"]) if rows and rows[0]["hour"] else None
