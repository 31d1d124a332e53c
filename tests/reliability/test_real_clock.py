"""Writers on the real clock (issue 12, item 1; DESIGN §6): no `--now`, several OS processes at once.

On the system clock a write reads its time only once it holds the write lock, so writers that queue one
behind another never see a time earlier than the last one's: none is refused as `clock_backwards`. Each
worker is its own OS process (tests/reliability/worker.py) that runs its commands one after another, each
through the whole CLI (the wallet opened, the clock read, the write lock taken, as a fresh process does),
all released together; runs on SQLite and, with MARGINCTL_TEST_POSTGRES_URL, on PostgreSQL.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from marginctl.domain.times import parse_time
from marginctl.services import context as context_module
from tests.conftest import POSTGRES_URL, Wallet, new_wallet
from tests.reliability.support import Store, run_workers

WORKERS = 8
DEPOSITS = 25


def refusals(outcomes: list[list[dict[str, Any]]]) -> Counter[str]:
    """Every failed command's (exit code, stderr), counted."""
    return Counter(
        f"exit {outcome['code']}: {outcome['err'].strip()}"
        for results in outcomes
        for outcome in results
        if outcome["code"] != 0
    )


def spot_usdt(store: Store) -> Decimal:
    return store.balances().get(("main", "spot", "USDT", "free"), Decimal(0))


def test_eight_processes_depositing_on_the_real_clock_are_never_refused(tmp_path: Path) -> None:
    wallet = new_wallet(tmp_path / "wallet.db")
    store = Store(wallet.target)
    wallet.ok("deposit", "USDT", "1000")
    before = spot_usdt(store)

    plans = [[["deposit", "USDT", "1", "--json"]] * DEPOSITS for _ in range(WORKERS)]
    outcomes, _ = run_workers(wallet.target, tmp_path, plans)

    assert refusals(outcomes) == Counter()
    # 8 × 25 = 200 deposits of 1 USDT, each its own entry
    (deposits,) = store.rows("SELECT COUNT(*) FROM entries WHERE kind = 'deposit'")[0]
    assert deposits == 1 + WORKERS * DEPOSITS
    assert spot_usdt(store) == before + WORKERS * DEPOSITS  # 1000 + 200 = 1200
    # each deposit's time is the one read under the lock: in tranId order, times never go backwards
    times = [str(at) for (at,) in store.rows("SELECT created_at FROM entries WHERE kind = 'deposit' ORDER BY id")]
    assert times == sorted(times)
    assert wallet.ok("audit")["ok"] is True


def test_cron_accrue_a_person_and_a_bot_racing_on_the_real_clock_all_succeed(tmp_path: Path) -> None:
    """With a loan open: one process runs `accrue` (cron), three deposit and withdraw (a person), four trade
    (a bot: market buys and sells of 0.001 BTC at the config's 60000, in cross)."""
    wallet = new_wallet(tmp_path / "wallet.db")
    store = Store(wallet.target)
    for args in (
        ["deposit", "USDT", "20000"],
        ["deposit", "BTC", "1"],
        ["transfer", "USDT", "10000", "--yes"],
        ["transfer", "BTC", "0.5", "--yes"],
        ["borrow", "USDT", "500", "--yes"],
    ):
        wallet.ok(*args)

    rounds = 12
    cron = [["accrue", "--json"]] * rounds
    person = [["deposit", "USDT", "2", "--json"], ["withdraw", "USDT", "1", "--json"]] * (rounds // 2)
    bot = [["trade", "buy", "BTC/USDT", "0.001", "--json"], ["trade", "sell", "BTC/USDT", "0.001", "--json"]] * (
        rounds // 2
    )
    outcomes, _ = run_workers(wallet.target, tmp_path, [cron, person, person, person, bot, bot, bot, bot])

    assert refusals(outcomes) == Counter()
    # the person's 3 × 6 deposits of 2 and 3 × 6 withdrawals of 1: spot 20000 − 10000 + 36 − 18 = 10018
    assert spot_usdt(store) == Decimal("10018")
    # the bot's 4 × 12 orders all filled
    (filled,) = store.rows("SELECT COUNT(*) FROM orders WHERE status = 'FILLED'")[0]
    assert filled == 4 * rounds
    # the loan is still open, charged at most once an hour
    assert store.duplicated_hours() == []
    assert store.balances()[("main", "cross", "USDT", "borrowed")] == Decimal("-500")
    assert wallet.ok("audit")["ok"] is True


class _ClockAMinuteBehind(datetime):
    """This machine's clock, a minute behind the others sharing the wallet."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
        return datetime.now(tz) - timedelta(minutes=1)


@pytest.mark.skipif(POSTGRES_URL is None, reason="PostgreSQL pass: a wallet shared by several machines")
def test_on_postgresql_a_machine_whose_clock_is_behind_still_writes(
    wallet: Wallet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL a write takes the server's clock under the lock, so a second machine a minute behind the
    first is not refused as `clock_backwards`, and the times still never run backwards."""
    first = wallet.ok("deposit", "USDT", "1")
    monkeypatch.setattr(context_module, "datetime", _ClockAMinuteBehind)
    second = wallet.ok("deposit", "USDT", "1")
    assert parse_time(second["time"]) >= parse_time(first["time"])


def test_on_sqlite_a_clock_set_back_is_refused_and_says_why(wallet: Wallet, monkeypatch: pytest.MonkeyPatch) -> None:
    """A SQLite wallet is one machine's file: the system clock serves, and one set back is refused, saying why."""
    if POSTGRES_URL is not None:
        pytest.skip("SQLite pass")
    wallet.ok("deposit", "USDT", "1")
    monkeypatch.setattr(context_module, "datetime", _ClockAMinuteBehind)
    result = wallet.run("deposit", "USDT", "1", "--json")
    assert (result.code, result.error()["code"]) == (2, "clock_backwards")
    assert "the clock was set back" in result.error()["message"]
