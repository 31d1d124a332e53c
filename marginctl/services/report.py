"""`report`: a margin wallet hour by hour (net asset value, debt, margin level, prices) with its events.

The range defaults to the hour ends after the wallet's first balance change through the end of the hour of
the wallet's last event (an hour that has not ended yet is left out). Values are rounded as `status` rounds
them. An hour end's price is the last one recorded at or before it that the history still holds: the history
keeps each hour's last price, so a price recorded exactly on the hour and followed by another in the same
hour is replaced, at that hour end, by the one before it (a replay's candle open by the previous close).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from marginctl.config import Config
from marginctl.domain import report as rules
from marginctl.domain.clock import ceil_hour, floor_hour
from marginctl.domain.errors import InvalidInput, TimeInFuture
from marginctl.domain.margin import margin_level_status
from marginctl.domain.money import format_amount, format_ratio, from_text
from marginctl.domain.names import CROSS, parse_pair
from marginctl.domain.times import from_storage, parse_time, to_display, to_storage
from marginctl.services.context import Context, lookup_account
from marginctl.services.status import value_text
from marginctl.store import ledger
from marginctl.store import prices as prices_store
from marginctl.store import report as store
from marginctl.store.book import LAST_EVENT_KEY
from marginctl.store.database import Transaction

#: The CSV's columns around the prices (one column per charted pair, named by the pair).
CSV_LEADING = ("time",)
CSV_TRAILING = (
    "totalAssetValue",
    "totalLiabilityValue",
    "totalNetAssetValue",
    "marginLevel",
    "marginLevelStatus",
)


def report(
    context: Context, isolated_pair: str | None = None, since: str | None = None, until: str | None = None
) -> dict[str, Any]:
    config = context.config
    wallet = parse_pair(isolated_pair, config.pairs) if isolated_pair else CROSS
    since_at = parse_time(since) if since is not None else None
    until_at = parse_time(until) if until is not None else None
    now = context.clock()
    for option, moment in (("--since", since_at), ("--until", until_at)):
        if moment is not None and moment > now:
            raise TimeInFuture(f"{option} {to_display(moment)} is later than the clock ({to_display(now)})")
    if since_at is not None and until_at is not None and since_at > until_at:
        raise InvalidInput(f"--since {to_display(since_at)} is after --until {to_display(until_at)}")
    with context.read() as tx:
        account = lookup_account(tx, context)
        account_id = int(account["id"]) if account is not None else None
        first = store.first_posting_time(tx, account_id, wallet) if account_id is not None else None
        if until_at is None:
            until_at = _default_until(tx, now)
            if since_at is not None and since_at > until_at:
                raise InvalidInput(
                    f"--since {to_display(since_at)} is after the wallet's last hour {to_display(until_at)}"
                )
        if since_at is None:
            since_at = rules.hour_end_after(from_storage(first)) if first is not None else until_at
        hours = rules.hour_ends(since_at, until_at) if first is not None or since is not None else []
        # By default the events start with the wallet's first change, which the first hour end holds.
        events_since = from_storage(first) if since is None and first is not None else since_at
        points, events = _story(tx, config, account_id, wallet, events_since, until_at, hours)
    return report_document(config, context.account_name, wallet, since_at, until_at, points, events)


def _default_until(tx: Transaction, now: datetime) -> datetime:
    """The end of the hour of the wallet's last event, if that hour has ended; else the last hour end."""
    last = ledger.get_meta(tx, LAST_EVENT_KEY)
    latest = floor_hour(now)
    if last is None:
        return latest
    return min(ceil_hour(from_storage(last)), latest)


