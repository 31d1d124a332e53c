"""`watch`: one read-only snapshot of what the live view shows, read afresh at every tick.

The wallets are `status`'s documents (balances, margin level and status, PnL, liquidation prices); the rest is
read in the same read transaction: the prices of the pairs they hold, the price of each asset at which the
wallet reaches its margin-call level, the open orders and the latest events. Nothing is written, and a
wallet that does not exist is not created (`no_wallet`, as `status` says).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from marginctl.config import Config
from marginctl.domain.margin import level_prices
from marginctl.domain.money import format_amount, format_ratio, from_text
from marginctl.domain.names import is_margin_wallet, pair_assets
from marginctl.domain.prices import valuation_prices
from marginctl.domain.times import display_stored, to_display
from marginctl.services.context import Context, lookup_account, wallet_clock
from marginctl.services.order_views import order_view
from marginctl.services.quotes import pair_quotes
from marginctl.services.risk import wallet_position
from marginctl.services.status import status_in
from marginctl.store import events as events_store
from marginctl.store import orders as orders_store
from marginctl.store.database import Row, Transaction

#: The most events a frame can show (a 40-line screen holds fewer); the count says how many more there are.
EVENT_LIMIT = 40
#: Events at the same instant: a liquidation's fills, then its report; interest before the fills of its hour.
KIND_ORDER = {"interest": 0, "fill": 1, "margin_call": 2, "liquidation": 3}


def refreshed(context: Context) -> Context:
    """The same wallet, config, account and clock, with nothing of the last tick remembered: the wallet's rules
    (another process may have run `config apply`) and its opening are read again at the next read."""
    return Context(
        file_config=context.file_config,
        database=context.database,
        account_name=context.account_name,
        now=context.now,
        creates_wallet=False,
        check_rules=context.check_rules,
    )


def snapshot(
    context: Context, isolated_pair: str | None = None, all_wallets: bool = False, event_limit: int = EVENT_LIMIT
) -> dict[str, Any]:
    """What the view shows of the cross wallet (an isolated one, or with `all_wallets` every wallet in use),
    read in one transaction: one moment of the wallet, however other processes write meanwhile."""
    config = context.config
    with context.read() as tx:
        found = status_in(tx, context, isolated_pair, all_wallets)
        wallets: list[dict[str, Any]] = found if isinstance(found, list) else [found]
        names = [document["wallet"] for document in wallets]
        account = lookup_account(tx, context)
        account_id = int(account["id"]) if account is not None else None
        quotes = pair_quotes(tx, config)
        wallet_time = wallet_clock(tx)
        prices = valuation_prices({pair: quote[0] for pair, quote in quotes.items()}, config.valuation_asset)
        call_prices = {
            document["wallet"]: _margin_call_prices(tx, config, account_id, document["wallet"], prices)
            for document in wallets
            if is_margin_wallet(document["wallet"])
        }
        orders: list[Row] = []
        latest = events_store.LatestEvents([], [], [], 0)
        if account_id is not None:
            orders = [row for row in orders_store.open_orders(tx, account_id) if all_wallets or row["wallet"] in names]
            latest = events_store.latest_events(tx, account_id, None if all_wallets else names, event_limit)
    for document in wallets:
        document["marginCallPrices"] = call_prices.get(document["wallet"], {})
    events = _events(config, latest)[:event_limit]
    return {
        "account": context.account_name,
        "time": to_display(context.clock()),
        #: the wallet's own clock (its last event): far from `time` in a replayed wallet (`serve --replay`)
        "walletTime": to_display(wallet_time) if wallet_time is not None else None,
        "valuationAsset": config.valuation_asset,
        "wallets": wallets,
        "prices": _held_pair_prices(config, quotes, wallets),
        "openOrders": [order_view(config, row) for row in orders],
        "events": events,
        "moreEvents": latest.total - len(events),
    }


def _margin_call_prices(
    tx: Transaction, config: Config, account_id: int | None, wallet: str, prices: dict[str, Decimal]
) -> dict[str, str]:
    """Each asset's price (the others fixed) at which the wallet's margin level reaches its margin-call level."""
    position = wallet_position(tx, config, account_id, wallet, prices)
    level = config.rules_for(wallet).margin_call_level
    found = {}
    for asset, balance in position.balances.items():
        if asset == config.valuation_asset or (balance.total == 0 and balance.liability == 0):
            continue
        price = level_prices(asset, position.balances.values(), prices, (level,))[0]
        if price is not None:
            found[asset] = format(price, "f")
    return found


def _held_pair_prices(
    config: Config, quotes: dict[str, tuple[Decimal, str | None, str]], wallets: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The last price of every pair whose base the shown wallets hold or owe (or of the isolated pair)."""
    assets = {
        row["asset"]
        for document in wallets
        for row in document["userAssets"]
        if any(from_text(row[key]) != 0 for key in ("free", "locked", "borrowed", "interest"))
    }
    shown = []
    for pair in sorted(quotes):
        base, _ = pair_assets(pair)
        if base in assets or any(document["wallet"] == pair for document in wallets):
            price, at, source = quotes[pair]
            shown.append(
                {"pair": pair, "price": config.price_text(pair, price), "time": display_stored(at), "source": source}
            )
    return shown


