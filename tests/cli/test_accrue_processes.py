"""`accrue` as cron runs it (issue 6, DESIGN §6), with real processes of the installed command: killed with
SIGKILL at random moments, or started twice at once, it still charges every hour exactly once.

The wallet has six accounts, each with 10000 USDT in cross and two loans taken during 2026-02-01 10:xx, so
every loan owes PERIODIC interest from the 11:00 boundary on. Hourly charges, worked out by hand from
DESIGN §4 (USDT hourly 0.00001, BTC hourly 0.000002, each charge rounded up to 8 places):

    USDT 1234.5678 → 0.012345678 → 0.01234568     BTC 0.05   → 0.0000001
    USDT 2000      → 0.02                          BTC 0.0123 → 0.0000000246 → 0.00000003
    USDT 3333.33   → 0.0333333                     BTC 0.03   → 0.00000006
    USDT 500.05    → 0.0050005                     BTC 0.01   → 0.00000002
    USDT 4000      → 0.04                          BTC 0.02   → 0.00000004
    USDT 999.99    → 0.0099999                     BTC 0.04   → 0.00000008
    per hour, all accounts: USDT 0.12067938        per hour, all accounts: BTC 0.00000033
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.conftest import Wallet
from tests.reliability.support import child_environment, marginctl_executable

#: (account, USDT borrowed, BTC borrowed)
LOANS = [
    ("main", "1234.5678", "0.05"),
    ("alice", "2000", "0.0123"),
    ("bob", "3333.33", "0.03"),
    ("carol", "500.05", "0.01"),
    ("dave", "4000", "0.02"),
    ("erin", "999.99", "0.04"),
]
USDT_PER_HOUR = Decimal("0.12067938")  # 0.01234568 + 0.02 + 0.0333333 + 0.0050005 + 0.04 + 0.0099999
BTC_PER_HOUR = Decimal("0.00000033")  # 0.0000001 + 0.00000003 + 0.00000006 + 0.00000002 + 0.00000004 + 0.00000008
FIRST_HOUR = "2026-02-01T11:00:00"
#: The loans are taken during this hour; PERIODIC charges start at the next boundary.
LOAN_HOUR = datetime(2026, 2, 1, 10, tzinfo=UTC)
#: Where the final run accrues to. A killed run's --until may lie anywhere before it.
FINAL_HOUR = datetime(2026, 3, 10, 10, tzinfo=UTC)


def environment(tmp_path: Path, database: Path) -> dict[str, str]:
    return child_environment(tmp_path, str(database))


def start_accrue(env: dict[str, str], until: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [marginctl_executable(), "--now", until, "accrue", "--until", until, "--json"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def run_marginctl(env: dict[str, str], *args: str) -> Any:
    process = subprocess.run(
        [marginctl_executable(), *args, "--json"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert process.returncode == 0, (args, process.returncode, process.stderr)
    return json.loads(process.stdout)


def open_loans(wallet: Wallet) -> None:
    """Six accounts, each: 10000 USDT into cross, then a USDT and a BTC loan, all within 2026-02-01 10:xx."""
    for name, _, _ in LOANS[1:]:
        wallet.ok("accounts", "create", name, now="2026-02-01T10:00:00Z")
    for minute, (name, usdt, btc) in enumerate(LOANS, start=1):
        wallet.ok("deposit", "USDT", "10000", now=f"2026-02-01T10:{minute:02d}:00Z", account=name)
        wallet.ok("transfer", "USDT", "10000", "--yes", now=f"2026-02-01T10:{minute:02d}:10Z", account=name)
        wallet.ok("borrow", "USDT", usdt, "--yes", now=f"2026-02-01T10:{minute:02d}:20Z", account=name)
        wallet.ok("borrow", "BTC", btc, "--yes", now=f"2026-02-01T10:{minute:02d}:30Z", account=name)


def periodic_charges(database: Path) -> list[tuple[Any, ...]]:
    """Every PERIODIC charge as (account, wallet, asset, hour, principal, daily rate, interest), in order: a
    stored run of `hours` hours from periodic_hour is that many hourly charges."""
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT a.name, c.wallet, c.asset, c.periodic_hour, c.hours, c.principal, c.daily_rate, c.interest "
            "FROM interest_charges c JOIN accounts a ON a.id = c.account_id WHERE c.type = 'PERIODIC'"
        ).fetchall()
    charges = [
        (name, wallet, asset, hour_after(first, index), principal, rate, interest)
        for name, wallet, asset, first, hours, principal, rate, interest in rows
        for index in range(hours)
    ]
    return sorted(charges, key=lambda row: row[:4])


def hour_after(stored: str, hours: int) -> str:
    moment = datetime.fromisoformat(stored.replace("Z", "+00:00")) + timedelta(hours=hours)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def duplicated_hours(database: Path) -> list[tuple[Any, ...]]:
    counts = Counter(row[:4] for row in periodic_charges(database))
    return [(*key, count) for key, count in counts.items() if count > 1]


def hours_per_loan(database: Path) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {(name, asset): 0 for name, _, _ in LOANS for asset in ("USDT", "BTC")}
    for name, _, asset, *_ in periodic_charges(database):
        counts[(name, asset)] += 1
    return counts


def balances(database: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT a.name, b.wallet, b.asset, b.bucket, b.amount FROM balances b "
            "JOIN accounts a ON a.id = b.account_id ORDER BY a.name, b.wallet, b.asset, b.bucket"
        ).fetchall()
    return [(name, wallet, asset, bucket, Decimal(amount)) for name, wallet, asset, bucket, amount in rows]


def hour_text(row: tuple[Any, ...]) -> str:
    """The stored hour of a charge as "YYYY-MM-DDTHH:MM:SS"."""
    return str(row[3])[:19]


def committed_through(database: Path) -> datetime:
    """The last hour charged (every loan owes every hour, so it is the last committed `--until`)."""
    with sqlite3.connect(database) as connection:
        (last,) = connection.execute(
            "SELECT MAX(last_at) FROM interest_charges WHERE periodic_hour IS NOT NULL"
        ).fetchone()
    return LOAN_HOUR if last is None else datetime.fromisoformat(str(last).replace("Z", "+00:00"))


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_accrue_killed_at_random_moments_then_rerun_charges_every_hour_exactly_once(
    wallet: Wallet, tmp_path: Path
) -> None:
    open_loans(wallet)
    env = environment(tmp_path, wallet.path)
    rng = random.Random(6)
    kills = finished = attempt = 0
    while kills < 20:
        attempt += 1
        assert attempt <= 60, f"only {kills} of 60 runs were still running when killed"
        base = committed_through(wallet.path)
        # mostly a long catch-up (20+ days × 12 loans, ~0.6 s of work: killed mid-run), sometimes a short one
        # that may finish first, so later runs start from varied states; never past FINAL_HOUR
        step = rng.randint(1, 6) if rng.random() < 0.35 else rng.randint(480, 560)
        until = iso(min(base + timedelta(hours=step), FINAL_HOUR - timedelta(hours=1)))
        process = start_accrue(env, until)
        time.sleep(rng.uniform(0, 0.12))  # a run takes about 0.15-0.3 s: most kills land mid-run
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        _, stderr = process.communicate(timeout=60)
        if process.returncode == -signal.SIGKILL:
            kills += 1
        else:
            assert process.returncode == 0, (until, process.returncode, stderr)
            finished += 1
        # whatever the moment of the kill, every loan is charged every hour up to the last committed run,
        # once, and none beyond it: no hour half charged, skipped or doubled
        assert duplicated_hours(wallet.path) == []
        done = (committed_through(wallet.path) - LOAN_HOUR) // timedelta(hours=1)
        assert set(hours_per_loan(wallet.path).values()) == {done}, (attempt, until, hours_per_loan(wallet.path))

    final = iso(FINAL_HOUR)
    summary = run_marginctl(env, "--now", final, "accrue", "--until", final)
    assert summary["marginCalls"] == [] and summary["liquidations"] == []
    assert run_marginctl(env, "--now", final, "accrue", "--until", final)["charges"] == 0

    # 2026-02-01 11:00 … 2026-03-10 10:00: (28 − 1 + 10) days × 24 = 37 × 24 = 888 boundaries
    hours = 888
    assert duplicated_hours(wallet.path) == []
    assert hours_per_loan(wallet.path) == {(name, asset): hours for name, _, _ in LOANS for asset in ("USDT", "BTC")}
    charges = periodic_charges(wallet.path)
    assert min(hour_text(row) for row in charges) == FIRST_HOUR
    assert max(hour_text(row) for row in charges) == "2026-03-10T10:00:00"
    principals = {(name, "USDT"): Decimal(usdt) for name, usdt, _ in LOANS} | {
        (name, "BTC"): Decimal(btc) for name, _, btc in LOANS
    }
    assert all(Decimal(row[4]) == principals[(row[0], row[2])] for row in charges)
    totals = {
        asset: sum((Decimal(row[6]) for row in charges if row[2] == asset), Decimal(0)) for asset in ("USDT", "BTC")
    }
    # 888 × 0.12067938 = 107.16328944 USDT; 888 × 0.00000033 = 0.00029304 BTC
    assert totals == {"USDT": Decimal("107.16328944"), "BTC": Decimal("0.00029304")}
    assert run_marginctl(env, "--now", final, "audit")["ok"] is True
    assert kills >= 20, (kills, finished)


def test_two_accrue_processes_at_once_give_the_same_result_as_one(
    make_wallet: Callable[[str], Wallet], tmp_path: Path
) -> None:
    control, raced = make_wallet("control"), make_wallet("raced")
    open_loans(control)
    open_loans(raced)
    control_env, raced_env = environment(tmp_path, control.path), environment(tmp_path, raced.path)
    for round_number, until in enumerate(
        ("2026-02-04T10:00:00Z", "2026-02-07T10:30:00Z", "2026-02-10T10:59:00Z"), start=1
    ):
        alone = run_marginctl(control_env, "--now", until, "accrue", "--until", until)
        # each round is 3 days later: 72 boundaries (the first round: 02-01 11:00 … 02-04 10:00) × 12 loans
        assert (alone["hoursProcessed"], alone["charges"]) == (72, 72 * 12), round_number
        # 72 × 0.12067938 = 8.68891536 USDT; 72 × 0.00000033 = 0.00002376 BTC
        assert alone["interest"] == {"BTC": "0.00002376", "USDT": "8.68891536"}

        first, second = start_accrue(raced_env, until), start_accrue(raced_env, until)
        outputs = [process.communicate(timeout=60) for process in (first, second)]
        for process, (_, stderr) in zip((first, second), outputs, strict=True):
            assert process.returncode == 0, (round_number, stderr)
        documents = [json.loads(stdout) for stdout, _ in outputs]
        # one of them charged everything, the other found nothing left to charge
        assert sorted(document["charges"] for document in documents) == [0, alone["charges"]]
        busy = next(document for document in documents if document["charges"])
        assert busy["interest"] == alone["interest"]
        assert periodic_charges(raced.path) == periodic_charges(control.path)
        assert duplicated_hours(raced.path) == []

    assert balances(raced.path) == balances(control.path)
    # 3 rounds × 72 hours = 216 hours charged for every loan
    assert set(hours_per_loan(raced.path).values()) == {216}
    assert run_marginctl(raced_env, "--now", "2026-02-10T11:00:00Z", "audit")["ok"] is True
