"""Stateful property test over every balance-changing command (issue 7, item 6; DESIGN §3).

A hypothesis `RuleBasedStateMachine` drives marginctl in-process through its CLI, on a fresh wallet per
run (a SQLite file, or a PostgreSQL database on the PostgreSQL pass), with a simulated clock that only
moves forward (`--now` on every command). Its rules cover deposit, withdraw, transfer between spot, cross
and the BTC/USDT isolated wallet, borrow and repay (cross and isolated, `max` and `all` included), market,
`--quote`, limit and stop-limit orders on BTC/USDT and ETH/USDT with every side effect (cross or
`--isolated`), cancelling one order or all, price moves wide enough for margin calls and liquidations,
`accrue --until` after the clock jumps, a rare cooling-off, and a second and third account.

Every command exits 0 or 3 (2 only for the one malformed request it can generate: ETH into the BTC/USDT
isolated wallet), never 1; a refused command names a rule and leaves every table row as it was. How the
commands fared (exit codes, order types, margin calls, liquidations) is recorded as hypothesis events:
add `--hypothesis-show-statistics` to see them. After every step:
- `audit --json` is clean, and `status --all --json` of every account shows no negative field and
  netAsset = free + locked − borrowed − interest;
- read straight from the database, independently of marginctl's audit: each entry's postings balance per
  asset; every balance equals the sum of its postings; each asset sums to zero over all balances; no user
  free or locked is negative; users' borrowed and interest equal the lending pool's receivables; locked
  funds equal what the open orders hold (qty × limit rounded up for a buy, qty for a sell); each
  PERIODIC interest hour appears once per (account, wallet, asset).

CI runs 200 examples of 12 steps on SQLite (30 on the PostgreSQL pass). For a longer search (2000 examples
of 40 steps), load this module as a plugin, so that the "thorough" profile is registered before pytest's
hypothesis plugin reads `--hypothesis-profile` (otherwise: "Profile 'thorough' is not registered"):

    python -m pytest -p tests.services.test_state_machine --hypothesis-profile=thorough \
        tests/services/test_state_machine.py
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

from tests.conftest import POSTGRES_URL, Result, Wallet, new_wallet

settings.register_profile("thorough", max_examples=2000, stateful_step_count=40, deadline=None)

#: 200 examples on CI's SQLite pass. The PostgreSQL pass runs the same rules on fewer examples: each one
#: creates a database there and every command is a round trip to the server.
CI_SETTINGS = settings(
    max_examples=200 if POSTGRES_URL is None else 30,
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

START = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
EIGHT_PLACES = Decimal("0.00000001")
CENT = Decimal("0.01")
ASSETS = ("USDT", "BTC", "ETH")
ISOLATED = "BTC/USDT"
#: (asset, from, to): every transfer an isolated wallet can take, and one it cannot (ETH into BTC/USDT: exit 2)
MOVES = (
    *((asset, source, target) for asset in ASSETS for source, target in (("spot", "cross"), ("cross", "spot"))),
    *(
        (asset, source, target)
        for asset in ("USDT", "BTC")
        for source, target in (("spot", ISOLATED), (ISOLATED, "spot"), ("cross", ISOLATED), (ISOLATED, "cross"))
    ),
    ("ETH", "spot", ISOLATED),
)
LOAN_WALLETS = (("cross", "USDT"), ("cross", "BTC"), ("cross", "ETH"), (ISOLATED, "USDT"), (ISOLATED, "BTC"))
#: pair → (quantity step, lowest and highest price the machine sets, starting price from the default config)
PAIRS = {
    "BTC/USDT": (Decimal("0.00001"), Decimal(20000), Decimal(120000), Decimal(60000)),
    "ETH/USDT": (Decimal("0.0001"), Decimal(1000), Decimal(6000), Decimal(3000)),
}
OTHER_ACCOUNTS = ("bob", "carol")
#: Leveraged positions main may start with (all auto-borrow market orders at the starting prices).
OPENINGS = {
    "cross long": ("buy", "BTC/USDT", "--quote", "11000"),  # liquidated below about 42000
    "cross short": ("sell", "BTC/USDT", "0.12"),  # liquidated above about 84800
    "cross ETH short": ("sell", "ETH/USDT", "2.4"),  # liquidated above about 4240
    "isolated long": ("buy", "BTC/USDT", "--quote", "8000", "--isolated"),  # margin call below 56700
}

#: What a well-formed command may be refused for (exit 3). Not here, so a failure if seen: database_busy
#: (one writer), confirmation_required (every confirming command gets --yes), client_id_reused (no ids).
RULE_REFUSALS = {
    "insufficient_balance",
    "agreement_required",
    "account_exists",
    "no_price",
    "margin_level_too_low",
    "exceeds_max_borrowable",
    "borrow_limit_exceeded",
    "pool_insufficient",
    "repay_exceeds_debt",
    "min_notional",
    "unknown_order",
    "liquidation_in_progress",
    "would_trigger_immediately",
    "cooling_off_active",
}

notionals = st.decimals(min_value=CENT, max_value=Decimal(20000), places=2)  # in USDT
maybe_notionals = st.one_of(st.none(), notionals)  # None: `max`
small_notionals = st.decimals(min_value=CENT, max_value=Decimal(3000), places=2)  # a repay within a typical debt
# Per mille of the last price, −400 to +400; the simplest (what hypothesis shrinks to) is a 40 % crash, not no move.
price_changes = st.integers(min_value=0, max_value=800).map(lambda n: n - 400)
offsets = st.integers(min_value=-100, max_value=100)  # per mille of the last price, for limits and stops
order_notionals = st.decimals(min_value=Decimal(5), max_value=Decimal(15000), places=2)  # in USDT
sides = st.sampled_from(("buy", "sell"))
side_effects = st.sampled_from(("auto-borrow", "auto-borrow", "normal", "auto-repay"))


def text(amount: Decimal) -> str:
    return format(amount, "f")


def parse(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


@contextmanager
def debug_tracebacks() -> Iterator[None]:
    """An internal error (exit 1) then prints its traceback on stderr, which the failure shows."""
    old = os.environ.get("MARGINCTL_DEBUG")
    os.environ["MARGINCTL_DEBUG"] = "1"
    try:
        yield
    finally:
        if old is None:
            del os.environ["MARGINCTL_DEBUG"]
        else:
            os.environ["MARGINCTL_DEBUG"] = old


class LedgerMachine(RuleBasedStateMachine):
    accounts = Bundle("accounts")
    orders = Bundle("orders")  # (account, orderId) of every order placed

    def __init__(self) -> None:
        super().__init__()
        self.folder = tempfile.mkdtemp(prefix="marginctl-sm-")
        self.wallet: Wallet = new_wallet(Path(self.folder) / "wallet.db")
        self.now = START
        self.prices = {pair: spec[3] for pair, spec in PAIRS.items()}
        self.known_accounts = ["main"]
        self.cooled_off = False
        self.steps = 0

    def teardown(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        if self.wallet.url is not None:
            _drop_postgres_database(self.wallet.url)

    # -- running commands ------------------------------------------------------------------------------

    def stamp(self) -> str:
        return self.now.strftime("%Y-%m-%dT%H:%M:%SZ")

    def command(self, account: str, *args: str, expect: frozenset[int] = frozenset({0, 3})) -> Result:
        """Run one command now (then the clock moves a minute); check its exit code; a refusal changes nothing."""
        stamp = self.stamp()
        self.now += timedelta(minutes=1)
        self.steps += 1
        before = self.fingerprint()
        with debug_tracebacks():
            result = self.wallet.run(*args, "--json", now=stamp, account=account)
        name = args[0] if args[0] not in ("price", "accounts") else " ".join(args[:2])
        event(f"{name}: exit {result.code}")
        call = f"--account {account} --now {stamp} {' '.join(args)}"
        assert result.code != 1, f"internal error from {call}:\n{result.err}"
        assert result.code in expect, f"{call} exited {result.code}, expected {sorted(expect)}:\n{result.err}"
        if result.code == 0:
            result.json()  # one JSON document on stdout
            if "LIQUIDATED" in result.err:
                event(f"{name}: liquidated a wallet")
            if "margin call" in result.err:
                event(f"{name}: margin call")
        else:
            error = result.error()
            if result.code == 3:
                assert error["code"] in RULE_REFUSALS, f"{call}: unexpected refusal {error}"
            assert self.fingerprint() == before, f"{call} was refused ({error['code']}) but changed the wallet"
        return result

    def fingerprint(self) -> str:
        """Every row of every table, read-only: what a refused command must leave exactly as it was."""
        if self.wallet.url is None and not self.wallet.file.exists():
            return "<no wallet yet>"
        with self.connect() as (connection, tables_sql):
            digest = hashlib.sha256()
            for (table,) in sorted(connection.execute(tables_sql).fetchall()):
                rows = connection.execute(f'SELECT * FROM "{table}"').fetchall()
                digest.update(f"{table}: {sorted(map(repr, rows))}".encode())
        return digest.hexdigest()

    @contextmanager
    def connect(self) -> Iterator[tuple[Any, str]]:
        """A read-only connection to the wallet's database, and the query listing its tables."""
        if self.wallet.url is None:
            connection = sqlite3.connect(f"file:{self.wallet.file}?mode=ro", uri=True)
            try:
                yield connection, "SELECT name FROM sqlite_master WHERE type = 'table'"
            finally:
                connection.close()
        else:
            import psycopg

            url = self.wallet.url.replace("postgresql+psycopg://", "postgresql://")
            with psycopg.connect(url) as connection:
                connection.read_only = True
                yield connection, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
                connection.rollback()

    def asset_amount(self, asset: str, notional: Decimal) -> str:
        """`notional` USDT worth of `asset` at the last price, to 8 places (at least one unit of them)."""
        price = Decimal(1) if asset == "USDT" else self.prices[f"{asset}/USDT"]
        return text(max((notional / price).quantize(EIGHT_PLACES, rounding=ROUND_DOWN), EIGHT_PLACES))

    def on_tick(self, pair: str, per_mille: int) -> Decimal:
        """The last price moved by `per_mille`, on the tick (0.01) and inside the pair's range."""
        _, low, high, _ = PAIRS[pair]
        moved = (self.prices[pair] * (1000 + per_mille) / 1000).quantize(CENT)
        return min(max(moved, low), high)

    # -- rules -----------------------------------------------------------------------------------------

    @initialize(target=accounts, opening=st.sampled_from((None, *OPENINGS)))
    def fund_main(self, opening: str | None) -> str:
        """main's spot holds USDT, BTC and ETH, cross 4000 USDT, the BTC/USDT isolated wallet 1000 USDT;
        usually a leveraged position is open too, so price moves lead to margin calls and liquidations."""
        self.command("main", "deposit", "USDT", "20000", expect=frozenset({0}))
        self.command("main", "deposit", "BTC", "0.2", expect=frozenset({0}))
        self.command("main", "deposit", "ETH", "3", expect=frozenset({0}))
        self.command("main", "transfer", "USDT", "4000", "--yes", expect=frozenset({0}))
        self.command("main", "transfer", "USDT", "1000", "--to", ISOLATED, "--yes", expect=frozenset({0}))
        if opening is not None:
            self.command("main", "trade", *OPENINGS[opening], "--side-effect", "auto-borrow", expect=frozenset({0}))
        return "main"

    @precondition(lambda self: len(self.known_accounts) < 1 + len(OTHER_ACCOUNTS))
    @rule(target=accounts, name=st.sampled_from(OTHER_ACCOUNTS))
    def create_account(self, name: str) -> Any:
        result = self.command("main", "accounts", "create", name)
        if result.code != 0:
            assert name in self.known_accounts, result.err
            return multiple()
        self.known_accounts.append(name)
        return name

    @rule(account=accounts, asset=st.sampled_from(ASSETS), notional=notionals)
    def deposit(self, account: str, asset: str, notional: Decimal) -> None:
        self.command(account, "deposit", asset, self.asset_amount(asset, notional), expect=frozenset({0}))

    @rule(account=accounts, asset=st.sampled_from(ASSETS), notional=notionals)
    def withdraw(self, account: str, asset: str, notional: Decimal) -> None:
        self.command(account, "withdraw", asset, self.asset_amount(asset, notional))

    @rule(account=accounts, move=st.sampled_from(MOVES), notional=maybe_notionals)
    def transfer(self, account: str, move: tuple[str, str, str], notional: Decimal | None) -> None:
        asset, source, target = move
        amount = "max" if notional is None else self.asset_amount(asset, notional)
        malformed = asset == "ETH" and ISOLATED in move  # the BTC/USDT isolated wallet holds only BTC and USDT
        self.command(
            account,
            "transfer",
            asset,
            amount,
            "--from",
            source,
            "--to",
            target,
            "--yes",
            expect=frozenset({2}) if malformed else frozenset({0, 3}),
        )

    @rule(account=accounts, loan=st.sampled_from(LOAN_WALLETS), notional=maybe_notionals)
    def borrow(self, account: str, loan: tuple[str, str], notional: Decimal | None) -> None:
        wallet, asset = loan
        amount = "max" if notional is None else self.asset_amount(asset, notional)
        isolated = [] if wallet == "cross" else ["--isolated", wallet]
        self.command(account, "borrow", asset, amount, *isolated, "--yes")

    @rule(account=accounts, loan=st.sampled_from(LOAN_WALLETS), notional=st.one_of(st.none(), small_notionals))
    def repay(self, account: str, loan: tuple[str, str], notional: Decimal | None) -> None:
        wallet, asset = loan
        amount = "all" if notional is None else self.asset_amount(asset, notional)
        isolated = [] if wallet == "cross" else ["--isolated", wallet]
        self.command(account, "repay", asset, amount, *isolated)

    @rule(
        target=orders,
        account=accounts,
        pair=st.sampled_from(tuple(PAIRS)),
        side=sides,
        notional=order_notionals,
        by_quote=st.booleans(),
        side_effect=side_effects,
        isolated=st.booleans(),
    )
    def market_order(
        self, account: str, pair: str, side: str, notional: Decimal, by_quote: bool, side_effect: str, isolated: bool
    ) -> Any:
        """A market order, for a quantity or (`--quote`) for an amount of USDT."""
        size = ["--quote", text(notional)] if by_quote else [self.quantity(pair, notional)]
        return self.place(account, side, pair, size, side_effect, isolated)

    @rule(
        target=orders,
        account=accounts,
        pair=st.sampled_from(tuple(PAIRS)),
        side=sides,
        notional=order_notionals,
        limit=offsets,
        stop=st.one_of(st.none(), offsets),
        side_effect=side_effects,
        isolated=st.booleans(),
    )
    def limit_order(
        self,
        account: str,
        pair: str,
        side: str,
        notional: Decimal,
        limit: int,
        stop: int | None,
        side_effect: str,
        isolated: bool,
    ) -> Any:
        """A limit order (it fills at once when marketable, else rests), or a stop-limit one."""
        size = [self.quantity(pair, notional), "--price", text(self.on_tick(pair, limit))]
        if stop is not None:
            size += ["--stop", text(self.on_tick(pair, stop))]
        return self.place(account, side, pair, size, side_effect, isolated)

    @rule(
        target=orders,
        account=accounts,
        pair=st.sampled_from(tuple(PAIRS)),
        side=sides,
        notional=order_notionals,
        offsets=st.tuples(st.integers(min_value=1, max_value=300), st.integers(min_value=1, max_value=300)),
        side_effect=side_effects,
        isolated=st.booleans(),
    )
    def oco_order(
        self,
        account: str,
        pair: str,
        side: str,
        notional: Decimal,
        offsets: tuple[int, int],
        side_effect: str,
        isolated: bool,
    ) -> Any:
        """An OCO: the take-profit limit on one side of the last price, the stop and its limit on the other."""
        up, down = offsets
        last = self.prices[pair]
        above = (last * (1 + Decimal(up) / 1000)).quantize(CENT, rounding=ROUND_DOWN) + CENT
        below = (last * (1 - Decimal(down) / 1000)).quantize(CENT, rounding=ROUND_DOWN)
        limit, stop = (above, below) if side == "sell" else (below, above)
        isolated_flag = ["--isolated"] if isolated else []
        result = self.command(
            account,
            "trade",
            "oco",
            side,
            pair,
            self.quantity(pair, notional),
            "--price",
            text(limit),
            "--stop",
            text(stop),
            "--stop-limit",
            text(stop),
            "--side-effect",
            side_effect,
            *isolated_flag,
            expect=frozenset({0, 2, 3}),
        )
        if result.code != 0:
            return multiple()
        event("trade oco")
        return (account, int(result.json()["orderReports"][0]["orderId"]))

    @rule(account=accounts, pair=st.sampled_from(tuple(PAIRS)), sell=st.booleans(), isolated=st.booleans())
    def whole_position(self, account: str, pair: str, sell: bool, isolated: bool) -> None:
        """`trade sell PAIR all`, or `trade buy PAIR --close` (buy back the base debt and its interest)."""
        isolated_flag = ["--isolated"] if isolated else []
        words = ["sell", pair, "all"] if sell else ["buy", pair, "--close"]
        self.command(account, "trade", *words, *isolated_flag)

    @rule(account=accounts, loan=st.sampled_from(LOAN_WALLETS))
    def repay_max(self, account: str, loan: tuple[str, str]) -> None:
        wallet, asset = loan
        isolated = [] if wallet == "cross" else ["--isolated", wallet]
        self.command(account, "repay", asset, "max", *isolated)

    @rule(account=accounts, wallet=st.sampled_from(("cross", *PAIRS)))
    def close(self, account: str, wallet: str) -> None:
        isolated = [] if wallet == "cross" else ["--isolated", wallet]
        self.command(account, "close", "--yes", *isolated)

    def quantity(self, pair: str, notional: Decimal) -> str:
        step = PAIRS[pair][0]
        return text(max((notional / self.prices[pair]).quantize(step, rounding=ROUND_DOWN), step))

    def place(self, account: str, side: str, pair: str, size: list[str], side_effect: str, isolated: bool) -> Any:
        isolated_flag = ["--isolated"] if isolated else []
        result = self.command(account, "trade", side, pair, *size, "--side-effect", side_effect, *isolated_flag)
        if result.code != 0:
            return multiple()
        order = result.json()
        event(f"trade: {order['type']} {order['sideEffectType']} {order['status']}")
        return (account, int(order["orderId"]))

    @rule(order=orders)
    def cancel(self, order: tuple[str, int]) -> None:
        account, order_id = order
        self.command(account, "cancel", str(order_id))

    @rule(account=accounts)
    def cancel_all(self, account: str) -> None:
        self.command(account, "cancel", "--all", expect=frozenset({0}))

    # The first no-target rule with a single argument, by name: hypothesis draws it a little more often.
    @rule(move=st.tuples(st.sampled_from(tuple(PAIRS)), price_changes))
    def adjust_price(self, move: tuple[str, int]) -> None:
        """The price moves by up to ±40 % (per mille of the last price)."""
        pair, per_mille = move
        self.set_price_to(pair, self.on_tick(pair, per_mille))

    @rule(pair=st.sampled_from(tuple(PAIRS)), per_mille=st.integers(min_value=0, max_value=1000))
    def set_price(self, pair: str, per_mille: int) -> None:
        """The price jumps anywhere in the pair's range."""
        _, low, high, _ = PAIRS[pair]
        self.set_price_to(pair, (low + (high - low) * per_mille / 1000).quantize(CENT))

    def set_price_to(self, pair: str, price: Decimal) -> None:
        result = self.command("main", "price", "set", pair, text(price), expect=frozenset({0})).json()
        self.prices[pair] = price
        if result.get("triggered"):
            event("price set: triggered a stop")
        if result.get("filled"):
            event("price set: filled a resting order")

    @rule(hours=st.integers(min_value=0, max_value=72), minutes=st.integers(min_value=0, max_value=59))
    def accrue(self, hours: int, minutes: int) -> None:
        """The clock jumps, then cron's accrue runs up to now."""
        self.now += timedelta(hours=hours, minutes=minutes)
        self.command("main", "accrue", "--until", self.stamp(), expect=frozenset({0}))

    @rule(minutes=st.integers(min_value=1, max_value=180))
    def wait(self, minutes: int) -> None:
        """Time passes with no command: the next one must first charge the loan hours it crossed."""
        self.now += timedelta(minutes=minutes)

    @precondition(lambda self: not self.cooled_off and self.steps >= 10)
    @rule(account=accounts, period=st.sampled_from(("1d", "1d", "1w", "1m")))
    def cooloff(self, account: str, period: str) -> None:
        self.cooled_off = True  # at most once a run: it blocks new exposure for up to a month
        self.command(account, "cooloff", period, "--yes")

    # -- invariants ------------------------------------------------------------------------------------

    @invariant()
    def ledger_is_consistent(self) -> None:
        stamp = self.stamp()
        report = self.wallet.run("audit", "--json", now=stamp)
        assert report.code == 0, f"audit exited {report.code}:\n{report.out}\n{report.err}"
        assert report.json()["ok"] is True, report.out

        for account in self.known_accounts:
            status = self.wallet.run("status", "--all", "--json", now=stamp, account=account)
            assert status.code == 0, (account, status.code, status.err)
            for document in status.json():
                if document.get("marginLevel") is not None:
                    event(f"status: {document['marginLevelStatus']}")
                for row in document["userAssets"]:
                    where = f"{account} {document['wallet']} {row['asset']}"
                    free, locked = parse(row["free"]), parse(row["locked"])
                    borrowed, interest = parse(row["borrowed"]), parse(row["interest"])
                    assert min(free, locked, borrowed, interest) >= 0, f"{where}: negative field in {row}"
                    assert parse(row["netAsset"]) == free + locked - borrowed - interest, f"{where}: {row}"

        self.check_database()

    def check_database(self) -> None:
        """The ledger invariants again, computed here from the tables themselves (read-only)."""
        tables = self.read_tables()
        users = {account_id for account_id, (_, system) in tables["accounts"].items() if not system}
        pool = next(account_id for account_id, (name, _) in tables["accounts"].items() if name == "lending-pool")

        per_entry: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
        recomputed: dict[tuple[int, str, str, str], Decimal] = defaultdict(Decimal)
        for entry_id, account_id, wallet, asset, bucket, amount in tables["postings"]:
            per_entry[(entry_id, asset)] += amount
            recomputed[(account_id, wallet, asset, bucket)] += amount
        unbalanced = {key: total for key, total in per_entry.items() if total != 0}
        assert not unbalanced, f"entries whose postings do not balance: {unbalanced}"

        stored = {key: amount for key, amount in tables["balances"].items() if amount != 0}
        assert stored == {key: amount for key, amount in recomputed.items() if amount != 0}, (
            "materialized balances differ from the postings"
        )

        per_asset: dict[str, Decimal] = defaultdict(Decimal)
        for (account_id, wallet, asset, bucket), amount in tables["balances"].items():
            per_asset[asset] += amount
            if account_id in users and bucket in ("free", "locked"):
                assert amount >= 0, f"negative {bucket}: account {account_id} {wallet} {asset} {amount}"
        assert all(total == 0 for total in per_asset.values()), f"assets do not sum to zero: {dict(per_asset)}"

        owed: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for (account_id, _, asset, bucket), amount in tables["balances"].items():
            if account_id in users and bucket in ("borrowed", "interest"):
                owed[(asset, bucket)] -= amount
            elif account_id == pool and bucket in ("loaned", "interest_receivable"):
                owed[(asset, "borrowed" if bucket == "loaned" else "interest")] -= amount
        assert all(total == 0 for total in owed.values()), f"users' debt minus pool receivables: {dict(owed)}"

        held: dict[tuple[int, str, str, str], Decimal] = defaultdict(Decimal)
        #: OCO list → (what its open legs hold together, the most any open leg can spend)
        lists: dict[int, tuple[Decimal, Decimal]] = {}
        for row in tables["orders"]:
            account_id, wallet, pair, side, price, orig_qty, executed_qty, locked_asset, locked, list_id = row
            base, quote = pair.split("/")
            hold = (orig_qty * price).quantize(EIGHT_PLACES, rounding=ROUND_UP) if side == "BUY" else orig_qty
            where = f"open order of account {account_id}: {side} {orig_qty} {pair} @ {price}"
            assert executed_qty == 0, f"{where} is partly executed ({executed_qty})"
            assert locked_asset == (quote if side == "BUY" else base), f"{where} holds {locked_asset}"
            if list_id is None:
                assert locked == hold, f"{where} holds {locked}"
            else:
                # An OCO holds its funds once, on one leg: enough for whichever open leg would spend the most.
                together, most = lists.get(list_id, (Decimal(0), Decimal(0)))
                lists[list_id] = (together + locked, max(most, hold))
            held[(account_id, wallet, locked_asset, "locked")] += locked
        for list_id, (together, most) in lists.items():
            assert together >= most, f"OCO list {list_id} holds {together}, its legs may spend {most}"
        locked_balances = {
            key: amount for key, amount in tables["balances"].items() if key[3] == "locked" and amount != 0
        }
        assert locked_balances == {key: amount for key, amount in held.items() if amount != 0}, (
            f"locked {locked_balances} != open orders' holds {dict(held)}"
        )

        hours = Counter(tables["periodic"])
        repeated = [key for key, count in hours.items() if count > 1]
        assert not repeated, f"PERIODIC interest charged more than once for {repeated}"

    def read_tables(self) -> dict[str, Any]:
        queries = {
            "accounts": "SELECT id, name, is_system FROM accounts",
            "postings": "SELECT entry_id, account_id, wallet, asset, bucket, amount FROM postings",
            "balances": "SELECT account_id, wallet, asset, bucket, amount FROM balances",
            "orders": "SELECT account_id, wallet, pair, side, price, orig_qty, executed_qty, locked_asset, "
            "locked_amount, order_list_id FROM orders WHERE status = 'NEW'",
            "periodic": "SELECT account_id, wallet, asset, periodic_hour, hours FROM interest_charges "
            "WHERE periodic_hour IS NOT NULL",
        }
        with self.connect() as (connection, _):
            rows = {name: connection.execute(sql).fetchall() for name, sql in queries.items()}
        return {
            "accounts": {int(id_): (str(name), bool(system)) for id_, name, system in rows["accounts"]},
            "postings": [(int(e), int(a), w, s, b, parse(amount)) for e, a, w, s, b, amount in rows["postings"]],
            "balances": {(int(a), w, s, b): parse(amount) for a, w, s, b, amount in rows["balances"]},
            "orders": [
                (int(a), w, pair, side, parse(price), parse(qty), parse(done), asset, parse(locked), list_id)
                for a, w, pair, side, price, qty, done, asset, locked, list_id in rows["orders"]
            ],
            # A stored run of `hours` hours from periodic_hour is that many hourly charges.
            "periodic": [
                (a, w, s, _hour_after(str(first), index))
                for a, w, s, first, hours in rows["periodic"]
                for index in range(int(hours))
            ],
        }


def _drop_postgres_database(url: str) -> None:
    import psycopg

    assert POSTGRES_URL is not None
    name = url.rpartition("/")[2]
    admin = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _effective_settings() -> settings:
    """CI's settings; under --hypothesis-profile=thorough, raised to that profile's numbers.

    Read when the test runs, after pytest has loaded the profile (a class-level `settings(...)` would
    override the profile). Only "thorough" counts: hypothesis' own default profile asks for 50 steps.
    """
    if settings.get_current_profile_name() != "thorough":
        return CI_SETTINGS
    loaded = settings.get_profile("thorough")
    return settings(
        CI_SETTINGS,
        max_examples=max(CI_SETTINGS.max_examples, loaded.max_examples),
        stateful_step_count=max(CI_SETTINGS.stateful_step_count, loaded.stateful_step_count),
    )


class TestLedgerStateMachine(LedgerMachine.TestCase):  # type: ignore[misc,valid-type]
    @property
    def settings(self) -> settings:  # type: ignore[override]
        return _effective_settings()


def _hour_after(stored: str, hours: int) -> str:
    moment = datetime.fromisoformat(stored.replace("Z", "+00:00")) + timedelta(hours=hours)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
