"""Concurrent writers (issue 7, item 2; DESIGN §7): 8 processes × 500 mixed commands against one wallet, on
SQLite and on PostgreSQL, then the wallet is checked against the test's own bookkeeping.

Nine accounts: `w0`…`w7` (one per worker) and `shared` (every worker writes to it). Each gets, during
2026-03-02 10:xx (the setup, in this process), 200000 USDT and 5 BTC in spot; 100000 USDT and 2 BTC in cross;
20000 USDT and 0.01 BTC in the BTC/USDT isolated wallet; loans of 10000 USDT and 0.2 BTC in cross and
2000 USDT in isolated. Every worker command then runs at the same fixed clock, 2026-03-02 13:30 (`--now`
never goes backwards). So each setup loan owes exactly the PERIODIC hours 11:00, 12:00 and 13:00 on its setup
principal, charged by whichever comes first (an `accrue`, or the catch-up of the account's first write):
    USDT 10000 × 0.00024 / 24 = 0.1 an hour; BTC 0.2 × 0.000048 / 24 = 0.0000004; USDT 2000 → 0.02.

The workers mix deposit, withdraw, transfer (spot, cross, isolated), borrow, repay, market trades (by quantity
or --quote, some with auto-borrow), price set (BTC/USDT between 59000 and 61000: no margin call, no
liquidation) and accrue, each with a unique --client-id; some commands are retried with their client id, and
some deposits into `shared` are sent by all 8 workers at once with the same client id.

Afterwards, independently of marginctl's numbers: the balances recomputed from the commands that reported
success (deposits, withdrawals and transfers exactly from their arguments; borrow, repay and trade from the
amounts in their JSON, each re-derived where a rule allows) equal `status --all --json` of every account;
nothing succeeded twice; `audit` is clean; no `database is locked` reached a user; every exit code is 0, 2
or 3 (a busy wallet is `database_busy`, exit 3).
"""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.conftest import POSTGRES_URL, Wallet, new_wallet
from tests.reliability.support import (
    REPLAY_NOTE,
    ZERO,
    Store,
    hourly_interest,
    market_fill,
    plain,
    run_workers,
)

WORKERS = 8
COMMANDS = 500
NOW = "2026-03-02T13:30:00Z"
PAIR = "BTC/USDT"
SHARED = "shared"
ACCOUNTS = [f"w{number}" for number in range(WORKERS)] + [SHARED]
#: Setup loans: (wallet, asset, principal). Each owes the PERIODIC hours 11:00, 12:00 and 13:00.
SETUP_LOANS = [("cross", "USDT", "10000"), ("cross", "BTC", "0.2"), (PAIR, "USDT", "2000")]
PERIODIC_HOURS = ["2026-03-02T11", "2026-03-02T12", "2026-03-02T13"]
#: Every 25th command (index 12, 37, …) is a deposit into `shared` that all 8 workers send with one client id.
CONTEST_EVERY, CONTEST_AT = 25, 12


@dataclass
class Step:
    """One command of a plan, with what the test needs to book it."""

    account: str
    kind: str
    args: list[str]
    client_id: str
    asset: str = ""
    amount: str = ""
    source: str = ""
    target: str = ""
    wallet: str = ""
    side: str = ""
    retry: bool = False


def command(account: str, client_id: str, *args: str) -> list[str]:
    return ["--account", account, "--now", NOW, *args, "--client-id", client_id, "--json"]


def amount_of(rng: random.Random, asset: str) -> str:
    """Up to 100 USDT or 0.01 BTC, with up to 8 places."""
    units = rng.randint(1, 10**10 if asset == "USDT" else 10**6)
    return plain(Decimal(units).scaleb(-8).normalize())


