"""The risk check after every price update, fill and accrual hour: margin calls and liquidation (DESIGN §4)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from marginctl.config import Config
from marginctl.domain.ledger import (
    EXCHANGE,
    INSURANCE_FUND,
    LENDING_POOL,
    asset_balance,
)
from marginctl.domain.liquidation import LiquidationPlan, SystemAccounts, liquidation_postings, plan_liquidation
from marginctl.domain.margin import AssetBalance, margin_level, margin_level_status, margin_level_text, value_wallet
from marginctl.domain.money import ZERO, format_amount, mul
from marginctl.domain.names import pair_assets
from marginctl.domain.reach import wallet_reach
from marginctl.domain.times import to_display, to_storage
from marginctl.services.catch_up import catch_up_account
from marginctl.services.context import WriteScope
from marginctl.services.quotes import asset_prices
from marginctl.services.risk import wallet_assets, wallet_position
from marginctl.store import orders as orders_store
from marginctl.store import risk as risk_store
from marginctl.store.database import Transaction
from marginctl.store.ledger import account_by_id
from marginctl.store.risk import WalletKey

#: Binance repeats the margin-call notice every 24 hours.
MARGIN_CALL_REPEAT = timedelta(hours=24)
IN_MARGIN_CALL = ("MARGIN_CALL", "PRE_LIQUIDATION")


@dataclass
class RiskReport:
    margin_calls: list[dict[str, Any]] = field(default_factory=list)
    liquidations: list[dict[str, Any]] = field(default_factory=list)

    def extend(self, other: RiskReport) -> None:
        """Merge a later check: one margin call per wallet per command (the latest), every liquidation."""
        latest = {(call["account"], call["wallet"]): call for call in self.margin_calls + other.margin_calls}
        liquidated = {(event["account"], event["wallet"]) for event in other.liquidations}
        self.margin_calls = [call for key, call in latest.items() if key not in liquidated]
        self.liquidations.extend(other.liquidations)

    def as_json(self) -> dict[str, Any]:
        return {"marginCalls": self.margin_calls, "liquidations": self.liquidations}


@dataclass
class RiskBook:
    """Every margin wallet that owes something, held in memory so a check is arithmetic, not queries.

    Loaded with one query; the accrual and the kline replay keep it current (interest added in place,
    a wallet reloaded after a fill or a liquidation) and so check thousands of wallets per hour cheaply.
    """

    balances: dict[WalletKey, dict[str, AssetBalance]] = field(default_factory=dict)
    #: (total asset value, liability value) per wallet at `valued_at` prices, kept current by add_interest.
    values: dict[WalletKey, tuple[Decimal, Decimal] | None] = field(default_factory=dict)
    valued_at: dict[str, Decimal] = field(default_factory=dict)

    @classmethod
    def load(cls, tx: Transaction, keys: Iterable[WalletKey] | None = None) -> RiskBook:
        """The users' margin wallets that owe something: every one (one scan), or those of `keys`."""
        book = cls()
        for key, raw in risk_store.owing_balances(tx, keys).items():
            book.balances[key] = {asset: asset_balance(asset, buckets) for asset, buckets in raw.items()}
        return book

    @classmethod
    def reachable(cls, tx: Transaction, config: Config, prices: dict[str, Decimal]) -> RiskBook:
        """The wallets that `prices` may put in danger (a superset: the check decides each one exactly).

        Their reach is brought up to date first: every wallet a posting moved since the last check (a
        range of the postings' key, so no write path can leave one stale), or every wallet when the
        margin-call levels changed.
        """
        through, rules = risk_store.reach_state(tx)
        levels = _margin_call_levels(config)
        latest = risk_store.last_posting_id(tx)
        stale: set[WalletKey] | None = None  # None: every wallet
        if through is not None and rules == levels:
            stale = risk_store.wallets_posted_after(tx, through) if latest > through else set()
        if stale is None or stale:
            reaches = {
                key: wallet_reach(
                    [asset_balance(asset, buckets) for asset, buckets in raw.items()],
                    prices,
                    config.valuation_asset,
                    config.rules_for(key[1]).margin_call_level,
                )
                for key, raw in risk_store.owing_balances(tx, stale).items()
            }
            risk_store.save_reach(tx, reaches, stale, latest, levels)
        return cls.load(tx, risk_store.reachable_wallets(tx, prices))

    def reload(self, tx: Transaction, keys: Iterable[WalletKey]) -> None:
        keys = set(keys)
        for key in keys:
            self.balances.pop(key, None)
            self.values.pop(key, None)
        self.balances.update(RiskBook.load(tx, keys).balances)

    def add_interest(self, account_id: int, wallet: str, asset: str, amount: Decimal) -> None:
        key = (account_id, wallet)
        if key in self.balances:
            held = self.balances[key].get(asset, AssetBalance(asset))
            self.balances[key][asset] = AssetBalance(
                asset, held.free, held.locked, held.borrowed, held.interest + amount
            )
            cached = self.values.get(key)
            price = self.valued_at.get(asset)
            if cached is not None and price is not None:
                self.values[key] = (cached[0], cached[1] + mul(amount, price))
            else:
                self.values.pop(key, None)

    def level(self, key: WalletKey, prices: dict[str, Decimal]) -> Decimal | bool | None:
        """The margin level; False when an asset has no price (such a wallet is not judged).

        The wallet's value and liability are kept between checks at the same prices (an hour's interest
        moves them in place, `add_interest`): exact sums, so the same level as valuing it again.
        """
        if prices != self.valued_at:
            self.values.clear()
            self.valued_at = dict(prices)
        cached = self.values.get(key)
        if cached is None:
            valuation = value_wallet(self.balances[key].values(), prices, {})
            if valuation.unpriced:
                return False
            cached = (valuation.total_asset_value, valuation.liability_value)
            self.values[key] = cached
        return margin_level(*cached)


