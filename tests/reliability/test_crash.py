"""kill -9 at random moments (issue 7, item 3; DESIGN §3, §6): real processes of the installed `marginctl`,
killed with SIGKILL while they write. After every kill the wallet opens, `audit` is clean, and the killed
command either fully happened or not at all; after a final `accrue` every interest hour is charged once.

On SQLite: ≥ 50 kills, during deposit, transfer, borrow and market trades (each one's transaction starts with
the catch-up of its account's loans, hundreds of hours long, so many kills land inside it) and during
`accrue` with long catch-ups (hundreds of hours × 9 loans). On PostgreSQL: ≥ 10 kills during `accrue`, and
some during writes.

Three accounts, each with three loans opened 2026-02-01 10:xx: cross 20000 USDT, cross 1 BTC and BTC/USDT
isolated 5000 USDT. Every command has a unique --client-id and a --now later than any before it, so whether
it committed is known from the `requests` table alone. The test keeps its own copy of every balance, loan
clock and interest count, and after each attempt demands either the state before it, unchanged, or that
state with the command applied exactly: its own amounts, and each loan of the account (for `accrue`: of
every account) charged every hour it passed at the principal it had, principal × daily rate / 24 rounded up.
"""

from __future__ import annotations

import json
import os
import random
import signal
import statistics
import subprocess
import time
from collections import Counter
from copy import deepcopy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.conftest import POSTGRES_URL, Wallet, new_wallet
from tests.reliability.support import (
    ZERO,
    Store,
    child_environment,
    hourly_interest,
    marginctl_executable,
    market_fill,
    plain,
)

PAIR = "BTC/USDT"
ACCOUNTS = ["main", "alice", "bob"]
#: (wallet, asset, principal) of each account's loans, opened during 2026-02-01 10:xx.
SETUP_LOANS = [("cross", "USDT", "20000"), ("cross", "BTC", "1"), (PAIR, "USDT", "5000")]
FIRST_HOUR = datetime(2026, 2, 1, 11, tzinfo=UTC)
ONE_HOUR = timedelta(hours=1)
POOL = "lending-pool"
#: Kills required, by engine: (during writes, during accrue).
KILLS = {"sqlite": (50, 25), "postgresql": (10, 15)}
#: A guard against a loop that never reaches its targets (~30 s on a 2-core machine), not a speed limit.
TIME_LIMIT = 300.0

Key = tuple[str, str, str, str]
Loan = tuple[str, str, str]


def parse_stored(text: Any) -> datetime:
    return datetime.fromisoformat(str(text).replace("Z", "+00:00"))


def floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class State:
    """Everything a command may change, read straight from the wallet."""

    balances: dict[Key, Decimal]
    requests: dict[tuple[str, str], tuple[str, Any]]
    accrued: dict[Loan, datetime]
    periodic: dict[Loan, int]
    on_borrow: int
    clock: str | None

    @classmethod
    def read(cls, store: Store) -> State:
        accrued = {
            (str(name), str(wallet), str(asset)): parse_stored(through)
            for name, wallet, asset, through in store.rows(
                "SELECT a.name, l.wallet, l.asset, l.accrued_through FROM loan_accruals l "
                "JOIN accounts a ON a.id = l.account_id"
            )
        }
        periodic = {
            (str(name), str(wallet), str(asset)): int(count)
            for name, wallet, asset, count in store.rows(
                "SELECT a.name, c.wallet, c.asset, SUM(c.hours) FROM interest_charges c "
                "JOIN accounts a ON a.id = c.account_id WHERE c.type = 'PERIODIC' GROUP BY a.name, c.wallet, c.asset"
            )
        }
        (on_borrow,) = store.rows("SELECT COUNT(*) FROM interest_charges WHERE type = 'ON_BORROW'")[0]
        clock = store.rows("SELECT value FROM meta WHERE key = 'last_event_at'")
        requests = {key: (command, json.loads(result)) for key, (command, result) in store.requests().items()}
        return cls(store.balances(), requests, accrued, periodic, int(on_borrow), str(clock[0][0]) if clock else None)

    def add(self, key: Key, amount: Decimal) -> None:
        total = self.balances.get(key, ZERO) + amount
        if total:
            self.balances[key] = total
        else:
            self.balances.pop(key, None)

    def charge_hours(self, loans: list[Loan], through: datetime) -> int:
        """Each loan charged every boundary in (its accrued_through, through] on its principal now."""
        charges = 0
        for loan in loans:
            last = self.accrued[loan]
            if last >= through:
                continue
            hours = (through - last) // ONE_HOUR
            account, wallet, asset = loan
            principal = -self.balances.get((account, wallet, asset, "borrowed"), ZERO)
            if principal > 0:
                interest = hours * hourly_interest(principal, asset)
                self.add((account, wallet, asset, "interest"), -interest)
                self.add((POOL, "spot", asset, "interest_receivable"), interest)
                self.periodic[loan] = self.periodic.get(loan, 0) + hours
                charges += hours
            self.accrued[loan] = through
        return charges

    def lend(self, account: str, wallet: str, asset: str, amount: Decimal) -> None:
        interest = hourly_interest(amount, asset)
        self.add((account, wallet, asset, "free"), amount)
        self.add((account, wallet, asset, "borrowed"), -amount)
        self.add((POOL, "spot", asset, "free"), -amount)
        self.add((POOL, "spot", asset, "loaned"), amount)
        self.add((account, wallet, asset, "interest"), -interest)
        self.add((POOL, "spot", asset, "interest_receivable"), interest)
        self.on_borrow += 1


