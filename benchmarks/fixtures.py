"""Big wallets for the benchmarks, written straight into SQLite in bulk (the CLI would take hours).

Each fixture keeps the ledger's invariants: every entry balances and the materialized balances are the
sums of the postings, so `marginctl audit` passes on it.
"""

from __future__ import annotations

import sqlite3
import subprocess
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

from benchmarks.common import environment, marginctl_command

HOUR0 = "2026-06-01T00:00:00.000000Z"
#: Wallets and the asset each loan is in: cross in every asset, each isolated pair in its quote.
LOAN_SLOTS = [
    ("cross", "USDT"),
    ("cross", "BTC"),
    ("cross", "ETH"),
    ("cross", "BNB"),
    ("cross", "BUSD"),
    ("BTC/USDT", "USDT"),
    ("ETH/USDT", "USDT"),
    ("BNB/USDT", "USDT"),
    ("BUSD/USDT", "USDT"),
    ("ETH/BTC", "BTC"),
]


def new_wallet(path: Path, now: str = "2026-06-01T00:00:00Z") -> sqlite3.Connection:
    """A wallet made by marginctl itself (schema, seed), then opened for bulk writes."""
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    subprocess.run(
        [*marginctl_command(), "--now", now, "deposit", "USDT", "1", "--json"],
        env=environment(path),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA synchronous = OFF")
    connection.execute("BEGIN IMMEDIATE")
    return connection


def _ids(connection: sqlite3.Connection) -> dict[str, int]:
    return {name: account_id for account_id, name in connection.execute("SELECT id, name FROM accounts")}


def _write(
    connection: sqlite3.Connection,
    entries: Iterable[tuple[int, str, str, list[tuple[int, str, str, str, Decimal]]]],
) -> None:
    """Append entries (account, kind, time, postings) and move the balances by their postings."""
    next_id = connection.execute("SELECT coalesce(max(id), 0) + 1 FROM entries").fetchone()[0]
    entry_rows, posting_rows = [], []
    totals: dict[tuple[int, str, str, str], Decimal] = defaultdict(Decimal)
    for entry_id, (account_id, kind, at, postings) in enumerate(entries, start=next_id):
        entry_rows.append((entry_id, account_id, kind, at))
        for posting in postings:
            posting_rows.append((entry_id, *posting[:4], format(posting[4], "f")))
            totals[posting[:4]] += posting[4]
    connection.executemany("INSERT INTO entries (id, account_id, kind, created_at) VALUES (?, ?, ?, ?)", entry_rows)
    connection.executemany(
        "INSERT INTO postings (entry_id, account_id, wallet, asset, bucket, amount) VALUES (?, ?, ?, ?, ?, ?)",
        posting_rows,
    )
    current = {
        (account_id, wallet, asset, bucket): Decimal(amount)
        for account_id, wallet, asset, bucket, amount in connection.execute(
            "SELECT account_id, wallet, asset, bucket, amount FROM balances"
        )
    }
    rows = [(*key, format(current.get(key, Decimal(0)) + delta, "f")) for key, delta in totals.items()]
    connection.executemany(
        "INSERT INTO balances (account_id, wallet, asset, bucket, amount) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (account_id, wallet, asset, bucket) DO UPDATE SET amount = excluded.amount",
        rows,
    )


def _accounts(connection: sqlite3.Connection, count: int) -> list[int]:
    first = connection.execute("SELECT coalesce(max(id), 0) + 1 FROM accounts").fetchone()[0]
    rows = [(first + index, f"user{index}", 0, HOUR0, HOUR0) for index in range(count)]
    connection.executemany(
        "INSERT INTO accounts (id, name, is_system, created_at, agreement_accepted_at) VALUES (?, ?, ?, ?, ?)", rows
    )
    return [row[0] for row in rows]


def journal_wallet(path: Path, entries: int) -> None:
    """`entries` deposits of 1 USDT into main's spot wallet."""
    connection = new_wallet(path)
    ids = _ids(connection)
    main, external = ids["main"], ids["external"]
    at = "2026-06-01T00:00:00.000000Z"
    batch = 100_000
    for start in range(0, entries, batch):
        _write(
            connection,
            (
                (
                    main,
                    "deposit",
                    at,
                    [(main, "spot", "USDT", "free", Decimal(1)), (external, "spot", "USDT", "free", Decimal(-1))],
                )
                for _ in range(start, min(entries, start + batch))
            ),
        )
    connection.execute("COMMIT")
    connection.close()


def loans_wallet(path: Path, accounts: int, slots: list[tuple[str, str]] = LOAN_SLOTS) -> int:
    """`accounts` users, each with a healthy loan in every slot (collateral 2× the principal, same asset)."""
    connection = new_wallet(path)
    ids = _ids(connection)
    external, pool = ids["external"], ids["lending-pool"]
    principal = {
        "USDT": Decimal(100),
        "BUSD": Decimal(100),
        "BTC": Decimal("0.002"),
        "ETH": Decimal("0.03"),
        "BNB": Decimal("0.2"),
    }
    users = _accounts(connection, accounts)
    entries = []
    accruals = []
    for user in users:
        postings = []
        for wallet, asset in slots:
            amount = principal[asset]
            postings += [
                (external, "spot", asset, "free", -2 * amount),
                (user, wallet, asset, "free", 3 * amount),
                (user, wallet, asset, "borrowed", -amount),
                (pool, "spot", asset, "free", -amount),
                (pool, "spot", asset, "loaned", amount),
            ]
            accruals.append((user, wallet, asset, HOUR0))
        entries.append((user, "borrow", HOUR0, postings))
    _write(connection, entries)
    connection.executemany(
        "INSERT INTO loan_accruals (account_id, wallet, asset, accrued_through) VALUES (?, ?, ?, ?)", accruals
    )
    connection.execute("COMMIT")
    connection.close()
    return len(accruals)


CENTURY_START = "2000-01-01T00:00:00Z"
CENTURY_END = "2099-12-31T23:59:59Z"


def century_loan_wallet(path: Path) -> None:
    """One 100 USDT loan taken at the first accepted instant (2000-01-01T00:00Z), on 10,000 USDT of collateral
    (no margin call in a century: 876.6 USDT of interest), made by marginctl itself: the worst catch-up, to
    the last accepted second, is 876,599 hour boundaries."""
    path.unlink(missing_ok=True)
    env = environment(path)
    for step in (
        ["deposit", "USDT", "10000"],
        ["transfer", "USDT", "10000", "--yes"],
        ["borrow", "USDT", "100", "--yes"],
    ):
        subprocess.run(
            [*marginctl_command(), "--now", CENTURY_START, *step, "--json"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )


def orders_wallet(path: Path, accounts: int, orders_per_account: int, crossed_per_account: int) -> None:
    """Resting BUY 0.001 BTC limit orders in cross; `crossed_per_account` of each account's at ≥ 59000."""
    connection = new_wallet(path)
    ids = _ids(connection)
    external = ids["external"]
    users = _accounts(connection, accounts)
    entries, orders = [], []
    quantity = Decimal("0.001")
    for user in users:
        prices = [Decimal(59000 + index) for index in range(crossed_per_account)]
        prices += [Decimal(50000 - index) for index in range(orders_per_account - crossed_per_account)]
        locked = sum((quantity * price for price in prices), Decimal(0))
        entries.append(
            (
                user,
                "deposit",
                HOUR0,
                [
                    (external, "spot", "USDT", "free", -(locked + 1000)),
                    (user, "cross", "USDT", "free", Decimal(1000)),
                    (user, "cross", "USDT", "locked", locked),
                ],
            )
        )
        for price in prices:
            orders.append(
                (
                    user,
                    "cross",
                    "BTC/USDT",
                    "BUY",
                    "LIMIT",
                    format(price, "f"),
                    0,
                    "0.001",
                    "0",
                    "0",
                    "NEW",
                    "NO_SIDE_EFFECT",
                    "USDT",
                    format(quantity * price, "f"),
                    "0",
                    HOUR0,
                    HOUR0,
                )
            )
    _write(connection, entries)
    connection.executemany(
        "INSERT INTO orders (account_id, wallet, pair, side, type, price, triggered, orig_qty, executed_qty, "
        "quote_qty, status, side_effect, locked_asset, locked_amount, borrowed_amount, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        orders,
    )
    connection.execute("COMMIT")
    connection.close()


def klines_file(path: Path, minutes: int, start_price: float = 60000.0, seed: int = 7) -> None:
    """A random walk of one-minute candles in Binance's CSV layout (µs timestamps, as from 2025 on)."""
    import random

    generator = random.Random(seed)
    start_us = 1_782_864_000_000_000  # 2026-07-01T00:00:00Z
    price = start_price
    with path.open("w", encoding="ascii") as handle:
        for minute in range(minutes):
            open_price = price
            close = max(1000.0, open_price * (1 + generator.gauss(0, 0.0006)))
            high = max(open_price, close) * (1 + abs(generator.gauss(0, 0.0003)))
            low = min(open_price, close) * (1 - abs(generator.gauss(0, 0.0003)))
            open_time = start_us + minute * 60_000_000
            handle.write(
                f"{open_time},{open_price:.2f},{high:.2f},{low:.2f},{close:.2f},1.0,{open_time + 59_999_999},"
                f"{close:.2f},10,0.5,{close / 2:.2f},0\n"
            )
            price = float(f"{close:.2f}")