def new_step(rng: random.Random, worker: int, index: int) -> Step:
    own = f"w{worker}"
    account = SHARED if rng.random() < 0.3 else own
    client_id = f"w{worker}-{index}"
    kind = rng.choices(
        ["deposit", "withdraw", "transfer", "borrow", "repay", "trade", "price", "accrue"],
        weights=[14, 10, 18, 12, 12, 18, 8, 8],
    )[0]
    asset = "USDT" if rng.random() < 0.7 else "BTC"
    if kind in ("deposit", "withdraw"):
        amount = "999999999" if kind == "withdraw" and rng.random() < 0.05 else amount_of(rng, asset)
        return Step(account, kind, command(account, client_id, kind, asset, amount), client_id, asset, amount)
    if kind == "transfer":
        source, target = rng.choice(
            [("spot", "cross"), ("cross", "spot"), ("spot", PAIR), (PAIR, "spot"), ("cross", PAIR), (PAIR, "cross")]
        )
        amount = amount_of(rng, asset)
        args = command(account, client_id, "transfer", asset, amount, "--from", source, "--to", target, "--yes")
        return Step(account, kind, args, client_id, asset, amount, source=source, target=target)
    if kind in ("borrow", "repay"):
        wallet = PAIR if rng.random() < 0.2 else "cross"
        amount = amount_of(rng, asset)
        roll = rng.random()
        if roll < 0.05:
            amount = "50000000" if asset == "USDT" else "5000"  # above max borrowable / above the debt: exit 3
        elif kind == "repay" and roll < 0.08:
            amount = "all"
        isolated = ["--isolated", PAIR] if wallet == PAIR else []
        args = command(account, client_id, kind, asset, amount, *isolated, *(["--yes"] if kind == "borrow" else []))
        return Step(account, kind, args, client_id, asset, amount, wallet=wallet)
    if kind == "trade":
        wallet = PAIR if rng.random() < 0.25 else "cross"
        side = rng.choice(["buy", "sell"])
        if rng.random() < 0.25:
            size = ["--quote", plain(Decimal(rng.randint(600, 20000)).scaleb(-2))]
        else:
            size = [plain(Decimal(rng.randint(10, 300)).scaleb(-5))]
        effect = []
        if wallet == PAIR and side == "sell" and account != SHARED:
            effect = ["--side-effect", "auto-borrow"]  # a short: borrows the BTC it lacks
        elif wallet == "cross" and rng.random() < 0.1:
            effect = ["--side-effect", "auto-borrow"]
        isolated = ["--isolated"] if wallet == PAIR else []
        args = command(account, client_id, "trade", side, PAIR, *size, *effect, *isolated)
        return Step(account, kind, args, client_id, wallet=wallet, side=side.upper())
    if kind == "price":
        price = plain(Decimal(5_900_000 + rng.randint(0, 200_000)).scaleb(-2))
        return Step(account, kind, command(account, client_id, "price", "set", PAIR, price), client_id)
    return Step(account, kind, command(account, client_id, "accrue"), client_id)


def plan_for(worker: int) -> list[Step]:
    rng = random.Random(7000 + worker)
    steps: list[Step] = []
    for index in range(COMMANDS):
        if index % CONTEST_EVERY == CONTEST_AT:
            round_number = index // CONTEST_EVERY
            amount = plain(Decimal(round_number + 1) + Decimal("0.12345678"))
            client_id = f"contest-{round_number}"
            args = command(SHARED, client_id, "deposit", "USDT", amount)
            steps.append(Step(SHARED, "deposit", args, client_id, "USDT", amount))
        elif index > 20 and rng.random() < 0.04:
            earlier = rng.choice([step for step in steps if not step.client_id.startswith("contest-")])
            steps.append(Step(**{**asdict(earlier), "retry": True}))
        else:
            steps.append(new_step(rng, worker, index))
    return steps