@dataclass
class Attempt:
    kind: str
    account: str
    client_id: str
    now: datetime
    args: list[str]

    @property
    def is_accrue(self) -> bool:
        return self.kind == "accrue"


def applied(before: State, attempt: Attempt, result: dict[str, Any], command: str) -> State:
    """`before` with the attempt applied exactly once, computed by the test."""
    state = deepcopy(before)
    hour = floor_hour(attempt.now)
    account = attempt.account
    assert command == ("trade" if attempt.kind == "trade" else attempt.kind), (attempt, command)
    if attempt.is_accrue:
        charges = state.charge_hours(sorted(state.accrued), hour)
        assert result["charges"] == charges, (attempt, result, charges)
        assert result["marginCalls"] == [] and result["liquidations"] == [], result
    else:
        # the account's loans are charged the hours they passed before anything changes them
        state.charge_hours(sorted(loan for loan in state.accrued if loan[0] == account), hour)
    args = attempt.args
    if attempt.kind == "deposit":
        asset, amount = args[1], Decimal(args[2])
        state.add((account, "spot", asset, "free"), amount)
        state.add(("external", "spot", asset, "free"), -amount)
    elif attempt.kind == "transfer":
        asset, amount = args[1], Decimal(args[2])
        source, target = args[args.index("--from") + 1], args[args.index("--to") + 1]
        state.add((account, source, asset, "free"), -amount)
        state.add((account, target, asset, "free"), amount)
    elif attempt.kind == "borrow":
        asset, amount = args[1], Decimal(args[2])
        wallet = args[args.index("--isolated") + 1] if "--isolated" in args else "cross"
        assert Decimal(result["amount"]) == amount and result["wallet"] == wallet, result
        state.lend(account, wallet, asset, amount)
    elif attempt.kind == "trade":
        side, quantity = args[1].upper(), Decimal(args[3])
        (fill,) = result["fills"]
        assert Decimal(fill["qty"]) == quantity and result["status"] == "FILLED", result
        moved = market_fill(side, quantity, Decimal(fill["price"]))
        paid, received = ("USDT", "BTC") if side == "BUY" else ("BTC", "USDT")
        state.add((account, "cross", paid, "free"), -moved["paid"])
        state.add((account, "cross", received, "free"), moved["received"])
        state.add(("exchange", "spot", paid, "free"), moved["paid"])
        state.add(("exchange", "spot", received, "free"), -(moved["received"] + moved["fee"]))
        state.add(("fees", "spot", received, "free"), moved["fee"])
    state.requests[(account, attempt.client_id)] = (command, result)
    state.clock = attempt.now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return state


def some(rng: random.Random, asset: str, top: int) -> str:
    """A random amount: up to top / 10^6 USDT or top / 10^8 BTC."""
    return plain(Decimal(rng.randint(1, top)).scaleb(-6 if asset == "USDT" else -8).normalize())