def _margin_call_levels(config: Config) -> str:
    """What a wallet's reach was worked out with: the valuation asset and each mode's margin-call level."""
    levels = [f"cross={config.cross.margin_call_level}"]
    levels += [f"{pair}={rules.margin_call_level}" for pair, rules in sorted(config.isolated.items())]
    return " ".join([config.valuation_asset, *levels])


def check_risk(
    scope: WriteScope,
    assets: Iterable[str] | None,
    book: RiskBook | None = None,
    before_changes: Callable[[], None] | None = None,
    prices: dict[str, Decimal] | None = None,
) -> RiskReport:
    """Check every margin wallet that owes something (and, given `assets`, holds or owes one of them).

    `before_changes` runs before the first liquidation (the accrual writes its pending interest then).
    """
    config = scope.config
    watched = set(assets) if assets is not None else None
    prices = asset_prices(scope.tx, config) if prices is None else prices
    book = book if book is not None else RiskBook.reachable(scope.tx, config, prices)
    report = RiskReport()
    acted: list[WalletKey] = []
    for key in sorted(book.balances):
        account_id, wallet = key
        if watched is not None and not watched.intersection(wallet_assets(config, wallet)):
            continue
        level = book.level(key, prices)
        if level is False:
            continue
        assert not isinstance(level, bool)
        status = margin_level_status(level, config.rules_for(wallet))
        if status not in ("FORCE_LIQUIDATION", *IN_MARGIN_CALL):
            continue
        account = account_by_id(scope.tx, account_id)
        owner = dataclasses.replace(scope, account=account, request_id=None)
        if status == "FORCE_LIQUIDATION" and before_changes is not None:
            before_changes()
        if status == "FORCE_LIQUIDATION":
            report.liquidations.append(liquidate(owner, wallet, level))
            acted.append(key)
        else:
            report.margin_calls.append(_margin_call(owner, wallet, level, status))
    if acted:
        book.reload(scope.tx, acted)
    return report


def _margin_call(scope: WriteScope, wallet: str, level: Decimal | None, status: str) -> dict[str, Any]:
    """A warning every time; a recorded `margin_call` event at most once per 24 h per wallet."""
    since = to_storage(scope.at - MARGIN_CALL_REPEAT)
    recent = risk_store.recent_margin_call(scope.tx, scope.account_id, wallet, since)
    if not recent:
        risk_store.record_margin_call(scope.tx, scope.account_id, wallet, to_storage(scope.at), str(level))
    rules = scope.config.rules_for(wallet)
    return {
        "account": scope.account["name"],
        "wallet": wallet,
        "marginLevel": margin_level_text(level),
        "marginLevelStatus": status,
        "marginCallLevel": str(rules.margin_call_level),
        "liquidationLevel": str(rules.liquidation_level),
        "recorded": not recent,
        "time": to_display(scope.at),
    }


