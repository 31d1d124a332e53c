"""Property: any sequence of deposit/withdraw/transfer keeps the ledger exact.

After every sequence: each command did what a simple model of free balances predicts (applied, or refused
with insufficient_balance, or refused as a usage error), no free balance is negative, `audit` is clean,
and summed over every ledger account (users and system accounts alike) each asset totals zero.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import new_wallet

ACCOUNTS = ("main", "bob")
WALLETS = ("spot", "cross", "BTC/USDT")
ASSETS = ("BTC", "USDT")
START = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
EIGHT_PLACES = Decimal("0.00000001")


@dataclass(frozen=True)
class Command:
    kind: str  # deposit, withdraw or transfer
    account: str
    asset: str
    amount: Decimal | None  # None: `max` (transfers only)
    source: str = "spot"
    target: str = "spot"

    def arguments(self) -> list[str]:
        amount = "max" if self.amount is None else format(self.amount, "f")
        if self.kind == "transfer":
            return ["transfer", self.asset, amount, "--from", self.source, "--to", self.target, "--yes"]
        return [self.kind, self.asset, amount]


amounts = st.decimals(
    min_value=EIGHT_PLACES, max_value=Decimal("5000"), places=8, allow_nan=False, allow_infinity=False
)

deposits = st.builds(
    Command, kind=st.just("deposit"), account=st.sampled_from(ACCOUNTS), asset=st.sampled_from(ASSETS), amount=amounts
)
withdrawals = st.builds(
    Command,
    kind=st.just("withdraw"),
    account=st.sampled_from(ACCOUNTS),
    asset=st.sampled_from(ASSETS),
    amount=amounts,
)
transfers = st.builds(
    Command,
    kind=st.just("transfer"),
    account=st.sampled_from(ACCOUNTS),
    asset=st.sampled_from(ASSETS),
    amount=st.one_of(amounts, st.none()),
    source=st.sampled_from(WALLETS),
    target=st.sampled_from(WALLETS),
)
sequences = st.lists(st.one_of(deposits, deposits, withdrawals, transfers, transfers), min_size=1, max_size=12)


def expected_outcome(command: Command, free: dict[tuple[str, str, str], Decimal]) -> int:
    """The exit code the rules give, applying the command to the model when it succeeds."""
    if command.kind == "deposit":
        free[(command.account, "spot", command.asset)] += command.amount or Decimal(0)
        return 0
    if command.kind == "withdraw":
        key = (command.account, "spot", command.asset)
        assert command.amount is not None
        if command.amount > free[key]:
            return 3
        free[key] -= command.amount
        return 0
    if command.source == command.target:
        return 2
    source = (command.account, command.source, command.asset)
    target = (command.account, command.target, command.asset)
    # No borrowing happens here, so a margin wallet has no liability and all its free may leave.
    moved = free[source] if command.amount is None else command.amount
    if moved <= 0 or moved > free[source]:
        return 3
    free[source] -= moved
    free[target] += moved
    return 0


def run_sequence(commands: list[Command]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        wallet = new_wallet(Path(folder) / "wallet.db")
        clock = iter(START + timedelta(minutes=minute) for minute in range(1000))

        def now() -> str:
            return next(clock).strftime("%Y-%m-%dT%H:%M:%SZ")

        wallet.ok("accounts", "create", "bob", now=now())
        model: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
        for command in commands:
            expected = expected_outcome(command, model)
            result = wallet.run(*command.arguments(), "--json", now=now(), account=command.account)
            assert result.code == expected, (command, result)
            if expected == 3:
                assert result.error()["code"] == "insufficient_balance", (command, result)
            assert "Traceback" not in result.err

        for account in ACCOUNTS:
            documents = wallet.ok("status", "--all", now=now(), account=account)
            shown = {
                (account, document["wallet"], row["asset"]): Decimal(row["free"])
                for document in documents
                for row in document["userAssets"]
            }
            assert all(free >= 0 for free in shown.values()), shown
            for key, free in shown.items():
                assert free == model[key], (key, free, model[key])
            for key, free in model.items():
                if key[0] == account and free != 0:
                    assert shown.get(key) == free, (key, free, shown.get(key))

        report = wallet.ok("audit", now=now())
        assert report["ok"] is True, report["violations"]

        connection = sqlite3.connect(wallet.path)
        try:
            rows = connection.execute("SELECT asset, amount FROM balances").fetchall()
        finally:
            connection.close()
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for asset, amount in rows:
            totals[asset] += Decimal(amount)
        # every debit has its credit: external's negative balance mirrors everything paid in
        assert all(total == 0 for total in totals.values()), dict(totals)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(commands=sequences)
def test_any_sequence_of_moves_keeps_balances_non_negative_audit_clean_and_assets_summing_to_zero(
    commands: list[Command],
) -> None:
    run_sequence(commands)


def test_a_known_sequence_matches_the_model() -> None:
    """The property's model on one hand-checked sequence, so a failure here is easy to read."""
    run_sequence(
        [
            Command("deposit", "main", "USDT", Decimal("100")),
            Command("transfer", "main", "USDT", Decimal("40"), "spot", "cross"),  # spot 60, cross 40
            Command("transfer", "main", "USDT", Decimal("15"), "cross", "BTC/USDT"),  # cross 25, isolated 15
            Command("withdraw", "main", "USDT", Decimal("60.00000001")),  # 60.00000001 > 60: refused
            Command("withdraw", "main", "USDT", Decimal("60")),  # spot 0
            Command("deposit", "bob", "BTC", Decimal("0.00000001")),
            Command("transfer", "bob", "BTC", None, "spot", "BTC/USDT"),  # max: 0.00000001
            Command("transfer", "bob", "BTC", None, "spot", "cross"),  # max of an empty spot: refused
            Command("transfer", "bob", "BTC", Decimal("1"), "cross", "cross"),  # same wallet: usage error
        ]
    )