class Book:
    """The test's own bookkeeping: (account, wallet, asset, bucket) → amount, buckets as status shows them
    (borrowed and interest positive), plus the fees account, the tranIds and orderIds seen, the loans lent."""

    def __init__(self) -> None:
        self.balances: dict[tuple[str, str, str, str], Decimal] = defaultdict(lambda: ZERO)
        self.fees: dict[str, Decimal] = defaultdict(lambda: ZERO)
        self.tran_ids: list[int] = []
        self.order_ids: list[int] = []
        self.on_borrow_charges = 0

    def add(self, account: str, wallet: str, asset: str, bucket: str, amount: Decimal) -> None:
        self.balances[(account, wallet, asset, bucket)] += amount

    def lend(self, account: str, wallet: str, asset: str, amount: Decimal) -> Decimal:
        """A loan: into free and borrowed, the first hour's interest at once (ON_BORROW)."""
        interest = hourly_interest(amount, asset)
        self.add(account, wallet, asset, "free", amount)
        self.add(account, wallet, asset, "borrowed", amount)
        self.add(account, wallet, asset, "interest", interest)
        self.on_borrow_charges += 1
        return interest

    def book(self, step: Step, result: dict[str, Any]) -> None:
        """Apply one command that reported success (once per client id), checking its JSON on the way."""
        account, kind = step.account, step.kind
        if kind in ("deposit", "withdraw"):
            amount = Decimal(step.amount)
            assert Decimal(result["amount"]) == amount, (step, result)
            self.add(account, "spot", step.asset, "free", amount if kind == "deposit" else -amount)
            if account != SHARED:
                # only its worker writes to an own account: the balance it reports is the one booked so far
                assert Decimal(result["free"]) == self.balances[(account, "spot", step.asset, "free")], (step, result)
            self.tran_ids.append(int(result["tranId"]))
        elif kind == "transfer":
            amount = Decimal(step.amount)
            assert Decimal(result["amount"]) == amount, (step, result)
            assert (result["from"], result["to"]) == (step.source, step.target), (step, result)
            self.add(account, step.source, step.asset, "free", -amount)
            self.add(account, step.target, step.asset, "free", amount)
            self.tran_ids.append(int(result["tranId"]))
        elif kind == "borrow":
            amount = Decimal(step.amount)
            assert (Decimal(result["amount"]), result["wallet"]) == (amount, step.wallet), (step, result)
            interest = self.lend(account, step.wallet, step.asset, amount)
            assert Decimal(result["interestCharged"]) == interest, (step, result)
            self.tran_ids.append(int(result["tranId"]))
        elif kind == "repay":
            amount = Decimal(result["amount"])
            if step.amount != "all":
                assert amount == Decimal(step.amount), (step, result)
            to_interest, to_principal = Decimal(result["interest"]), Decimal(result["principal"])
            assert to_interest + to_principal == amount and to_interest >= 0 and to_principal >= 0, (step, result)
            owed = self.balances[(account, step.wallet, step.asset, "interest")]
            if account != SHARED:
                # interest first, then principal; what is still owed is what this worker's commands left
                assert to_interest == min(amount, owed), (step, result, owed)
                assert Decimal(result["interestLeft"]) == owed - to_interest, (step, result, owed)
                borrowed = self.balances[(account, step.wallet, step.asset, "borrowed")]
                assert Decimal(result["borrowedLeft"]) == borrowed - to_principal, (step, result, borrowed)
            self.add(account, step.wallet, step.asset, "free", -amount)
            self.add(account, step.wallet, step.asset, "interest", -to_interest)
            self.add(account, step.wallet, step.asset, "borrowed", -to_principal)
            self.tran_ids.append(int(result["tranId"]))
        elif kind == "trade":
            self.book_trade(step, result)
        else:
            # price set and accrue move no user balance here: no resting order, no margin call, no liquidation
            assert result["marginCalls"] == [] and result["liquidations"] == [], (step, result)
            if kind == "price":
                assert (result["triggered"], result["filled"]) == (0, 0), (step, result)

    def book_trade(self, step: Step, result: dict[str, Any]) -> None:
        account, wallet = step.account, step.wallet
        assert (result["wallet"], result["side"], result["type"]) == (wallet, step.side, "MARKET"), (step, result)
        assert result["status"] == "FILLED" and result["executedQty"] == result["origQty"], (step, result)
        assert result["marginCalls"] == [] and result["liquidations"] == [], (step, result)
        (fill,) = result["fills"]
        quantity, price = Decimal(fill["qty"]), Decimal(fill["price"])
        assert quantity == Decimal(result["origQty"]) > 0, (step, result)
        if "--quote" not in step.args:
            assert quantity == Decimal(step.args[step.args.index(PAIR) + 1]), (step, result)
        assert Decimal("59000") <= price <= Decimal("61000"), (step, result)
        if "marginBuyBorrowAmount" in result:
            self.lend(account, wallet, result["marginBuyBorrowAsset"], Decimal(result["marginBuyBorrowAmount"]))
        moved = market_fill(step.side, quantity, price)
        assert Decimal(result["cummulativeQuoteQty"]) == moved["quote"], (step, result, moved)
        assert Decimal(fill["commission"]) == moved["fee"], (step, result, moved)
        paid, received = ("USDT", "BTC") if step.side == "BUY" else ("BTC", "USDT")
        assert fill["commissionAsset"] == received, (step, result)
        self.add(account, wallet, paid, "free", -moved["paid"])
        self.add(account, wallet, received, "free", moved["received"])
        self.fees[received] += moved["fee"]
        self.order_ids.append(int(result["orderId"]))


