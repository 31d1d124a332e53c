"""What the reliability tests share: the installed command, a child's environment, the wallet read directly,
and the money rules recomputed by hand (DESIGN §2, §4, §5) so no figure is taken from marginctl's own code.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

#: The default config's daily rates (DESIGN §9): USDT 0.00024 (hourly 0.00001), BTC 0.000048.
DAILY_RATE = {"USDT": Decimal("0.00024"), "BTC": Decimal("0.000048")}
#: Taker fee of a market order (DESIGN §5).
TAKER_FEE = Decimal("0.001")
PLACES = Decimal("0.00000001")
ZERO = Decimal(0)


def marginctl_executable() -> str:
    executable = Path(sys.executable).parent / "marginctl"
    if not executable.exists():
        pytest.skip("the marginctl console script is not installed beside this Python")
    return str(executable)


def child_environment(tmp_path: Path, target: str) -> dict[str, str]:
    """The caller's environment without MARGINCTL_* settings, private XDG folders, the wallet in MARGINCTL_DB."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("MARGINCTL_")}
    env.update(
        XDG_CONFIG_HOME=str(tmp_path / "xdg-config"),
        XDG_DATA_HOME=str(tmp_path / "xdg-data"),
        XDG_CACHE_HOME=str(tmp_path / "xdg-cache"),
        MARGINCTL_DB=target,
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    )
    return env


#: What a command answered from an earlier run with the same client id prints on stderr (issue 12, item 11).
REPLAY_NOTE = "note: client id {!r} was already used; this is the first run's result, nothing changed\n"


def run_workers(target: str, tmp_path: Path, plans: list[list[list[str]]]) -> tuple[list[list[dict[str, Any]]], float]:
    """One OS process per plan (tests/reliability/worker.py), each running its commands one after another
    against the wallet `target`; all warm up first and are released together. Their outcomes and the wall time.
    """
    env = child_environment(tmp_path, target)
    go = tmp_path / "go"
    processes = []
    for number, plan in enumerate(plans):
        plan_file = tmp_path / f"plan-{number}.json"
        plan_file.write_text(json.dumps([{"args": args} for args in plan]), encoding="utf-8")
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.reliability.worker",
                    str(plan_file),
                    str(tmp_path / f"results-{number}.json"),
                    str(tmp_path / f"ready-{number}"),
                    str(go),
                ],
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"ready-{number}").exists() for number in range(len(plans))):
        dead = [process for process in processes if process.poll() is not None]
        assert not dead, [process.communicate() for process in dead]
        assert time.monotonic() < deadline, "the workers did not warm up within 120 s"
        time.sleep(0.01)
    started = time.monotonic()
    go.touch()
    for process in processes:
        stdout, stderr = process.communicate(timeout=900)
        assert process.returncode == 0, (process.returncode, stdout, stderr)
    elapsed = time.monotonic() - started
    outcomes = []
    for number in range(len(plans)):
        document = json.loads((tmp_path / f"results-{number}.json").read_text(encoding="utf-8"))
        outcomes.append(document["results"])
    return outcomes, elapsed


def plain(amount: Decimal) -> str:
    """An amount as a user types it: plain notation, never 1E-8."""
    return format(amount, "f")


def hourly_interest(principal: Decimal, asset: str) -> Decimal:
    """One hour of interest: principal × daily rate / 24, rounded up to 8 places."""
    return (principal * DAILY_RATE[asset] / 24).quantize(PLACES, rounding=ROUND_UP)


def market_fill(side: str, quantity: Decimal, price: Decimal) -> dict[str, Decimal]:
    """What a market order moves (DESIGN §2, §5): the user pays rounded up, receives rounded down, the fee
    (0.1 %, in the asset received) rounded up. Keys: paid, received (net of fee), fee, quote (the notional)."""
    notional = quantity * price
    if side == "BUY":
        paid = notional.quantize(PLACES, rounding=ROUND_UP)
        fee = (quantity * TAKER_FEE).quantize(PLACES, rounding=ROUND_UP)
        return {"paid": paid, "received": quantity - fee, "fee": fee, "quote": paid}
    gross = notional.quantize(PLACES, rounding=ROUND_DOWN)
    fee = (gross * TAKER_FEE).quantize(PLACES, rounding=ROUND_UP)
    return {"paid": quantity, "received": gross - fee, "fee": fee, "quote": gross}