def _events(config: Config, latest: events_store.LatestEvents) -> list[dict[str, Any]]:
    """Fills, interest charges and risk events as one list, newest first."""
    events = [_fill(config, row) for row in latest.fills]
    events += [_interest(config, row) for row in latest.interest]
    events += [_risk_event(row) for row in latest.risk]
    events.sort(key=lambda event: (event["stored"], KIND_ORDER[event["kind"]], event["id"]), reverse=True)
    for event in events:
        del event["stored"], event["id"]
    return events


def _fill(config: Config, row: Row) -> dict[str, Any]:
    pair = str(row["pair"])
    base, _ = pair_assets(pair)
    commission_asset = str(row["commission_asset"])
    return {
        "kind": "fill",
        "stored": str(row["at"]),
        "id": int(row["id"]),
        "time": display_stored(str(row["at"])),
        "wallet": row["wallet"],
        "tradeId": int(row["id"]),
        "orderId": int(row["order_id"]),
        "pair": pair,
        "side": row["side"],
        "qty": format_amount(from_text(row["qty"]), config.places(base)),
        "price": config.price_text(pair, from_text(row["price"])),
        "commission": format_amount(from_text(row["commission"]), config.places(commission_asset)),
        "commissionAsset": commission_asset,
        "isMaker": bool(row["is_maker"]),
    }


def _interest(config: Config, row: Row) -> dict[str, Any]:
    """A charge: one hour (ON_BORROW, or one PERIODIC hour) or a run of PERIODIC hours, shown at its last hour."""
    asset = str(row["asset"])
    places = config.places(asset)
    return {
        "kind": "interest",
        "stored": str(row["at"]),
        "id": int(row["id"]),
        "time": display_stored(str(row["at"])),
        "wallet": row["wallet"],
        "asset": asset,
        "type": row["type"],
        "hours": int(row["hours"]),
        "interest": format_amount(from_text(row["interest"]), places),
        "principal": format_amount(from_text(row["principal"]), places),
    }


def _risk_event(row: Row) -> dict[str, Any]:
    event: dict[str, Any] = {
        "kind": str(row["kind"]),
        "stored": str(row["at"]),
        "id": int(row["id"]),
        "time": display_stored(str(row["at"])),
        "wallet": row["wallet"],
        "marginLevel": format_ratio(from_text(str(row["margin_level"]))) if row["margin_level"] else None,
    }
    if row["kind"] == "liquidation" and row["detail"]:
        detail = json.loads(str(row["detail"]))
        event.update(
            {
                name: detail.get(name)
                for name in ("liquidationFee", "insurancePayout", "leftOver", "asset", "marginLevel")
                if name in detail
            }
        )
        event["tranId"] = int(row["entry_id"]) if row["entry_id"] is not None else None
    return event