def next_attempt(rng: random.Random, number: int, clock: datetime, kind: str) -> Attempt:
    """A command at a later --now: a long catch-up for accrue (200-500 hours of 9 loans), a shorter one
    inside a write (12-240 hours of its account's 3 loans). Never on the hour, so a borrow is never at hh:00."""
    hours = rng.randint(200, 500) if kind == "accrue" else rng.randint(12, 240)
    now = floor_hour(clock) + timedelta(hours=hours, minutes=rng.randint(1, 59), seconds=rng.randint(0, 59))
    account = "main" if kind == "accrue" else rng.choice(ACCOUNTS)
    asset = rng.choice(["USDT", "BTC"])
    if kind == "accrue":
        args = ["accrue", "--until", iso(now)]
    elif kind == "deposit":
        args = ["deposit", asset, some(rng, asset, 10**9)]
    elif kind == "transfer":
        source, target = rng.choice([("spot", "cross"), ("cross", "spot"), ("spot", PAIR), (PAIR, "spot")])
        args = ["transfer", asset, some(rng, asset, 10**8), "--from", source, "--to", target, "--yes"]
    elif kind == "borrow":
        wallet, asset, _ = rng.choice(SETUP_LOANS)
        args = ["borrow", asset, some(rng, asset, 10**8), *(["--isolated", wallet] if wallet == PAIR else []), "--yes"]
    else:
        quantity = plain(Decimal(rng.randint(100, 1000)).scaleb(-5).normalize())
        args = ["trade", rng.choice(["buy", "sell"]), PAIR, quantity]
    client_id = f"crash-{number}"
    return Attempt(kind, account, client_id, now, [*args, "--client-id", client_id, "--json"])


def setup_wallet(wallet: Wallet) -> None:
    for minute, account in enumerate(ACCOUNTS):
        if account != "main":
            wallet.ok("accounts", "create", account, now=f"2026-02-01T10:0{minute}:00Z")
    for minute, account in enumerate(ACCOUNTS, start=10):
        moves = [
            ["deposit", "USDT", "1000000"],
            ["deposit", "BTC", "50"],
            ["transfer", "USDT", "400000", "--yes"],
            ["transfer", "BTC", "20", "--yes"],
            ["transfer", "USDT", "50000", "--to", PAIR, "--yes"],
        ]
        moves += [
            ["borrow", asset, principal, *(["--isolated", PAIR] if loan_wallet == PAIR else []), "--yes"]
            for loan_wallet, asset, principal in SETUP_LOANS
        ]
        for second, args in enumerate(moves, start=1):
            wallet.ok(*args, now=f"2026-02-01T10:{minute}:{second * 5:02d}Z", account=account)


