"""Charging interest hours (DESIGN §4, §6): one PERIODIC charge per loan at each UTC hour boundary, exactly once.

A loan's `accrued_through` is the last boundary it has been charged for. Every change of a loan first
charges the boundaries it has passed (so a catch-up always uses the principal of that time): the write
path (services/context.py) catches an account up before its command changes anything, and `accrue`
(services/accrual.py) charges the rest for everyone. The hours a catch-up charges are charged in closed
form (domain/interest.py): one run per loan and rate, stored as one row, and one posting per loan.
Exactly once: a run starts the hour after the loan's clock and the clock moves to its end in the same
write transaction (writers are serialized); the unique key on (account, wallet, asset, first hour)
refuses a second run from the same hour.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from marginctl.config import Config
from marginctl.domain.clock import floor_hour
from marginctl.domain.interest import ONE_HOUR, Run, batch_ends, hours_owed, loan_runs, split_runs
from marginctl.domain.ledger import INTEREST, INTEREST_RECEIVABLE, LENDING_POOL, Posting
from marginctl.domain.margin import hourly_interest
from marginctl.domain.money import ZERO, from_text
from marginctl.domain.rules import RateHistory, rate_in_force
from marginctl.domain.times import from_storage, to_display, to_storage
from marginctl.store import interest as store
from marginctl.store import ledger
from marginctl.store.database import Transaction

PERIODIC = "PERIODIC"
#: A catch-up writes its charges in batches of whole hours holding this many hourly rows (each batch one
#: entry per account and a run per loan): 24 hours of 10,000 loans fit in one, and 2000 to 2099 (876,599
#: boundaries) of one loan is 4.
FLUSH_ROWS = 250_000


class Loan(NamedTuple):
    account_id: int
    wallet: str
    asset: str
    principal: Decimal
    accrued_through: datetime


def loans_due(tx: Transaction, before: datetime, account_id: int | None = None) -> list[Loan]:
    """Every loan clock behind `before`, with the principal outstanding now."""
    hours: dict[str, datetime] = {}
    loans = []
    for account, wallet, asset, stored, amount in store.due_loans(tx, before, account_id):
        if stored not in hours:
            hours[stored] = from_storage(stored)
        loans.append(Loan(account, wallet, asset, -from_text(amount) if amount is not None else ZERO, hours[stored]))
    return loans


class InterestCharger:
    """Charges PERIODIC hours in memory and writes them at once: one `interest` entry per account (however
    many hours it covers), with one posting per loan, and one stored run per loan and rate.

    `charge` charges a loan's hours in closed form; `charge_hour` one hour of some loans (extending each
    loan's open run); `flush` before anything reads the balances (a liquidation) keeps the ledger exact at
    every moment it is looked at.
    """

    def __init__(self, tx: Transaction, config: Config, pool_id: int) -> None:
        self.tx = tx
        self.config = config
        self.pool_id = pool_id
        from marginctl.services.rules import load_versions

        self.places = {asset: settings.decimals for asset, settings in config.assets.items()}
        # Each hour is charged at the daily rate in force in that hour (`config apply` changes it): an
        # asset whose rate never changed has one rate for every hour, the others split a catch-up into runs.
        history = RateHistory(load_versions(tx))
        self.schedule: dict[str, tuple[list[datetime], list[Decimal]]] = {
            asset: (
                (history.times[asset], history.rates[asset])
                if history.changes_of(asset) > 1
                else ([], [settings.daily_interest_rate])
            )
            for asset, settings in config.assets.items()
        }
        #: (account, wallet, asset) → the loan and its runs not yet written, in the order loans were added.
        self.pending: dict[tuple[int, str, str], tuple[Loan, list[Run]]] = {}
        # A principal costs the same every hour at one rate: each hour's interest is computed once per run.
        self.memo: dict[tuple[str, Decimal, Decimal], Decimal] = {}
        #: (accrued through, until) → (first hour owed, hours owed): loans share their clocks.
        self.spans: dict[tuple[datetime, datetime], tuple[datetime, int]] = {}

    def plan(self, loan: Loan, until: datetime) -> list[Run]:
        """What the loan owes for its boundaries through `until` (nothing is recorded)."""
        times, rates = self.schedule[loan.asset]
        if times or loan.principal <= 0:
            return loan_runs(loan.principal, loan.accrued_through, until, self.places[loan.asset], times, rates)
        span = self.spans.get((loan.accrued_through, until))
        if span is None:
            span = (floor_hour(loan.accrued_through) + ONE_HOUR, hours_owed(loan.accrued_through, until))
            self.spans[(loan.accrued_through, until)] = span
        first, hours = span
        if hours == 0:
            return []
        key = (loan.asset, loan.principal, rates[0])
        interest = self.memo.get(key)
        if interest is None:
            interest = self.memo[key] = hourly_interest(loan.principal, rates[0], self.places[loan.asset])
        if interest <= 0:
            return []
        return [Run(first, hours, rates[0], interest)]

    def reserve(self, loans: list[Loan]) -> None:
        """Keep these loans' places in the next write in this order, whatever order they are charged in."""
        for loan in loans:
            self.pending.setdefault((loan.account_id, loan.wallet, loan.asset), (loan, []))

    def add(self, loan: Loan, runs: list[Run]) -> None:
        """Hold `runs` of `loan`; a run that goes on where the held one ends (the same rate and hourly
        interest) lengthens it, so hours charged one catch-up at a time are still one stored run."""
        if not runs:
            return
        key = (loan.account_id, loan.wallet, loan.asset)
        held = self.pending.get(key)
        if held is None:
            self.pending[key] = (loan, list(runs))
            return
        # Held hours are stored with the held loan's principal: a borrow or repay flushes before it changes one.
        assert held[0].principal == loan.principal, f"principal changed while hours were held: {key}"
        held_runs = held[1]
        for run in runs:
            last = held_runs[-1] if held_runs else None
            if (
                last is not None
                and last.daily_rate == run.daily_rate
                and last.interest == run.interest
                and last.last_hour + ONE_HOUR == run.first_hour
            ):
                held_runs[-1] = last._replace(hours=last.hours + run.hours)
            else:
                held_runs.append(run)

    def charge_hour(self, loans: list[Loan], hour: datetime) -> list[tuple[Loan, Decimal]]:
        """Charge boundary `hour` to each loan that owes it."""
        charged = []
        for loan in loans:
            if loan.accrued_through >= hour:
                continue
            times, rates = self.schedule[loan.asset]
            if loan.principal <= 0:
                continue
            rate = rate_in_force(times, rates, hour) if times else rates[0]
            key = (loan.asset, loan.principal, rate)
            interest = self.memo.get(key)
            if interest is None:
                interest = self.memo[key] = hourly_interest(loan.principal, rate, self.places[loan.asset])
            if interest <= 0:
                continue
            run = Run(hour, 1, rate, interest)
            loan_key = (loan.account_id, loan.wallet, loan.asset)
            if loan_key not in self.pending:
                self.pending[loan_key] = (loan, [])
            held = self.pending[loan_key][1]
            last = held[-1] if held else None
            if last is not None and last.daily_rate == run.daily_rate and last.last_hour + ONE_HOUR == hour:
                held[-1] = last._replace(hours=last.hours + 1)
            else:
                held.append(run)
            charged.append((loan, run.interest))
        return charged

    def full(self) -> bool:
        return sum(run.hours for _, runs in self.pending.values() for run in runs) >= FLUSH_ROWS

    def flush(self, through: datetime | None = None) -> None:
        """Write what is pending, in batches of whole hours of at least FLUSH_ROWS hourly rows (as an
        hour-by-hour catch-up wrote them), each one `interest` entry per account with one posting per loan.

        With `through`, only the hours up to it are written and the later ones stay pending: a liquidation at
        that hour is then booked after every interest hour before it and before every hour after it.
        """
        if not self.pending:
            return
        pending = [(loan, runs) for loan, runs in self.pending.values() if runs]
        self.pending = {}
        if through is not None:
            now = []
            for loan, runs in pending:
                before, after = split_runs(runs, [through])
                if before:
                    now.append((loan, before))
                if after:
                    self.pending[(loan.account_id, loan.wallet, loan.asset)] = (loan, after)
            pending = now
        ends = batch_ends(((run.first_hour, run.hours) for _, runs in pending for run in runs), FLUSH_ROWS)
        if not ends:
            self._write(pending)
            return
        split = [(loan, split_runs(runs, ends)) for loan, runs in pending]
        for batch in range(len(ends) + 1):
            self._write([(loan, batches[batch]) for loan, batches in split if batches[batch]])

    def _write(self, charged: list[tuple[Loan, list[Run]]]) -> None:
        if not charged:
            return
        by_account: dict[int, list[tuple[Loan, list[Run]]]] = defaultdict(list)
        for loan, runs in charged:
            by_account[loan.account_id].append((loan, runs))
        accounts = list(by_account)
        entries = []
        spans: dict[tuple[datetime, datetime], str] = {}
        for account_id in accounts:
            loans = by_account[account_id]
            first = min(runs[0].first_hour for _, runs in loans)
            last = max(runs[-1].last_hour for _, runs in loans)
            span = spans.get((first, last))
            if span is None:
                span = spans[(first, last)] = (
                    to_display(first) if first == last else f"{to_display(first)} to {to_display(last)}"
                )
            owed: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
            receivable: dict[str, Decimal] = defaultdict(lambda: ZERO)
            for loan, runs in loans:
                total = sum((run.total for run in runs), ZERO)
                owed[(loan.wallet, loan.asset)] += total
                receivable[loan.asset] += total
            postings = [Posting(account_id, wallet, asset, INTEREST, -total) for (wallet, asset), total in owed.items()]
            postings += [
                Posting(self.pool_id, "spot", asset, INTEREST_RECEIVABLE, total) for asset, total in receivable.items()
            ]
            entries.append(ledger.NewEntry(account_id, "interest", last, postings, memo=f"{PERIODIC} {span}"))
        entry_of = dict(zip(accounts, ledger.post_entries(self.tx, entries), strict=True))
        # Loans in the order they were loaded, each loan's runs in hour order: at any hour the rows of two
        # loans are in the same order as when each hour was one stored row (`interest` breaks ties by id).
        rows = []
        stored: dict[datetime, str] = {}
        for loan, runs in charged:
            for run in runs:
                first_text = stored.get(run.first_hour) or stored.setdefault(run.first_hour, to_storage(run.first_hour))
                last = run.last_hour
                rows.append(
                    store.NewRun(
                        entry_of[loan.account_id],
                        loan.account_id,
                        loan.wallet,
                        loan.asset,
                        first_text,
                        (stored.get(last) or stored.setdefault(last, to_storage(last)))
                        if run.hours > 1
                        else first_text,
                        PERIODIC,
                        first_text,
                        run.hours,
                        loan.principal,
                        run.daily_rate,
                        run.interest,
                    )
                )
        store.insert_runs(self.tx, rows)


def accounts_with_loans_due(tx: Transaction, at: datetime, account_ids: list[int]) -> set[int]:
    """Which of these accounts `catch_up_account` would charge at `at`."""
    return store.accounts_with_loans_due(tx, floor_hour(at), account_ids)


def catch_up_account(tx: Transaction, config: Config, account_id: int, at: datetime) -> None:
    """Charge the boundaries an account's loans have passed, before anything changes a principal."""
    target = floor_hour(at)
    due = loans_due(tx, target, account_id)
    if not due:
        return
    charger = InterestCharger(tx, config, ledger.account_ids(tx, [LENDING_POOL])[LENDING_POOL])
    for loan in due:
        charger.add(loan, charger.plan(loan, target))
    charger.flush()
    store.mark_accrued(tx, target, account_id)


def open_loan_clock(tx: Transaction, account_id: int, wallet: str, asset: str, at: datetime) -> None:
    """A new loan owes no PERIODIC interest for boundaries before it (ON_BORROW covers its first hour)."""
    store.open_loan_clock(tx, account_id, wallet, asset, floor_hour(at))
