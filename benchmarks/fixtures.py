"""Big wallets for the benchmarks, written straight into SQLite in bulk (the CLI would take hours).

Each fixture keeps the ledger's invariants: every entry balances and the materialized balances are the
sums of the postings, so `marginctl audit` passes on it.

The bulk rows are written in the shape of schema revision 0004, which no longer changes: `new_wallet`
makes the wallet with marginctl itself (schema, seed, rules), steps it down to 0004 with Alembic, checks
that every table a fixture writes has exactly the columns written here, and `finish` lets marginctl
upgrade it to its head. So whatever a later revision adds (a key column, a table derived from the
balances or the loans) is filled by that revision's own migration, as for any user's older wallet, and a
fixture fails loudly, never silently mis-measures, when the shape it writes has moved.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

from benchmarks.common import environment, marginctl_command, python_executable

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

#: The revision whose table shapes the bulk writes below follow.
FIXTURE_REVISION = "0004"
#: Every table a fixture writes, with its columns at FIXTURE_REVISION.
FIXTURE_COLUMNS = {
    "accounts": ["id", "name", "is_system", "created_at", "agreement_accepted_at", "cooling_off_until"],
    "entries": ["id", "account_id", "kind", "created_at", "request_id", "memo"],
    "postings": ["id", "entry_id", "account_id", "wallet", "asset", "bucket", "amount"],
    "balances": ["account_id", "wallet", "asset", "bucket", "amount"],
    "loan_accruals": ["account_id", "wallet", "asset", "accrued_through"],
    "orders": [
        "id",
        "account_id",
        "client_order_id",
        "wallet",
        "pair",
        "side",
        "type",
        "price",
        "stop_price",
        "triggered",
        "orig_qty",
        "executed_qty",
        "quote_qty",
        "status",
        "side_effect",
        "locked_asset",
        "locked_amount",
        "borrowed_amount",
        "created_at",
        "updated_at",
        "order_list_id",
    ],
}

#: Run by the measured interpreter: Alembic down to a revision, on marginctl's own connection.
_DOWNGRADE = """
import sys
from alembic import command
from alembic.config import Config
from marginctl.resources import resource_path
from marginctl.store.database import locate
database = locate(sys.argv[1])
config = Config()
config.set_main_option("script_location", str(resource_path("migrations")))
engine = database.migration_engine()
with engine.begin() as connection:
    config.attributes["connection"] = connection
    command.downgrade(config, sys.argv[2])
engine.dispose()
"""


class SchemaMoved(RuntimeError):
    """The wallet's tables are not in the shape a fixture writes: fix benchmarks/fixtures.py first."""


def _revision(path: Path) -> str:
    connection = sqlite3.connect(path)
    try:
        return str(connection.execute("SELECT version_num FROM alembic_version").fetchone()[0])
    finally:
        connection.close()


def _check_shape(connection: sqlite3.Connection) -> None:
    for table, columns in FIXTURE_COLUMNS.items():
        found = [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]
        if found != columns:
            raise SchemaMoved(
                f"table {table} at revision {FIXTURE_REVISION} has columns {found}, the fixtures write {columns}: "
                "benchmarks/fixtures.py must be taught the new shape"
            )


def new_wallet(path: Path, now: str = "2026-06-01T00:00:00Z") -> sqlite3.Connection:
    """A wallet made by marginctl itself (schema, seed), at FIXTURE_REVISION, opened for bulk writes."""
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    subprocess.run(
        [*marginctl_command(), "--now", now, "deposit", "USDT", "1", "--json"],
        env=environment(path),
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=300,
    )
    if _revision(path) != FIXTURE_REVISION:
        subprocess.run(
            [python_executable(), "-P", "-c", _DOWNGRADE, str(path), FIXTURE_REVISION], check=True, timeout=300
        )
    if _revision(path) != FIXTURE_REVISION:
        raise SchemaMoved(f"{path} did not step down to revision {FIXTURE_REVISION}")
    connection = sqlite3.connect(path, isolation_level=None)
    _check_shape(connection)
    connection.execute("PRAGMA synchronous = OFF")
    connection.execute("BEGIN IMMEDIATE")
    return connection


