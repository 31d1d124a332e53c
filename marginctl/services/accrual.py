"""`accrue`: every loan's interest hours up to the clock, with the hourly risk check (DESIGN §4, §6).

A loan's `accrued_through` is the last boundary it has been charged for. Every change of a loan first
charges the boundaries it has passed (so a catch-up always uses the principal of that time), and
`accrue` charges the rest for everyone. The hours a catch-up charges are charged in closed form
(domain/interest.py): one run per loan and rate, stored as one row, and one posting per loan.
Exactly once: a run starts the hour after the loan's clock and the clock moves to its end in the same
write transaction (writers are serialized); the unique key on (account, wallet, asset, first hour)
refuses a second run from the same hour.
"""

from __future__ import annotations

import dataclasses
import gc
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from marginctl.domain.clock import floor_hour, hours_after
from marginctl.domain.interest import hours_owed
from marginctl.domain.ledger import LENDING_POOL
from marginctl.domain.margin import IN_DANGER, margin_level_status
from marginctl.domain.money import ZERO, format_amount
from marginctl.domain.times import parse_time, to_display, to_storage
from marginctl.services.catch_up import InterestCharger, Loan, loans_due
from marginctl.services.context import Context, WriteScope, run_write
from marginctl.store import interest as store


@dataclass
class AccrualSummary:
    hours: int = 0
    charges: int = 0
    totals: dict[str, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))


def accrue_through(
    scope: WriteScope,
    until: datetime,
    summary: AccrualSummary,
    report: Any,
    book: Any = None,
    charger: InterestCharger | None = None,
) -> None:
    """Charge every boundary ≤ `until` not yet charged, with a risk check at each one.

    With a `charger` of the caller's, what is charged may stay held in it (the loan clocks move, the book
    counts the interest): the caller flushes it before anything reads the balances, as a replay does before
    a price that can fill or liquidate. A liquidation on the way is booked after every hour before it.

    A catch-up leaves prices as they are and only adds interest, so a wallet's margin level only falls from
    hour to hour: a wallet the check would not act on once every hour is charged (NORMAL, or unpriced) is
    left alone at every hour before. Such wallets' loans are charged in closed form at once; only the
    wallets the check acts on go hour by hour, each hour checked, as before. After a liquidation the
    principals of now are read again and the rest of the hours are decided the same way.
    """
    from marginctl.services.quotes import asset_prices
    from marginctl.services.risk_check import RiskBook

    # A catch-up of 100,000 loans makes a few objects per loan and no reference cycles: the cyclic collector
    # would walk the whole heap many times over for nothing (a third of the time of an hour's accrual).
    collecting = gc.isenabled()
    gc.disable()
    try:
        target = floor_hour(until)
        loans = loans_due(scope.tx, target)
        if not loans:
            return
        book = book if book is not None else RiskBook.load(scope.tx)
        held = charger is not None
        if charger is None:
            charger = InterestCharger(scope.tx, scope.config, scope.system_ids[LENDING_POOL])
        prices = asset_prices(scope.tx, scope.config)
        summary.hours += hours_owed(min(loan.accrued_through for loan in loans), until)
        while loans:
            loans = _accrue_phase(scope, until, summary, report, book, charger, prices, loans, held)
        if not held:
            charger.flush()  # the hours after a last liquidation, held back until it was booked
    finally:
        if collecting:
            gc.enable()


def _accrue_phase(
    scope: WriteScope,
    until: datetime,
    summary: AccrualSummary,
    report: Any,
    book: Any,
    charger: InterestCharger,
    prices: dict[str, Decimal],
    loans: list[Loan],
    held: bool = False,
) -> list[Loan]:
    """Charge `loans` through `until`; returns the loans still due after a liquidation (else nothing).
    `held`: the caller flushes the charger (accrue_through)."""
    from marginctl.services.risk_check import RiskBook, check_risk

    tx, config = scope.tx, scope.config
    target = floor_hour(until)
    start = min(loan.accrued_through for loan in loans)
    plans = []
    add_interest = book.add_interest
    for loan in loans:
        runs = charger.plan(loan, target)
        total = sum((run.total for run in runs), ZERO) if runs else ZERO
        if total:
            add_interest(loan.account_id, loan.wallet, loan.asset, total)
        plans.append((loan, runs, total))
    watched = set()
    for key in book.balances:
        level = book.level(key, prices)
        if level is False:
            continue
        if margin_level_status(level, config.rules_for(key[1])) in IN_DANGER:
            watched.add(key)
    if watched:
        # Every loan's place in the batch, in the order loaded, as when every loan went hour by hour.
        charger.reserve(loans)
    totals = summary.totals
    for loan, runs, total in plans:
        if watched and (loan.account_id, loan.wallet) in watched:
            if total:
                add_interest(loan.account_id, loan.wallet, loan.asset, -total)
            continue
        if runs:
            charger.add(loan, runs)
            totals[loan.asset] += total
            summary.charges += sum(run.hours for run in runs)
    if not watched:
        if not held:
            charger.flush()
        store.mark_accrued(tx, target)
        return []
    watched_loans = [loan for loan in loans if (loan.account_id, loan.wallet) in watched]
    watched_book = RiskBook(balances={key: book.balances[key] for key in watched})
    # One scope moved from hour to hour (a copy per hour costs more than the hour's charge); what the risk
    # check records keeps its own copy.
    hour_scope = dataclasses.replace(scope, request_id=None)

    def write_pending(through: datetime | None = None) -> None:
        """Write what is charged so far: the watched loans through this hour, the others through `through`
        (before a liquidation: its hour) or through `target`."""
        charger.flush(through)
        store.mark_accrued(tx, target)
        store.set_clocks(
            tx,
            [
                (loan.account_id, loan.wallet, loan.asset, to_storage(max(loan.accrued_through, hour_scope.at)))
                for loan in watched_loans
            ],
        )

    def merge_back() -> None:
        for key in watched:
            book.values.pop(key, None)
            if key in watched_book.balances:
                book.balances[key] = watched_book.balances[key]
            else:
                book.balances.pop(key, None)

    for hour in hours_after(start, until):
        charged = charger.charge_hour(watched_loans, hour)
        for loan, interest in charged:
            summary.totals[loan.asset] += interest
            watched_book.add_interest(loan.account_id, loan.wallet, loan.asset, interest)
        summary.charges += len(charged)
        hour_scope.at = hour
        if charger.full():
            write_pending()
        hour_report = check_risk(
            hour_scope, None, watched_book, before_changes=lambda: write_pending(hour_scope.at), prices=prices
        )
        if hour_report.margin_calls or hour_report.liquidations:
            report.extend(hour_report)
        if hour_report.liquidations:
            # A liquidation repaid those loans: later hours use the principals of now.
            merge_back()
            return loans_due(tx, target) if hour < target else []
    if not held:
        charger.flush()
    store.mark_accrued(tx, target)
    merge_back()
    return []


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