def test_kill_9_at_random_moments_leaves_every_command_whole_and_every_hour_charged_once(tmp_path: Path) -> None:
    wallet = new_wallet(tmp_path / "wallet.db")
    engine = "postgresql" if POSTGRES_URL else "sqlite"
    write_target, accrue_target = KILLS[engine]
    store = Store(wallet.target)
    setup_wallet(wallet)
    env = child_environment(tmp_path, wallet.target)
    executable = marginctl_executable()
    rng = random.Random(1707)

    # borrows that committed, as (loan, time, amount): the principal of every hour is rebuilt from them
    lent: list[tuple[Loan, datetime, Decimal]] = [
        ((account, loan_wallet, asset), datetime(2026, 2, 1, 10, minute, tzinfo=UTC), Decimal(principal))
        for minute, account in enumerate(ACCOUNTS, start=10)
        for loan_wallet, asset, principal in SETUP_LOANS
    ]
    durations: dict[str, list[float]] = {"write": [], "accrue": []}
    kills: Counter[str] = Counter()
    inside_kills: Counter[str] = Counter()
    kills_by_command: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    clock = datetime(2026, 2, 1, 10, 59, tzinfo=UTC)
    started = time.monotonic()
    number = 0
    while kills["write"] < write_target or kills["accrue"] < accrue_target:
        assert time.monotonic() - started < TIME_LIMIT, f"only {dict(kills)} kills in {TIME_LIMIT} s"
        number += 1
        group = "accrue" if kills["accrue"] < accrue_target and rng.random() < 0.45 else "write"
        if kills["write"] >= write_target:
            group = "accrue"
        kind = "accrue" if group == "accrue" else rng.choice(["deposit", "transfer", "borrow", "trade"])
        attempt = next_attempt(rng, number, clock, kind)
        clock = attempt.now
        before = State.read(store)
        # a random transfer may ask more than its source holds (BTC out of the isolated wallet, which holds
        # none until a transfer puts some there): the wallet must refuse it, exit 3, and change nothing
        refused = attempt.kind == "transfer" and before.balances.get(
            (attempt.account, attempt.args[attempt.args.index("--from") + 1], attempt.args[1], "free"), ZERO
        ) < Decimal(attempt.args[2])

        process = subprocess.Popen(
            [executable, "--account", attempt.account, "--now", iso(attempt.now), *attempt.args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        launched = time.monotonic()
        # the first run of each group is timed whole; later ones are killed somewhere between a third of the
        # way (still starting up) and the end of a typical run (inside its transaction, or just committed)
        inside = False
        if durations[group]:
            delay = rng.uniform(0.35, 1.05) * statistics.median(durations[group][-9:])
            while process.poll() is None and time.monotonic() - launched < delay:
                time.sleep(0.002)
            if process.poll() is None:
                inside = bool(store.writing(process.pid))
                os.kill(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate(timeout=120)
        killed = process.returncode == -signal.SIGKILL
        if killed:
            kills[group] += 1
            kills_by_command[kind] += 1
            # seen holding the write lock a moment before the signal: the kill most likely hit the transaction
            inside_kills[group] += inside
        else:
            durations[group].append(time.monotonic() - launched)
            if refused:
                assert process.returncode == 3, (attempt.args, process.returncode, stdout, stderr)
                assert json.loads(stderr)["error"]["code"] == "insufficient_balance", stderr
            else:
                assert process.returncode == 0, (attempt.args, process.returncode, stderr)
                assert json.loads(stdout), attempt.args
        assert "database is locked" not in stderr and "Traceback" not in stderr, stderr

        # the wallet opens and is consistent, whatever the moment of the kill
        store.wait_until_idle()
        audit = wallet.run("audit", "--json", now=iso(attempt.now))
        assert audit.code == 0 and audit.json()["ok"] is True, (attempt.args, audit.code, audit.out, audit.err)

        # all or nothing: the state before, unchanged, or exactly that state with the command applied once
        after = State.read(store)
        stored = after.requests.get((attempt.account, attempt.client_id))
        if stored is None:
            assert after == before, f"{attempt.args}: killed={killed}, not recorded, yet the wallet changed"
            if killed:
                outcomes["killed, nothing happened"] += 1
            else:
                outcomes["refused, nothing happened" if refused else "finished but not recorded"] += 1
        else:
            assert not refused, f"{attempt.args}: asked more than the wallet holds, yet it was recorded"
            command, result = stored
            expected = applied(before, attempt, result, command)
            assert after == expected, f"{attempt.args}: killed={killed}, recorded, but not applied exactly once"
            outcomes["killed after it committed" if killed else "finished"] += 1
            if attempt.kind == "borrow":
                wallet_name = (
                    attempt.args[attempt.args.index("--isolated") + 1] if "--isolated" in attempt.args else "cross"
                )
                lent.append(((attempt.account, wallet_name, attempt.args[1]), attempt.now, Decimal(attempt.args[2])))
            if not killed:
                assert json.loads(stdout) == result, attempt.args
    assert outcomes["finished but not recorded"] == 0, outcomes

    # A final run charges what is left; then every loan owes every hour from 11:00 on its opening day to
    # the final one, once, on the principal it had at that hour (the committed borrows before it).
    final = floor_hour(clock) + timedelta(hours=3)
    summary = wallet.ok("accrue", "--until", iso(final), now=iso(final))
    assert summary["marginCalls"] == [] and summary["liquidations"] == []
    assert wallet.ok("accrue", "--until", iso(final), now=iso(final))["charges"] == 0
    assert store.duplicated_hours() == []
    hours_expected = (final - FIRST_HOUR) // ONE_HOUR + 1
    charges: dict[Loan, dict[str, tuple[Decimal, Decimal]]] = {}
    for account, loan_wallet, asset, hour, principal, interest in store.periodic_charges():
        charges.setdefault((account, loan_wallet, asset), {})[hour] = (principal, interest)
    assert sorted(charges) == sorted({loan for loan, _, _ in lent})
    for loan, by_hour in charges.items():
        assert len(by_hour) == hours_expected, (loan, len(by_hour), hours_expected)
        borrows = sorted((moment, amount) for owner, moment, amount in lent if owner == loan)
        hour, principal, index = FIRST_HOUR, ZERO, 0
        while hour <= final:
            while index < len(borrows) and borrows[index][0] < hour:
                principal += borrows[index][1]
                index += 1
            expected = (principal, hourly_interest(principal, loan[2]))
            assert by_hour.get(hour.strftime("%Y-%m-%dT%H")) == expected, (loan, hour)
            hour += ONE_HOUR
    assert wallet.ok("audit", now=iso(final))["ok"] is True

    print(
        f"\n[crash/{engine}] {number} attempts in {time.monotonic() - started:.1f} s: kills {dict(kills)} "
        f"({sum(kills.values())} survived: {dict(kills_by_command)}; {dict(inside_kills)} with the write lock held), "
        f"outcomes {dict(outcomes)}; {len(charges)} loans × {hours_expected} hours charged exactly once"
    )
