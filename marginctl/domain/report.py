"""`report`: a margin wallet's story hour by hour, from its journal and the prices of each hour.

At each hour end H the wallet holds every balance change made at or before H, and each pair is at its last
price recorded at or before H (before any, the config's starting price). The wallet is valued as `status`
values it (domain/margin.py). A run of PERIODIC interest hours is booked as one entry at its last hour; here
each hour of it counts from its own hour, as the interest was owed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from marginctl.domain.clock import ONE_HOUR, ceil_hour, floor_hour
from marginctl.domain.errors import InvalidInput
from marginctl.domain.ledger import INTEREST, asset_balance
from marginctl.domain.margin import MarginRules, Valuation, margin_level, margin_level_status, value_wallet
from marginctl.domain.money import ZERO
from marginctl.domain.prices import valuation_prices

#: About eleven years of hours: a longer report is refused rather than built point by point.
MAX_HOURS = 100_000

FILL = "fill"
MARGIN_CALL = "margin_call"
LIQUIDATION = "liquidation"


class BalanceChange(NamedTuple):
    """One posting of the wallet: the raw signed amount of a bucket (liabilities negative), at its entry's time."""

    entry_id: int
    at: datetime
    asset: str
    bucket: str
    amount: Decimal


class InterestRun(NamedTuple):
    """A PERIODIC charge of `hours` hours from `first_hour`, `interest` each, booked by entry `entry_id`."""

    entry_id: int
    asset: str
    first_hour: datetime
    hours: int
    interest: Decimal


class PriceMark(NamedTuple):
    """A pair's last price in an hour, at its own time."""

    pair: str
    at: datetime
    price: Decimal


class Event(NamedTuple):
    """A fill, a margin call or a liquidation; `entry_id` ties a liquidation's own fills to it."""

    at: datetime
    kind: str
    entry_id: int | None = None
    pair: str | None = None
    side: str | None = None
    price: Decimal | None = None
    qty: Decimal | None = None
    margin_level: Decimal | None = None


class HourPoint(NamedTuple):
    at: datetime
    #: The charted pairs' prices at this hour end (None before any price).
    prices: dict[str, Decimal | None]
    valuation: Valuation
    margin_level: Decimal | None
    status: str


class Summary(NamedTuple):
    hours: int
    start_net_asset_value: Decimal | None
    end_net_asset_value: Decimal | None
    min_margin_level: Decimal | None
    min_margin_level_at: datetime | None
    fills: int
    margin_calls: int
    liquidations: int


def hour_end_after(moment: datetime) -> datetime:
    """The first hour end strictly after `moment`: a report's default start, the first hour the wallet held
    anything for."""
    return floor_hour(moment) + ONE_HOUR


def hour_ends(since: datetime, until: datetime) -> list[datetime]:
    """Every UTC hour boundary H with since ≤ H ≤ until, refused beyond MAX_HOURS."""
    first = ceil_hour(since)
    if until < first:
        return []
    count = int((until - first) / ONE_HOUR) + 1
    if count > MAX_HOURS:
        raise InvalidInput(
            f"the range holds {count} hours; a report holds at most {MAX_HOURS} (about 11 years): "
            "narrow it with --since and --until"
        )
    return [first + index * ONE_HOUR for index in range(count)]


def spread_interest(changes: Iterable[BalanceChange], runs: Iterable[InterestRun]) -> list[BalanceChange]:
    """The changes in time order, each run's booked interest replaced by one change at each of its hours.

    An entry's interest posting of an asset is replaced only when its runs add up to it exactly (they do by
    construction); otherwise it stays as booked.
    """
    by_entry: dict[tuple[int, str], list[InterestRun]] = defaultdict(list)
    for run in runs:
        by_entry[(run.entry_id, run.asset)].append(run)
    spread: list[BalanceChange] = []
    for change in changes:
        key = (change.entry_id, change.asset)
        entry_runs = by_entry.get(key)
        booked = sum((run.interest * run.hours for run in entry_runs), ZERO) if entry_runs else None
        if change.bucket != INTEREST or entry_runs is None or booked != -change.amount:
            spread.append(change)
            continue
        for run in entry_runs:
            spread.extend(
                BalanceChange(change.entry_id, run.first_hour + index * ONE_HOUR, change.asset, INTEREST, -run.interest)
                for index in range(run.hours)
            )
    return sorted(spread, key=lambda change: change.at)