def head_revision() -> str:
    return subprocess.run(
        [
            python_executable(),
            "-P",
            "-c",
            "from marginctl.store.migrate import SCHEMA_REVISION; print(SCHEMA_REVISION)",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()


#: A price update that changes no price (the config's own 60,000) and crosses nothing: it gives a fixture
#: what any live wallet has had, one risk check since its last change, so what marginctl derives and keeps
#: on the first check (a wallet's trigger prices, say) is not timed as part of the figure.
WARM_UP = ["--now", "2026-06-01T00:00:00Z", "price", "set", "BTC/USDT", "60000", "--json"]


def finish(connection: sqlite3.Connection, path: Path, warm_up: bool = False) -> None:
    """Commit the bulk rows, let marginctl upgrade the wallet to its head (and, with `warm_up`, run WARM_UP),
    and fold the WAL into the file."""
    connection.execute("COMMIT")
    connection.close()
    subprocess.run(
        [*marginctl_command(), "--now", "2026-06-01T00:00:00Z", "price", "show", "--json"],
        env=environment(path),
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=900,
    )
    head = head_revision()
    if _revision(path) != head:
        raise SchemaMoved(f"{path} is at revision {_revision(path)} after marginctl ran, not its head {head}")
    if warm_up:
        subprocess.run(
            [*marginctl_command(), *WARM_UP], env=environment(path), check=True, stdout=subprocess.DEVNULL, timeout=900
        )
    _fold_wal(path)


def _fold_wal(path: Path) -> None:
    checkpoint = sqlite3.connect(path, isolation_level=None)
    checkpoint.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    checkpoint.close()


def copy_wallet(template: Path, path: Path) -> Path:
    """A fresh copy of a finished fixture (its WAL folded in by `finish`), for one timed run."""
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    shutil.copyfile(template, path)
    return path


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
    finish(connection, path)


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
    finish(connection, path, warm_up=True)
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
            timeout=300,
        )
    _fold_wal(path)


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
    finish(connection, path, warm_up=True)


def accounts_wallet(path: Path, accounts: int, at: str = HOUR0) -> None:
    """`accounts` user accounts besides main, each with 1,000 USDT in spot and a cross wallet of 1,000 USDT
    collateral owing 100 USDT (a loan whose interest clock is at `at`); main holds its 1 USDT in spot."""
    connection = new_wallet(path)
    ids = _ids(connection)
    external, pool = ids["external"], ids["lending-pool"]
    users = _accounts(connection, accounts)
    entries = []
    for user in users:
        entries.append(
            (
                user,
                "deposit",
                at,
                [
                    (external, "spot", "USDT", "free", Decimal(-2000)),
                    (user, "spot", "USDT", "free", Decimal(1000)),
                    (user, "cross", "USDT", "free", Decimal(1000)),
                ],
            )
        )
        entries.append(
            (
                user,
                "borrow",
                at,
                [
                    (user, "cross", "USDT", "free", Decimal(100)),
                    (user, "cross", "USDT", "borrowed", Decimal(-100)),
                    (pool, "spot", "USDT", "free", Decimal(-100)),
                    (pool, "spot", "USDT", "loaned", Decimal(100)),
                ],
            )
        )
    _write(connection, entries)
    connection.executemany(
        "INSERT INTO loan_accruals (account_id, wallet, asset, accrued_through) VALUES (?, 'cross', 'USDT', ?)",
        [(user, at) for user in users],
    )
    finish(connection, path)


#: `price set` on the borrowers' wallet: BTC/USDT from the config's 60,000 to this.
BORROWERS_PRICE = "50000"
#: Margin levels at 60,000, per wallet kind: (NORMAL still at 50,000, margin call at 50,000, liquidated at 50,000).
#: At 50,000 a level is 5/6 of what it was. Cross (3x): margin call at ≤ 1.3, liquidation at ≤ 1.1, so
#: 1.6–3.0 → 1.333–2.5 (NORMAL); 1.40–1.55 → 1.167–1.292 (MARGIN_CALL); 1.305–1.315 → 1.0875–1.0958
#: (FORCE_LIQUIDATION), all above 1.3 (NORMAL) at 60,000. Isolated BTC/USDT (10x): margin call at ≤ 1.08,
#: liquidation at ≤ 1.05, so 1.32–3.0 → 1.1–2.5; 1.27–1.29 → 1.058–1.075 (PRE_LIQUIDATION, a margin call);
#: 1.22–1.25 → 1.017–1.042 (FORCE_LIQUIDATION, still solvent), all above 1.08 at 60,000.
_BORROWER_LEVELS = {
    "cross": (
        (Decimal("1.6"), Decimal("3.0")),
        (Decimal("1.40"), Decimal("1.55")),
        (Decimal("1.305"), Decimal("1.315")),
    ),
    "BTC/USDT": (
        (Decimal("1.32"), Decimal("3.0")),
        (Decimal("1.27"), Decimal("1.29")),
        (Decimal("1.22"), Decimal("1.25")),
    ),
}


def _spread(low: Decimal, high: Decimal, index: int, count: int) -> Decimal:
    return low if count <= 1 else low + (high - low) * index / (count - 1)


def borrowers_wallet(
    path: Path, wallets: int = 10_000, margin_calls: int = 50, liquidations: int = 50
) -> dict[str, int]:
    """`wallets` users, each long 0.1 BTC with USDT debt at a varied margin level, every other one in cross and
    the rest in isolated BTC/USDT; at BORROWERS_PRICE exactly `margin_calls` wallets fall into a margin call
    and `liquidations` to liquidation (half of each cross, half isolated), the others stay NORMAL.

    Each long is a BTC deposit, a USDT loan with its interest clock at HOUR0, and the loan spent on BTC at
    60,000 (a swap with the exchange account). Returns what `price set` must report."""
    connection = new_wallet(path)
    ids = _ids(connection)
    external, pool, exchange = ids["external"], ids["lending-pool"], ids["exchange"]
    users = _accounts(connection, wallets)
    price = Decimal(60000)
    value = Decimal("0.1") * price  # 6,000 USDT of BTC per wallet
    kinds = ["cross", "BTC/USDT"]
    # per wallet kind: which band each of its wallets is in (0 NORMAL, 1 margin call, 2 liquidation)
    plan: dict[str, list[int]] = {}
    for position, kind in enumerate(kinds):
        count = len(users[position :: len(kinds)])
        calls = margin_calls // len(kinds) + (1 if position < margin_calls % len(kinds) else 0)
        liquidated = liquidations // len(kinds) + (1 if position < liquidations % len(kinds) else 0)
        crossing = [1] * calls + [2] * liquidated
        # the crossing wallets spread through the table rather than all at its end
        step = max(count // max(len(crossing), 1), 1)
        plan[kind] = [0] * count
        for slot, band in enumerate(crossing):
            plan[kind][slot * step] = band
    entries, accruals = [], []
    for position, kind in enumerate(kinds):
        kind_users = users[position :: len(kinds)]
        band_sizes = [plan[kind].count(band) for band in range(3)]
        seen = [0, 0, 0]
        for user, band in zip(kind_users, plan[kind], strict=True):
            low, high = _BORROWER_LEVELS[kind][band]
            level = _spread(low, high, seen[band], band_sizes[band])
            seen[band] += 1
            debt = (value / level).quantize(Decimal("0.01"))
            bought = (debt / price).quantize(Decimal("0.00000001"), rounding=ROUND_DOWN)
            own = Decimal("0.1") - bought
            entries.append(
                (user, "deposit", HOUR0, [(external, "spot", "BTC", "free", -own), (user, kind, "BTC", "free", own)])
            )
            entries.append(
                (
                    user,
                    "borrow",
                    HOUR0,
                    [
                        (user, kind, "USDT", "free", debt),
                        (user, kind, "USDT", "borrowed", -debt),
                        (pool, "spot", "USDT", "free", -debt),
                        (pool, "spot", "USDT", "loaned", debt),
                    ],
                )
            )
            spent = bought * price
            entries.append(
                (
                    user,
                    "trade",
                    HOUR0,
                    [
                        (user, kind, "USDT", "free", -spent),
                        (exchange, "spot", "USDT", "free", spent),
                        (exchange, "spot", "BTC", "free", -bought),
                        (user, kind, "BTC", "free", bought),
                    ],
                )
            )
            accruals.append((user, kind, "USDT", HOUR0))
    _write(connection, entries)
    connection.executemany(
        "INSERT INTO loan_accruals (account_id, wallet, asset, accrued_through) VALUES (?, ?, ?, ?)", accruals
    )
    finish(connection, path, warm_up=True)
    return {"marginCalls": margin_calls, "liquidations": liquidations}


def positions_wallet(path: Path) -> None:
    """Ten leveraged BTC longs made by marginctl itself: two accounts, four cross and one isolated each."""
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    env = environment(path)
    run = [*marginctl_command(), "--now", "2026-06-01T00:00:00Z"]
    steps = [["deposit", "USDT", "1"], ["accounts", "create", "bench"]]
    for index in range(10):
        account = ["--account", "main" if index < 5 else "bench"]
        wallet = ["--isolated"] if index % 5 == 4 else []
        steps += [
            [*account, "deposit", "USDT", "2000"],
            [*account, "transfer", "USDT", "2000", "--yes", *(["--to", "BTC/USDT"] if wallet else [])],
            [*account, "trade", "buy", "BTC/USDT", "0.04", "--side-effect", "auto-borrow", *wallet],
        ]
    for step in steps:
        subprocess.run([*run, *step], env=env, check=True, stdout=subprocess.DEVNULL, timeout=300)
    _fold_wal(path)


#: README's report section: May 2021's hourly BTCUSDT klines (744 candles) and the isolated 10x long they liquidate.
MAY_2021_KLINES = Path(__file__).resolve().parent.parent / "docs" / "BTCUSDT-1h-2021-05.csv"
MAY_2021_START = "2021-05-01T00:00:00Z"
MAY_2021_START_MS = 1_619_827_200_000


def may_2021_wallet(path: Path, imported: bool = True) -> None:
    """README's report example, made by marginctl itself: 1000 USDT of margin in BTC/USDT's isolated wallet and
    0.05 BTC bought at 57,697.25 with 1884.8625 USDT borrowed; with `imported`, MAY_2021_KLINES replayed through
    it (the long is liquidated on May 19 at 04:00). Without, a wallet whose clock is at the first candle's open,
    for `serve --replay`."""
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    env = environment(path)
    steps = [
        ["--now", MAY_2021_START, "deposit", "USDT", "1000"],
        ["--now", MAY_2021_START, "price", "set", "BTC/USDT", "57697.25"],
        ["--now", MAY_2021_START, "transfer", "USDT", "1000", "--to", "BTC/USDT", "--yes"],
        ["--now", MAY_2021_START, "trade", "buy", "BTC/USDT", "0.05", "--isolated", "--side-effect", "auto-borrow"],
    ]
    if imported:
        steps.append(["price", "import", str(MAY_2021_KLINES)])
    for step in steps:  # quietly: the import's liquidation is said on stderr, and it is expected
        done = subprocess.run([*marginctl_command(), *step, "--json"], env=env, capture_output=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"marginctl {' '.join(step)} exited {done.returncode}: {done.stderr[-400:]!r}")
    _fold_wal(path)


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