def setup_wallet(wallet: Wallet, book: Book) -> None:
    """Nine funded accounts with three loans each, during 2026-03-02 10:xx; booked like any command."""
    for minute, account in enumerate(ACCOUNTS):
        wallet.ok("accounts", "create", account, now=f"2026-03-02T10:{minute:02d}:00Z")
    for minute, account in enumerate(ACCOUNTS):
        moves = [
            ("deposit", "USDT", "200000", "", ""),
            ("deposit", "BTC", "5", "", ""),
            ("transfer", "USDT", "100000", "spot", "cross"),
            ("transfer", "BTC", "2", "spot", "cross"),
            ("transfer", "USDT", "20000", "spot", PAIR),
            ("transfer", "BTC", "0.01", "spot", PAIR),
        ]
        second = 0
        for kind, asset, amount, source, target in moves:
            second += 5
            now = f"2026-03-02T10:{minute + 10:02d}:{second:02d}Z"
            args = [kind, asset, amount] + (["--from", source, "--to", target, "--yes"] if kind == "transfer" else [])
            step = Step(account, kind, args, "", asset, amount, source=source, target=target)
            book.book(step, wallet.ok(*args, now=now, account=account))
        for loan_wallet, asset, amount in SETUP_LOANS:
            second += 5
            now = f"2026-03-02T10:{minute + 10:02d}:{second:02d}Z"
            isolated = ["--isolated", PAIR] if loan_wallet == PAIR else []
            args = ["borrow", asset, amount, *isolated, "--yes"]
            step = Step(account, "borrow", args, "", asset, amount, wallet=loan_wallet)
            book.book(step, wallet.ok(*args, now=now, account=account))


def status_balances(wallet: Wallet, account: str) -> dict[tuple[str, str, str, str], Decimal]:
    found: dict[tuple[str, str, str, str], Decimal] = {}
    for document in wallet.ok("status", "--all", now=NOW, account=account):
        for row in document["userAssets"]:
            for bucket in ("free", "locked", "borrowed", "interest"):
                amount = Decimal(row[bucket])
                if amount:
                    found[(account, document["wallet"], row["asset"], bucket)] = amount
    return found


