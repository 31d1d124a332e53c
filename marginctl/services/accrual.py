"""Hourly interest (DESIGN §4, §6): one PERIODIC charge per loan at each UTC hour boundary, exactly once.

A loan's `accrued_through` is the last boundary it has been charged for. Every change of a loan first
charges the boundaries it has passed (so a catch-up always uses the principal of that time), and
`accrue` charges the rest for everyone; the unique key on (account, wallet, asset, hour) makes a second
charge of the same hour impossible.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from marginctl.config import Config
from marginctl.domain.clock import floor_hour, hours_after
from marginctl.domain.ledger import INTEREST, INTEREST_RECEIVABLE, LENDING_POOL, Posting
from marginctl.domain.margin import hourly_interest
from marginctl.domain.money import ZERO, format_amount, from_text
from marginctl.domain.rules import RateHistory
from marginctl.domain.times import from_storage, parse_time, to_display, to_storage
from marginctl.services.context import Context, WriteScope, run_write
from marginctl.store import ledger
from marginctl.store.database import Transaction

PERIODIC = "PERIODIC"
#: A catch-up writes its charges every this many interest-history rows (~120 bytes each in memory), so
#: its memory stays bounded however many hours it covers (2000 to 2099 holds 876,599 boundaries). Each
#: batch is one `interest` entry per account: 24 hours of 10,000 loans still fit in one.
FLUSH_ROWS = 250_000
#: Rows per INSERT batch: the parameter dicts are built only for this many at a time.
INSERT_ROWS = 10_000

#: One interest-history row: account, wallet, asset, stored hour, principal, daily rate, interest.
ChargeRow = tuple[int, str, str, str, Decimal, Decimal, Decimal]


@dataclass(frozen=True)
class Loan:
    account_id: int
    wallet: str
    asset: str
    principal: Decimal
    accrued_through: datetime


def _loans(tx: Transaction, account_id: int | None = None) -> list[Loan]:
    """Every loan clock, with the principal outstanding now."""
    sql = (
        "SELECT l.account_id, l.wallet, l.asset, l.accrued_through, b.amount FROM loan_accruals l "
        "LEFT JOIN balances b ON b.account_id = l.account_id AND b.wallet = l.wallet AND b.asset = l.asset "
        "AND b.bucket = 'borrowed'"
    )
    params: dict[str, Any] = {}
    if account_id is not None:
        sql += " WHERE l.account_id = :account_id"
        params["account_id"] = account_id
    hours: dict[str, datetime] = {}
    loans = []
    for row in tx.execute(sql, params):
        stored = str(row["accrued_through"])
        if stored not in hours:
            hours[stored] = from_storage(stored)
        loans.append(
            Loan(
                int(row["account_id"]),
                str(row["wallet"]),
                str(row["asset"]),
                -from_text(row["amount"]) if row["amount"] is not None else ZERO,
                hours[stored],
            )
        )
    return loans


class InterestCharger:
    """Charges PERIODIC hours in memory and writes them in batches: one `interest` entry per account per
    batch (however many hours it covers) and one interest-history row per loan and hour.

    A catch-up of 24 hours so writes 24× fewer postings and balance updates; a batch is written once it
    holds FLUSH_ROWS rows (`full`), and `flush` before anything reads the balances (a liquidation) keeps
    the ledger exact at every moment it is looked at.
    """

    def __init__(self, tx: Transaction, config: Config, pool_id: int) -> None:
        self.tx = tx
        self.config = config
        self.pool_id = pool_id
        self.pending: dict[int, dict[tuple[str, str], Decimal]] = {}
        self.hours: dict[int, tuple[datetime, datetime]] = {}
        self.rows: list[ChargeRow] = []
        from marginctl.services.rules import load_versions

        self.places = {asset: settings.decimals for asset, settings in config.assets.items()}
        # Each hour is charged at the daily rate in force in that hour (`config apply` changes it): an
        # asset whose rate never changed has one rate for every hour, the others are looked up per hour.
        self.rate_history = RateHistory(load_versions(tx))
        self.constant_rates = {asset: settings.daily_interest_rate for asset, settings in config.assets.items()}
        self.changing_rates = [asset for asset in self.constant_rates if self.rate_history.changes_of(asset) > 1]
        # A principal is charged the same every hour it and its rate do not change: compute each once per run.
        self.memo: dict[tuple[str, Decimal, Decimal], Decimal] = {}
        self.flush_rows = FLUSH_ROWS

    def rates_at(self, hour: datetime) -> dict[str, Decimal]:
        if not self.changing_rates:
            return self.constant_rates
        return {
            **self.constant_rates,
            **{
                asset: self.rate_history.rate_at(asset, hour, self.constant_rates[asset])
                for asset in self.changing_rates
            },
        }

    def full(self) -> bool:
        return len(self.rows) >= self.flush_rows

    def charge(self, loans: list[Loan], hour: datetime) -> list[tuple[Loan, Decimal]]:
        stored_hour = to_storage(hour)
        charged = []
        rates = self.rates_at(hour)
        for loan in loans:
            if loan.principal <= 0:
                continue
            daily_rate = rates[loan.asset]
            memo_key = (loan.asset, loan.principal, daily_rate)
            interest = self.memo.get(memo_key)
            if interest is None:
                interest = self.memo[memo_key] = hourly_interest(loan.principal, daily_rate, self.places[loan.asset])
            if interest <= 0:
                continue
            owed = self.pending.setdefault(loan.account_id, {})
            key = (loan.wallet, loan.asset)
            owed[key] = owed.get(key, ZERO) + interest
            first, _ = self.hours.get(loan.account_id, (hour, hour))
            self.hours[loan.account_id] = (first, hour)
            self.rows.append(
                (loan.account_id, loan.wallet, loan.asset, stored_hour, loan.principal, daily_rate, interest)
            )
            charged.append((loan, interest))
        return charged

    def flush(self) -> None:
        if not self.pending:
            return
        accounts = list(self.pending)
        entries = []
        for account_id in accounts:
            first, last = self.hours[account_id]
            span = to_display(first) if first == last else f"{to_display(first)} to {to_display(last)}"
            receivable: dict[str, Decimal] = defaultdict(lambda: ZERO)
            postings = []
            for (wallet, asset), interest in self.pending[account_id].items():
                postings.append(Posting(account_id, wallet, asset, INTEREST, -interest))
                receivable[asset] += interest
            postings += [
                Posting(self.pool_id, "spot", asset, INTEREST_RECEIVABLE, total) for asset, total in receivable.items()
            ]
            entries.append(ledger.NewEntry(account_id, "interest", last, postings, memo=f"{PERIODIC} {span}"))
        entry_of = dict(zip(accounts, ledger.post_entries(self.tx, entries), strict=True))
        for start in range(0, len(self.rows), INSERT_ROWS):
            self.tx.executemany(
                "INSERT INTO interest_charges (entry_id, account_id, wallet, asset, charged_at, type, "
                "periodic_hour, principal, daily_rate, interest) VALUES (:entry_id, :account_id, :wallet, :asset, "
                ":hour, 'PERIODIC', :hour, :principal, :daily_rate, :interest)",
                [
                    {
                        "entry_id": entry_of[account_id],
                        "account_id": account_id,
                        "wallet": wallet,
                        "asset": asset,
                        "hour": hour,
                        "principal": principal,
                        "daily_rate": daily_rate,
                        "interest": interest,
                    }
                    for account_id, wallet, asset, hour, principal, daily_rate, interest in self.rows[
                        start : start + INSERT_ROWS
                    ]
                ],
            )
        self.pending, self.hours, self.rows = {}, {}, []


def catch_up_account(tx: Transaction, config: Config, account_id: int, at: datetime) -> None:
    """Charge the boundaries an account's loans have passed, before anything changes a principal."""
    due = [loan for loan in _loans(tx, account_id) if loan.accrued_through < floor_hour(at)]
    if not due:
        return
    charger = InterestCharger(tx, config, ledger.account_ids(tx, [LENDING_POOL])[LENDING_POOL])
    for hour in hours_after(min(loan.accrued_through for loan in due), at):
        charger.charge([loan for loan in due if loan.accrued_through < hour], hour)
        if charger.full():
            charger.flush()
    charger.flush()
    _mark_accrued(tx, floor_hour(at), account_id)