def charted_pairs(assets: Iterable[str], pairs: Sequence[str], valuation_asset: str) -> list[str]:
    """The pairs that price the wallet's assets in the valuation asset (`BTC/USDT` for BTC), in config order."""
    held = set(assets)
    return [pair for pair in pairs if pair.endswith(f"/{valuation_asset}") and pair.split("/")[0] in held]


def hourly_series(
    changes: Sequence[BalanceChange],
    marks: Sequence[PriceMark],
    starting_prices: Mapping[str, Decimal],
    hours: Sequence[datetime],
    charted: Sequence[str],
    valuation_asset: str,
    collateral_ratios: Mapping[str, Decimal],
    rules: MarginRules,
) -> list[HourPoint]:
    """The wallet at each hour end: `changes` and `marks` in time order (see `spread_interest`)."""
    raw: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    pair_prices = dict(starting_prices)
    points = []
    next_change = next_mark = 0
    for hour in hours:
        while next_change < len(changes) and changes[next_change].at <= hour:
            change = changes[next_change]
            raw[change.asset][change.bucket] += change.amount
            next_change += 1
        while next_mark < len(marks) and marks[next_mark].at <= hour:
            pair_prices[marks[next_mark].pair] = marks[next_mark].price
            next_mark += 1
        balances = [asset_balance(asset, buckets) for asset, buckets in raw.items()]
        valuation = value_wallet(balances, valuation_prices(pair_prices, valuation_asset), collateral_ratios)
        level = margin_level(valuation.total_asset_value, valuation.liability_value)
        points.append(
            HourPoint(
                hour,
                {pair: pair_prices.get(pair) for pair in charted},
                valuation,
                level,
                margin_level_status(level, rules),
            )
        )
    return points


def story_events(fills: Iterable[Event], risk_events: Iterable[Event]) -> list[Event]:
    """Fills, margin calls and liquidations in time order; a liquidation's own sales are part of it, not fills."""
    risk = list(risk_events)
    liquidation_entries = {event.entry_id for event in risk if event.kind == LIQUIDATION}
    kept = [fill for fill in fills if fill.entry_id is None or fill.entry_id not in liquidation_entries]
    return sorted([*kept, *risk], key=lambda event: event.at)


def summarize(points: Sequence[HourPoint], events: Sequence[Event]) -> Summary:
    """The range's first and last net asset value, its lowest margin level (at an hour end or where a margin
    call or liquidation measured it) and when, and its event counts."""
    lowest_level: Decimal | None = None
    lowest_at: datetime | None = None
    # A margin call or a liquidation records the level it acted at: often a dip between two hour ends.
    measured = [(point.margin_level, point.at) for point in points]
    measured += [(event.margin_level, event.at) for event in events if event.kind in (MARGIN_CALL, LIQUIDATION)]
    for level, moment in sorted(measured, key=lambda item: item[1]):
        if level is not None and (lowest_level is None or level < lowest_level):
            lowest_level, lowest_at = level, moment
    counts = {kind: sum(1 for event in events if event.kind == kind) for kind in (FILL, MARGIN_CALL, LIQUIDATION)}
    return Summary(
        hours=len(points),
        start_net_asset_value=points[0].valuation.net_asset_value if points else None,
        end_net_asset_value=points[-1].valuation.net_asset_value if points else None,
        min_margin_level=lowest_level,
        min_margin_level_at=lowest_at,
        fills=counts[FILL],
        margin_calls=counts[MARGIN_CALL],
        liquidations=counts[LIQUIDATION],
    )