def test_eight_processes_of_500_mixed_commands_lose_and_double_nothing(tmp_path: Path) -> None:
    wallet = new_wallet(tmp_path / "wallet.db")
    store = Store(wallet.target)
    book = Book()
    setup_wallet(wallet, book)
    # The three PERIODIC hours every setup loan owes by 13:30, whoever charges them: 11:00, 12:00, 13:00.
    for account in ACCOUNTS:
        for loan_wallet, asset, principal in SETUP_LOANS:
            book.add(account, loan_wallet, asset, "interest", 3 * hourly_interest(Decimal(principal), asset))

    plans = [plan_for(number) for number in range(WORKERS)]
    outcomes, elapsed = run_workers(wallet.target, tmp_path, [[step.args for step in plan] for plan in plans])

    # Every outcome: an allowed exit code, never `database is locked`, never a traceback; successes print
    # nothing on stderr (no margin call, no liquidation) but the note of a replayed client id, whose JSON
    # says `"replayed": true`; a refusal is one JSON error.
    codes: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    for plan, results in zip(plans, outcomes, strict=True):
        assert len(results) == len(plan) == COMMANDS
        for step, outcome in zip(plan, results, strict=True):
            assert outcome["args"] == step.args
            codes[outcome["code"]] += 1
            assert "database is locked" not in outcome["err"].lower(), (step.args, outcome["err"])
            assert "Traceback" not in outcome["err"], (step.args, outcome["err"])
            assert outcome["code"] in (0, 2, 3), (step.args, outcome["code"], outcome["err"], outcome["rawOut"])
            if outcome["code"] == 0:
                assert outcome["out"] is not None, (step.args, outcome)
                replayed = outcome["out"].pop("replayed", False)
                assert outcome["err"] == (REPLAY_NOTE.format(step.client_id) if replayed else ""), (step.args, outcome)
                outcome["applied"] = not replayed
            else:
                assert outcome["out"] is None, (step.args, outcome)
                errors[json.loads(outcome["err"])["error"]["code"]] += 1

    # Each client id was applied by exactly one success; every other success of it was answered with that
    # result. Book each client id once, at its first success.
    applied = Counter(
        (step.account, step.client_id)
        for plan, results in zip(plans, outcomes, strict=True)
        for step, outcome in zip(plan, results, strict=True)
        if outcome["code"] == 0 and outcome["applied"]
    )
    assert set(applied.values()) == {1}, [key for key, count in applied.items() if count != 1]
    first: dict[tuple[str, str], dict[str, Any]] = {}
    for plan, results in zip(plans, outcomes, strict=True):
        succeeded: set[str] = set()
        for step, outcome in zip(plan, results, strict=True):
            key = (step.account, step.client_id)
            if outcome["code"] != 0:
                # a retry of a command that succeeded gets its first result, never a refusal
                assert step.client_id not in succeeded, (step.args, outcome["err"])
                continue
            succeeded.add(step.client_id)
            if key in first:
                assert outcome["out"] == first[key], (step.args, outcome["out"], first[key])
                continue
            first[key] = outcome["out"]
            book.book(step, outcome["out"])
    contests = {key for key in first if key[1].startswith("contest-")}
    assert len(contests) == COMMANDS // CONTEST_EVERY

    # Nothing succeeded twice: each success has its own entry or order, and its one row in `requests`
    # (the stored result is the one printed); a refused command left no row.
    assert len(book.tran_ids) == len(set(book.tran_ids)), "two successes share a tranId"
    assert len(book.order_ids) == len(set(book.order_ids)), "two trades share an orderId"
    recorded = store.requests()
    assert set(recorded) == set(first) == set(applied), set(recorded) ^ set(first)
    for key, (_, stored) in recorded.items():
        assert json.loads(stored) == first[key], key

    # The balances: the test's bookkeeping equals what `status --all` shows, account by account.
    expected = {key: amount for key, amount in book.balances.items() if amount != 0}
    shown: dict[tuple[str, str, str, str], Decimal] = {}
    for account in ACCOUNTS:
        shown |= status_balances(wallet, account)
    mismatches = {key: (expected.get(key, ZERO), shown.get(key, ZERO)) for key in set(expected) | set(shown)}
    mismatches = {key: pair for key, pair in mismatches.items() if pair[0] != pair[1]}
    assert mismatches == {}, f"(account, wallet, asset, bucket): (expected, shown): {mismatches}"
    fees = {key[2]: amount for key, amount in store.balances().items() if key[0] == "fees"}
    assert fees == {asset: amount for asset, amount in book.fees.items() if amount}

    # Interest: each setup loan charged 11:00, 12:00 and 13:00 once, on its setup principal; one ON_BORROW
    # per loan lent (setup, borrow, auto-borrow); no liquidation, no order left open.
    assert store.duplicated_hours() == []
    periodic = sorted(store.periodic_charges())
    assert periodic == sorted(
        (account, loan_wallet, asset, hour, Decimal(principal), hourly_interest(Decimal(principal), asset))
        for account in ACCOUNTS
        for loan_wallet, asset, principal in SETUP_LOANS
        for hour in PERIODIC_HOURS
    )
    (on_borrow,) = store.rows("SELECT COUNT(*) FROM interest_charges WHERE type = 'ON_BORROW'")[0]
    assert on_borrow == book.on_borrow_charges
    assert store.rows("SELECT COUNT(*) FROM entries WHERE kind = 'liquidation'")[0][0] == 0
    assert store.rows("SELECT COUNT(*) FROM orders WHERE status <> 'FILLED'")[0][0] == 0
    assert wallet.ok("audit", now=NOW)["ok"] is True

    engine = "PostgreSQL" if POSTGRES_URL else "SQLite"
    successes = codes[0]
    slowest = max(outcome["seconds"] for results in outcomes for outcome in results)
    retries = sum(step.retry for plan in plans for step in plan)
    print(
        f"\n[concurrency/{engine}] {WORKERS}×{COMMANDS} = {sum(codes.values())} commands in {elapsed:.1f} s "
        f"(slowest {slowest:.2f} s): {successes} succeeded, {len(first)} of them applied and "
        f"{successes - len(first)} answered with the first result ({retries} retries, {len(contests)} client ids "
        f"sent by all {WORKERS} workers at once); refused {dict(errors)}; exit codes {dict(codes)}; "
        "lost 0, duplicated 0"
    )
