"""Interest in closed form (DESIGN §6): the hours a loan owes, what N hours cost, the rows `interest` lists.

A loan's principal changes only by borrow and repay (which catch the loan up first), and an asset's daily
rate only at a recorded rule change, so the hours a catch-up charges fall into a few runs of one principal
and one rate. A run costs `hours × hourly_interest(principal, rate)`: each hour is rounded as before, and
N equal rounded hours are N times the rounded hour.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import NamedTuple

from marginctl.domain.audit import Violation
from marginctl.domain.clock import floor_hour
from marginctl.domain.margin import hourly_interest
from marginctl.domain.rules import rate_in_force
from marginctl.domain.times import to_storage

ONE_HOUR = timedelta(hours=1)


class Run(NamedTuple):
    """`hours` consecutive hour boundaries from `first_hour` on, each charged `interest` at `daily_rate`."""

    first_hour: datetime
    hours: int
    daily_rate: Decimal
    interest: Decimal

    @property
    def last_hour(self) -> datetime:
        return self.first_hour + (self.hours - 1) * ONE_HOUR

    @property
    def total(self) -> Decimal:
        return self.hours * self.interest


def hours_owed(accrued_through: datetime, until: datetime) -> int:
    """How many boundaries H a loan charged through `accrued_through` owes: accrued_through < H ≤ until."""
    return max(0, (floor_hour(until) - floor_hour(accrued_through)) // ONE_HOUR)


def rate_runs(
    after: datetime, hours: int, change_times: Sequence[datetime], rates: Sequence[Decimal]
) -> list[tuple[datetime, int, Decimal]]:
    """The `hours` boundaries after `after`, split where the daily rate changes: (first hour, hours, rate).

    The rate of hour H is the newest rate set strictly before H (a change at T applies to the hours after T),
    and before the first change the first rate (RateHistory.rate_at); `rates` pairs with `change_times`.
    """
    runs: list[tuple[datetime, int, Decimal]] = []
    hour = floor_hour(after) + ONE_HOUR
    end = floor_hour(after) + hours * ONE_HOUR
    while hour <= end:
        index = bisect_left(change_times, hour)
        rate = rate_in_force(change_times, rates, hour)
        # The rate holds until the first hour after the next change (if any is left).
        stop = end if index >= len(change_times) else min(end, floor_hour(change_times[index]))
        count = (stop - hour) // ONE_HOUR + 1
        if runs and runs[-1][2] == rate:
            runs[-1] = (runs[-1][0], runs[-1][1] + count, rate)
        else:
            runs.append((hour, count, rate))
        hour = stop + ONE_HOUR
    return runs


def loan_runs(
    principal: Decimal,
    accrued_through: datetime,
    until: datetime,
    places: int,
    change_times: Sequence[datetime],
    rates: Sequence[Decimal],
) -> list[Run]:
    """What a loan owes for the boundaries in (accrued_through, until], as runs; free hours are left out."""
    hours = hours_owed(accrued_through, until)
    if hours == 0 or principal <= 0:
        return []
    runs = []
    for first, count, rate in rate_runs(accrued_through, hours, change_times, rates):
        interest = hourly_interest(principal, rate, places)
        if interest > 0:
            runs.append(Run(first, count, rate, interest))
    return runs


class StoredRun(NamedTuple):
    """A charge as stored: one hour (ON_BORROW, or PERIODIC of one hour) or a run of PERIODIC hours."""

    id: int
    charged_at: datetime
    hours: int


def hours_since(run: StoredRun, since: datetime | None) -> int:
    """How many of the run's rows are at or after `since`."""
    if since is None or run.charged_at >= since:
        return run.hours
    last = run.charged_at + (run.hours - 1) * ONE_HOUR
    if last < since:
        return 0
    return (last - since) // ONE_HOUR + 1


def _rows_newest_first(run: StoredRun, since: datetime | None) -> Iterator[tuple[datetime, int, int]]:
    """(time, id, hour index) of the run's rows at or after `since`, newest first."""
    count = hours_since(run, since)
    for index in range(run.hours - 1, run.hours - 1 - count, -1):
        yield run.charged_at + index * ONE_HOUR, run.id, index


def newest_rows(runs: Iterable[StoredRun], since: datetime | None, limit: int) -> list[tuple[datetime, int, int]]:
    """The `limit` newest rows (time, run id, hour index) of the runs, newest first, ties by the newer id first:
    the order of one stored row per hour (charged_at DESC, id DESC)."""
    merged = heapq.merge(
        *(_rows_newest_first(run, since) for run in runs), key=lambda row: (row[0], row[1]), reverse=True
    )
    rows: list[tuple[datetime, int, int]] = []
    for row in merged:
        if len(rows) >= limit:
            break
        rows.append(row)
    return rows


def interest_hours_unique(runs: Iterable[tuple[int, str, str, datetime, int]]) -> list[Violation]:
    """Each (account, wallet, asset, hour) is charged PERIODIC interest at most once: a loan's runs of hours
    (account, wallet, asset, first hour, hours) never overlap."""
    by_loan: dict[tuple[int, str, str], list[tuple[datetime, int]]] = {}
    for account_id, wallet, asset, first, hours in runs:
        by_loan.setdefault((account_id, wallet, asset), []).append((first, hours))
    violations = []
    for key in sorted(by_loan):
        covered_through: datetime | None = None
        for first, hours in sorted(by_loan[key]):
            last = first + (hours - 1) * ONE_HOUR
            if covered_through is not None and first <= covered_through:
                violations.append(
                    Violation(
                        "interest_hours_unique",
                        f"account {key[0]} {key[1]} {key[2]} {to_storage(first)}",
                        f"charged again through {to_storage(min(last, covered_through))}",
                    )
                )
            covered_through = last if covered_through is None else max(covered_through, last)
    return violations


def batch_ends(spans: Iterable[tuple[datetime, int]], limit: int) -> list[datetime]:
    """Where a catch-up's hourly rows are cut into batches of whole hours: a batch ends at the first hour by
    which it holds at least `limit` rows (one row per run covering an hour); the rest is the last batch.

    `spans` are the runs as (first hour, hours). This is where an hour-by-hour catch-up wrote a batch.
    """
    changes: dict[datetime, int] = {}
    for first, hours in spans:
        changes[first] = changes.get(first, 0) + 1
        after = first + hours * ONE_HOUR
        changes[after] = changes.get(after, 0) - 1
    ends = []
    held = 0
    active = 0
    moments = sorted(changes)
    for here, following in pairwise(moments):
        active += changes[here]
        hour = here
        while active and hour < following:
            # hours from `hour` on until the batch holds `limit` rows: ceil((limit - held) / active)
            needed = -(-(limit - held) // active)
            end = hour + (needed - 1) * ONE_HOUR
            if end >= following:
                held += ((following - hour) // ONE_HOUR) * active
                break
            ends.append(end)
            held = 0
            hour = end + ONE_HOUR
    return ends


def split_runs(runs: Sequence[Run], ends: Sequence[datetime]) -> list[list[Run]]:
    """A loan's runs cut at each batch end (an end's hour stays in the batch it ends): one list per batch."""
    batches: list[list[Run]] = [[] for _ in range(len(ends) + 1)]
    for run in runs:
        first, last = run.first_hour, run.last_hour
        index = bisect_left(ends, first)
        while first <= last:
            stop = ends[index] if index < len(ends) else last
            stop = min(stop, last)
            batches[index].append(run._replace(first_hour=first, hours=(stop - first) // ONE_HOUR + 1))
            first = stop + ONE_HOUR
            index += 1
    return batches