class Store:
    """The wallet read directly (sqlite3 or psycopg), never through marginctl: the tests' independent view."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.postgres = target.startswith("postgresql")

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        params = dict(params or {})
        if self.postgres:
            import psycopg

            url = re.sub(r"^postgresql\+psycopg://", "postgresql://", self.target)
            with psycopg.connect(url, autocommit=True) as connection:
                return [tuple(row) for row in connection.execute(re.sub(r":(\w+)", r"%(\1)s", sql), params)]
        connection = sqlite3.connect(f"file:{self.target}?mode=ro", uri=True, timeout=30)
        try:
            return [tuple(row) for row in connection.execute(sql, params).fetchall()]
        finally:
            connection.close()

    def wait_until_idle(self, timeout: float = 30.0) -> None:
        """PostgreSQL: wait until no other session is connected to the wallet, so a killed client's
        transaction has been rolled back (or committed) by the server before anything is checked."""
        if not self.postgres:
            return
        deadline = time.monotonic() + timeout
        while True:
            (others,) = self.rows(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )[0]
            if others == 0:
                return
            assert time.monotonic() < deadline, f"{others} session(s) still open on the wallet after {timeout} s"
            time.sleep(0.02)

    def writing(self, pid: int) -> bool | None:
        """Whether a write transaction is open right now (None: cannot tell). SQLite: process `pid` holds the
        WAL write lock (byte 120 of the -shm file, seen in /proc/locks); PostgreSQL: the writer's advisory lock
        is held on this wallet."""
        if self.postgres:
            (held,) = self.rows(
                "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )[0]
            return bool(held)
        try:
            inode = os.stat(f"{self.target}-shm").st_ino
            lines = Path("/proc/locks").read_text(encoding="ascii").splitlines()
        except OSError:
            return None
        for line in lines:
            fields = line.split()
            if "POSIX" in fields and "WRITE" in fields and str(pid) in fields:
                where = fields[fields.index(str(pid)) + 1 :]
                if where[0].endswith(f":{inode}") and where[1] == "120":
                    return True
        return False

    def balances(self) -> dict[tuple[str, str, str, str], Decimal]:
        """Every stored balance as (account, wallet, asset, bucket) → signed amount, zeros left out."""
        rows = self.rows(
            "SELECT a.name, b.wallet, b.asset, b.bucket, b.amount FROM balances b "
            "JOIN accounts a ON a.id = b.account_id"
        )
        result = {}
        for name, wallet, asset, bucket, amount in rows:
            value = Decimal(str(amount))
            if value != 0:
                result[(str(name), str(wallet), str(asset), str(bucket))] = value
        return result

    def requests(self) -> dict[tuple[str, str], tuple[str, str]]:
        """(account, client id) → (command, stored result JSON)."""
        rows = self.rows(
            "SELECT a.name, r.client_id, r.command, r.result FROM requests r JOIN accounts a ON a.id = r.account_id"
        )
        found: dict[tuple[str, str], tuple[str, str]] = {}
        for name, client_id, command, result in rows:
            key = (str(name), str(client_id))
            assert key not in found, f"client id {key} recorded twice"
            found[key] = (str(command), str(result))
        return found

    def duplicated_hours(self) -> list[tuple[Any, ...]]:
        counts = Counter(
            (account_id, wallet, asset, hour)
            for account_id, wallet, asset, hour, *_ in self._periodic_hours("c.account_id")
        )
        return [(*key, count) for key, count in counts.items() if count > 1]

    def _periodic_hours(self, who: str) -> list[tuple[Any, ...]]:
        """One (who, wallet, asset, stored hour, principal, interest) per PERIODIC hour: a stored run of
        `hours` hours from periodic_hour is that many hourly charges."""
        rows = self.rows(
            f"SELECT {who}, c.wallet, c.asset, c.periodic_hour, c.hours, c.principal, c.interest "
            "FROM interest_charges c JOIN accounts a ON a.id = c.account_id WHERE c.type = 'PERIODIC'"
        )
        return [
            (who_value, wallet, asset, _hour_after(str(first), index), principal, interest)
            for who_value, wallet, asset, first, hours, principal, interest in rows
            for index in range(int(hours))
        ]

    def periodic_charges(self) -> list[tuple[str, str, str, str, Decimal, Decimal]]:
        """Every PERIODIC charge as (account, wallet, asset, hour "YYYY-MM-DDTHH", principal, interest)."""
        rows = self._periodic_hours("a.name")
        return [
            (str(name), str(wallet), str(asset), str(hour)[:13], Decimal(str(principal)), Decimal(str(interest)))
            for name, wallet, asset, hour, principal, interest in rows
        ]


def _hour_after(stored: str, hours: int) -> str:
    """A stored hour ("2026-01-05T10:00:00.000000Z") moved on by `hours`, in the same form."""
    moment = datetime.fromisoformat(stored.replace("Z", "+00:00")) + timedelta(hours=hours)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