def open_loan_clock(tx: Transaction, account_id: int, wallet: str, asset: str, at: datetime) -> None:
    """A new loan owes no PERIODIC interest for boundaries before it (ON_BORROW covers its first hour)."""
    tx.execute(
        "INSERT INTO loan_accruals (account_id, wallet, asset, accrued_through) "
        "VALUES (:account_id, :wallet, :asset, :hour) ON CONFLICT DO NOTHING",
        {"account_id": account_id, "wallet": wallet, "asset": asset, "hour": to_storage(floor_hour(at))},
    )


def _mark_accrued(tx: Transaction, hour: datetime, account_id: int | None = None) -> None:
    sql = "UPDATE loan_accruals SET accrued_through = :hour WHERE accrued_through < :hour"
    params: dict[str, Any] = {"hour": to_storage(hour)}
    if account_id is not None:
        sql += " AND account_id = :account_id"
        params["account_id"] = account_id
    tx.execute(sql, params)


@dataclass
class AccrualSummary:
    hours: int = 0
    charges: int = 0
    totals: dict[str, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))


def accrue_through(scope: WriteScope, until: datetime, summary: AccrualSummary, report: Any, book: Any = None) -> None:
    """Charge, in hour order, every boundary ≤ `until` not yet charged, with a risk check at each one."""
    from marginctl.services.prices import asset_prices
    from marginctl.services.risk_check import RiskBook, check_risk

    target = floor_hour(until)
    loans = [loan for loan in _loans(scope.tx) if loan.accrued_through < target]
    if not loans:
        return
    book = book if book is not None else RiskBook.load(scope.tx)
    charger = InterestCharger(scope.tx, scope.config, scope.system_ids[LENDING_POOL])
    prices = asset_prices(scope.tx, scope.config)
    # One scope moved from hour to hour (a copy per hour costs more than the hour's charge); what the risk
    # check records keeps its own copy.
    hour_scope = dataclasses.replace(scope, request_id=None)

    def write_pending() -> None:
        charger.flush()
        _mark_accrued(scope.tx, hour_scope.at)

    for hour in hours_after(min(loan.accrued_through for loan in loans), until):
        charged = charger.charge([loan for loan in loans if loan.accrued_through < hour], hour)
        for loan, interest in charged:
            summary.totals[loan.asset] += interest
            book.add_interest(loan.account_id, loan.wallet, loan.asset, interest)
        summary.charges += len(charged)
        summary.hours += 1
        hour_scope.at = hour
        if charger.full():
            write_pending()
        hour_report = check_risk(hour_scope, None, book, before_changes=write_pending, prices=prices)
        if hour_report.margin_calls or hour_report.liquidations:
            report.extend(hour_report)
        if hour_report.liquidations:
            # A liquidation repaid those loans: later hours use the principals of now.
            loans = [loan for loan in _loans(scope.tx) if loan.accrued_through < target]
    charger.flush()
    _mark_accrued(scope.tx, target)


def accrue(context: Context, until_text: str | None, client_id: str | None = None) -> dict[str, Any]:
    """Charge every boundary passed since the last run, for every account; safe to repeat (cron)."""
    from marginctl.services.risk_check import RiskReport

    until = parse_time(until_text) if until_text else None  # default: the write's own time, read under its lock
    config = context.config

    def act(scope: WriteScope) -> dict[str, Any]:
        summary = AccrualSummary()
        report = RiskReport()
        accrue_through(scope, scope.at, summary, report)
        return {
            "until": to_display(scope.at),
            "hoursProcessed": summary.hours,
            "charges": summary.charges,
            "interest": {
                asset: format_amount(total, config.places(asset)) for asset, total in sorted(summary.totals.items())
            },
            **report.as_json(),
        }

    arguments = {"until": to_storage(until) if until else None}
    return run_write(context, "accrue", arguments, client_id, act, at=until, catch_up=False)