def liquidate(scope: WriteScope, wallet: str, level: Decimal | None) -> dict[str, Any]:
    """Cancel the wallet's orders, turn everything into the valuation asset, repay, pay the fee (one entry)."""
    from marginctl.services.cancelling import cancel_wallet_orders

    config = scope.config
    valuation = config.valuation_asset
    catch_up_account(scope.tx, config, scope.account_id, scope.at)
    cancelled = cancel_wallet_orders(scope, wallet)
    position = wallet_position(scope.tx, config, scope.account_id, wallet)
    places = {asset: settings.decimals for asset, settings in config.assets.items()}
    plan = plan_liquidation(
        position.balances.values(), position.prices, valuation, config.rules_for(wallet).liquidation_fee_rate, places
    )
    user = scope.account_id
    postings = liquidation_postings(
        plan,
        (user, wallet),
        valuation,
        SystemAccounts(scope.system_ids[EXCHANGE], scope.system_ids[INSURANCE_FUND], scope.system_ids[LENDING_POOL]),
    )
    value_places = places[valuation]
    detail = {
        "account": scope.account["name"],
        "wallet": wallet,
        "marginLevel": margin_level_text(level),
        "time": to_display(scope.at),
        "cancelledOrders": cancelled,
        "totalAssetValue": format_amount(plan.total_asset_value, value_places),
        "sold": {asset: format_amount(quantity, places[asset]) for asset, (quantity, _) in plan.sells.items()},
        "proceeds": format_amount(sum((cash for _, cash in plan.sells.values()), ZERO), value_places),
        "boughtBack": {asset: format_amount(quantity, places[asset]) for asset, (quantity, _) in plan.buys.items()},
        "repaid": {
            asset: {
                "interest": format_amount(interest, places[asset]),
                "principal": format_amount(principal, places[asset]),
            }
            for asset, (interest, principal) in plan.repayments.items()
        },
        "liquidationFee": format_amount(plan.fee, value_places),
        "insurancePayout": format_amount(plan.shortfall, value_places),
        "leftOver": format_amount(plan.left_over, value_places),
        "asset": valuation,
    }
    entry_id = scope.post(
        "liquidation",
        postings,
        memo=(
            f"liquidated {wallet} at margin level {detail['marginLevel']}: fee {detail['liquidationFee']} "
            f"{valuation}, insurance payout {detail['insurancePayout']} {valuation}, "
            f"left {detail['leftOver']} {valuation}"
        ),
    )
    risk_store.record_liquidation(
        scope.tx,
        {
            "account_id": user,
            "wallet": wallet,
            "at": to_storage(scope.at),
            "level": str(level),
            "entry_id": entry_id,
            "detail": json.dumps(detail, sort_keys=True),
        },
    )
    _record_liquidation_trades(scope, wallet, plan, position.prices, entry_id)
    return {"tranId": entry_id, **detail}


def _record_liquidation_trades(
    scope: WriteScope, wallet: str, plan: LiquidationPlan, prices: dict[str, Decimal], entry_id: int
) -> None:
    """Each sale and buy-back of a liquidation is a filled market order and a trade with no commission, so
    `orders --all` and profit and loss see the position closed at the liquidation price."""
    config = scope.config
    valuation = config.valuation_asset
    at = to_storage(scope.at)
    moves = [("SELL", asset, quantity, cash) for asset, (quantity, cash) in plan.sells.items()]
    moves += [("BUY", asset, quantity, cash) for asset, (quantity, cash) in plan.buys.items()]
    for side, asset, quantity, cash in moves:
        pair = f"{asset}/{valuation}"
        if pair not in config.pairs:
            continue
        order_id = orders_store.insert_filled_market_order(
            scope.tx,
            account_id=scope.account_id,
            wallet=wallet,
            pair=pair,
            side=side,
            quantity=quantity,
            cash=cash,
            at=scope.at,
            client_order_id="liquidation",
        )
        orders_store.insert_trade(
            scope.tx,
            {
                "order_id": order_id,
                "account_id": scope.account_id,
                "wallet": wallet,
                "pair": pair,
                "side": side,
                "price": prices[asset],
                "qty": quantity,
                "quote_qty": cash,
                "commission": ZERO,
                "commission_asset": valuation,
                "is_maker": False,
                "quote_price": Decimal(1),
                "entry_id": entry_id,
                "at": at,
            },
        )


def pair_risk(scope: WriteScope, pair: str) -> RiskReport:
    """After a price of `pair` changes: check the wallets holding or owing either of its assets."""
    return check_risk(scope, pair_assets(pair))