def _story(
    tx: Transaction,
    config: Config,
    account_id: int | None,
    wallet: str,
    since: datetime,
    until: datetime,
    hours: list[datetime],
) -> tuple[list[rules.HourPoint], list[rules.Event]]:
    if account_id is None or not hours:
        return [], []
    until_stored = to_storage(until)
    changes = [
        rules.BalanceChange(
            int(row["entry_id"]),
            from_storage(str(row["created_at"])),
            str(row["asset"]),
            str(row["bucket"]),
            from_text(row["amount"]),
        )
        for row in store.wallet_postings(tx, account_id, wallet, until_stored)
    ]
    runs = [
        rules.InterestRun(
            int(row["entry_id"]),
            str(row["asset"]),
            from_storage(str(row["periodic_hour"])),
            int(row["hours"]),
            from_text(row["interest"]),
        )
        for row in store.periodic_runs(tx, account_id, wallet)
    ]
    pairs = list(config.pairs)
    marks = [
        rules.PriceMark(str(row["pair"]), from_storage(str(row["at"])), from_text(row["price"]))
        for row in prices_store.price_history(tx, pairs, to_storage(since), until_stored)
    ]
    starting = {pair: settings.price for pair, settings in config.pairs.items() if settings.price}
    charted = rules.charted_pairs({change.asset for change in changes}, pairs, config.valuation_asset)
    ratios = {asset: settings.collateral_ratio for asset, settings in config.assets.items()}
    points = rules.hourly_series(
        rules.spread_interest(changes, runs),
        marks,
        starting,
        hours,
        charted,
        config.valuation_asset,
        ratios,
        config.rules_for(wallet),
    )
    since_stored = to_storage(since)
    fills = [
        rules.Event(
            from_storage(str(row["at"])),
            rules.FILL,
            int(row["entry_id"]),
            str(row["pair"]),
            str(row["side"]),
            from_text(row["price"]),
            from_text(row["qty"]),
        )
        for row in store.wallet_fills(tx, account_id, wallet, since_stored, until_stored)
    ]
    risk = [
        rules.Event(
            from_storage(str(row["at"])),
            str(row["kind"]),
            int(row["entry_id"]) if row["entry_id"] is not None else None,
            margin_level=_stored_level(row["margin_level"]),
        )
        for row in store.wallet_risk_events(tx, account_id, wallet, since_stored, until_stored)
    ]
    return points, rules.story_events(fills, risk)


def _stored_level(text: Any) -> Decimal | None:
    try:
        return Decimal(str(text)) if text not in (None, "", "None") else None
    except ArithmeticError:
        return None


def report_document(
    config: Config,
    account: str,
    wallet: str,
    since: datetime,
    until: datetime,
    points: list[rules.HourPoint],
    events: list[rules.Event],
) -> dict[str, Any]:
    margin_rules = config.rules_for(wallet)
    summary = rules.summarize(points, events)
    pairs = list(points[0].prices) if points else []
    unpriced = sorted({asset for point in points for asset in point.valuation.unpriced})
    return {
        "account": account,
        "wallet": wallet,
        "mode": config.mode_of(wallet),
        "valuationAsset": config.valuation_asset,
        "since": to_display(since),
        "until": to_display(until),
        "marginCallLevel": str(margin_rules.margin_call_level),
        "liquidationLevel": str(margin_rules.liquidation_level),
        "pairs": pairs,
        "summary": {
            "hours": summary.hours,
            "startNetAssetValue": _value(summary.start_net_asset_value),
            "endNetAssetValue": _value(summary.end_net_asset_value),
            "minMarginLevel": None if summary.min_margin_level is None else format_ratio(summary.min_margin_level),
            "minMarginLevelStatus": None
            if summary.min_margin_level is None
            else margin_level_status(summary.min_margin_level, margin_rules),
            "minMarginLevelTime": None
            if summary.min_margin_level_at is None
            else to_display(summary.min_margin_level_at),
            "fills": summary.fills,
            "marginCalls": summary.margin_calls,
            "liquidations": summary.liquidations,
        },
        "series": [
            {
                "time": to_display(point.at),
                "prices": {pair: _price(config, pair, price) for pair, price in point.prices.items()},
                "totalAssetValue": _value(point.valuation.total_asset_value),
                "totalLiabilityValue": _value(point.valuation.liability_value),
                "totalNetAssetValue": _value(point.valuation.net_asset_value),
                "marginLevel": None if point.margin_level is None else format_ratio(point.margin_level),
                "marginLevelStatus": point.status,
            }
            for point in points
        ],
        "events": [_event(config, event) for event in events],
        "unpricedAssets": unpriced,
    }


def _event(config: Config, event: rules.Event) -> dict[str, Any]:
    document: dict[str, Any] = {"time": to_display(event.at), "kind": event.kind}
    if event.kind == rules.FILL and event.pair is not None:
        base = event.pair.split("/")[0]
        document.update(
            {
                "pair": event.pair,
                "side": event.side,
                "price": _price(config, event.pair, event.price),
                "qty": format_amount(event.qty, config.places(base)) if event.qty is not None else None,
            }
        )
    else:
        document["marginLevel"] = None if event.margin_level is None else format_ratio(event.margin_level)
    return document


def _price(config: Config, pair: str, price: Decimal | None) -> str | None:
    if price is None:
        return None
    return config.price_text(pair, price)


def _value(amount: Decimal | None) -> str | None:
    return None if amount is None else value_text(amount)


def csv_columns(document: dict[str, Any]) -> list[str]:
    return [*CSV_LEADING, *document["pairs"], *CSV_TRAILING]


def csv_rows(document: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per hour end: exact decimal strings, empty where there is no value (no price, no debt)."""
    rows = []
    for point in document["series"]:
        row = {"time": point["time"], **{pair: point["prices"][pair] or "" for pair in document["pairs"]}}
        row.update({column: point[column] if point[column] is not None else "" for column in CSV_TRAILING})
        rows.append(row)
    return rows
