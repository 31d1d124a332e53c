"""`marginctl close`: unwind a margin wallet in one transaction (issue 13, item 9).

Cancel the wallet's open orders; raise what the quote asset (USDT, or an isolated pair's quote) must pay
by selling just enough of the other assets; buy back every other debt the free balance does not cover;
repay every loan from what is free, interest first. Every order is a market order with AUTO_REPAY, so a
cooling-off does not block it (it only lowers the risk). What is repaid is measured on the wallet itself
(debt before − debt after), so the repayments made by AUTO_REPAY fills and by autoRepayAtCancel count.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marginctl.config import Config
from marginctl.domain import closing as plans
from marginctl.domain import orders as order_rules
from marginctl.domain.margin import AssetBalance, margin_level_status, margin_level_text, repayable
from marginctl.domain.money import format_amount
from marginctl.domain.names import CROSS, pair_assets, parse_pair
from marginctl.domain.times import to_display
from marginctl.services.context import Context, WriteScope, lookup_account, run_write
from marginctl.services.loans import repay_record, settle_debt
from marginctl.services.quotes import pair_quotes
from marginctl.services.risk import Position, wallet_assets, wallet_position
from marginctl.services.risk_check import RiskReport, check_risk
from marginctl.store import order_lists
from marginctl.store.database import Transaction


def _wallet(config: Config, isolated: str | None) -> str:
    return parse_pair(isolated, config.pairs) if isolated else CROSS


def settlement_asset(config: Config, wallet: str) -> str:
    """The asset debts are bought back with: the valuation asset, or an isolated pair's quote asset."""
    return config.valuation_asset if wallet == CROSS else pair_assets(wallet)[1]


def _open_order_ids(tx: Transaction, account_id: int | None, wallet: str) -> list[int]:
    if account_id is None:
        return []
    return order_lists.open_order_ids(tx, account_id, wallet)


def _owed(config: Config, position: Position) -> dict[str, str]:
    return {
        asset: format_amount(balance.liability, config.places(asset))
        for asset, balance in position.balances.items()
        if balance.liability > 0
    }


def close_preview(context: Context, isolated: str | None) -> dict[str, Any]:
    """What a person confirms: the open orders to cancel and each debt to repay (nothing is changed)."""
    config = context.config
    wallet = _wallet(config, isolated)
    with context.read() as tx:
        account = lookup_account(tx, context)
        account_id = int(account["id"]) if account is not None else None
        position = wallet_position(tx, config, account_id, wallet)
        open_orders = _open_order_ids(tx, account_id, wallet)
        return {"wallet": wallet, "openOrders": open_orders, "owed": _owed(config, position)}


def close_wallet(context: Context, isolated: str | None, client_id: str | None) -> dict[str, Any]:
    config = context.config
    wallet = _wallet(config, isolated)
    return run_write(context, "close", {"wallet": wallet}, client_id, lambda scope: _close(scope, wallet))


def _close(scope: WriteScope, wallet: str) -> dict[str, Any]:
    from marginctl.services.cancelling import cancel_wallet_orders

    config = scope.config
    before = wallet_position(scope.tx, config, scope.account_id, wallet)
    if not _open_order_ids(scope.tx, scope.account_id, wallet) and not _owed(config, before):
        return _report(scope, wallet, before, [], [], {}, RiskReport(), nothing=True)
    cancelled = cancel_wallet_orders(scope, wallet)
    risk = RiskReport()
    trades: list[dict[str, Any]] = []
    unpaid: dict[str, str] = {}
    quote = settlement_asset(config, wallet)
    position = wallet_position(scope.tx, config, scope.account_id, wallet)
    buy_backs = _plan_buy_backs(config, scope.tx, wallet, quote, position, unpaid)
    quote_places = config.places(quote)
    quote_balance = position.balance(quote)
    needed = quote_balance.liability + sum(cost for _, _, cost in buy_backs) - quote_balance.free
    for trade in _raise_quote(scope, wallet, quote, position, needed):
        trades.append(trade)
        risk.extend(_risk_of(trade))
    for asset, quantity, cost in buy_backs:
        free_quote = wallet_position(scope.tx, config, scope.account_id, wallet).balance(quote).free
        if free_quote < cost:
            unpaid[asset] = (
                f"buying it back costs {format_amount(cost, quote_places)} {quote}, "
                f"free {format_amount(free_quote, quote_places)}"
            )
            continue
        trade = _market(scope, order_rules.BUY, f"{asset}/{quote}", wallet, quantity)
        trades.append(trade)
        risk.extend(_risk_of(trade))
    after_trades = wallet_position(scope.tx, config, scope.account_id, wallet)
    for asset, balance in after_trades.balances.items():
        amount = repayable(balance.free, balance.liability)
        if amount > 0:
            settle_debt(scope, wallet, asset, amount, balance.interest)
    risk.extend(check_risk(scope, wallet_assets(config, wallet)))
    after = wallet_position(scope.tx, config, scope.account_id, wallet)
    for asset, balance in after.balances.items():
        if balance.liability > 0 and asset not in unpaid:
            unpaid[asset] = f"free {asset} {format_amount(balance.free, config.places(asset))} is not enough"
    repaid = _repaid(config, before.balances, after.balances)
    return _report(scope, wallet, after, cancelled, trades, unpaid, risk, repaid=repaid)


def _plan_buy_backs(
    config: Config, tx: Transaction, wallet: str, quote: str, position: Position, unpaid: dict[str, str]
) -> list[tuple[str, Decimal, Decimal]]:
    """(asset, quantity, cost in quote) of every debt other than the quote's that free does not cover."""
    quotes = pair_quotes(tx, config)
    planned = []
    for asset, balance in sorted(position.balances.items()):
        shortfall = balance.liability - balance.free
        if asset == quote or shortfall <= 0:
            continue
        pair = f"{asset}/{quote}"
        if pair not in config.pairs:
            unpaid[asset] = f"no {pair} pair to buy it back on"
            continue
        if pair not in quotes:
            unpaid[asset] = f"{pair} has no price"
            continue
        settings, price = config.pairs[pair], quotes[pair][0]
        quantity = plans.buy_back_quantity(
            shortfall, price, config.fees.taker, settings.step_size, config.places(asset), settings.min_notional
        )
        planned.append((asset, quantity, plans.buy_cost(quantity, price, config.places(quote))))
    return planned


def _raise_quote(
    scope: WriteScope, wallet: str, quote: str, position: Position, needed: Decimal
) -> list[dict[str, Any]]:
    """Sell the other assets, the most valuable first, until `needed` quote has come in."""
    config = scope.config
    quotes = pair_quotes(scope.tx, config)
    candidates = []
    for asset, balance in position.balances.items():
        pair = f"{asset}/{quote}"
        spare = balance.free - balance.liability
        if asset != quote and spare > 0 and pair in config.pairs and pair in quotes:
            candidates.append((spare * quotes[pair][0], asset, spare, pair))
    trades = []
    for _, asset, spare, pair in sorted(candidates, reverse=True):
        if needed <= 0:
            break
        settings, price = config.pairs[pair], quotes[pair][0]
        quantity = plans.sell_quantity_for(
            needed, price, config.fees.taker, settings.step_size, config.places(quote), settings.min_notional, spare
        )
        if quantity <= 0:
            continue
        received = order_rules.fill(
            order_rules.SELL, quantity, price, config.fees.taker, config.places(asset), config.places(quote)
        ).received
        trades.append(_market(scope, order_rules.SELL, pair, wallet, quantity))
        needed -= received
    return trades


def _market(scope: WriteScope, side: str, pair: str, wallet: str, quantity: Decimal) -> dict[str, Any]:
    """A market order with AUTO_REPAY through trading's own order path (checks, fills, fees, auto-repay)."""
    from marginctl.services.trading import OrderRequest, place

    request = OrderRequest(
        side=side,
        pair=pair,
        wallet=wallet,
        quantity=quantity,
        quote_amount=None,
        limit_price=None,
        stop_price=None,
        side_effect=order_rules.AUTO_REPAY,
    )
    return place(scope, request, None)


def _risk_of(trade: dict[str, Any]) -> RiskReport:
    return RiskReport(list(trade.pop("marginCalls", [])), list(trade.pop("liquidations", [])))


def _repaid(config: Config, before: dict[str, AssetBalance], after: dict[str, AssetBalance]) -> list[dict[str, str]]:
    """Binance's repay record per asset: interest and principal repaid during the close, and their sum."""
    records = []
    for asset, old in sorted(before.items()):
        new = after.get(asset, AssetBalance(asset))
        interest, principal = old.interest - new.interest, old.borrowed - new.borrowed
        if interest or principal:
            records.append(repay_record(asset, interest + principal, interest, principal, config.places(asset)))
    return records


def _report(
    scope: WriteScope,
    wallet: str,
    position: Position,
    cancelled: list[int],
    trades: list[dict[str, Any]],
    unpaid: dict[str, str],
    risk: RiskReport,
    *,
    repaid: list[dict[str, str]] | None = None,
    nothing: bool = False,
) -> dict[str, Any]:
    config = scope.config
    level = position.margin_level
    return {
        "account": scope.account["name"],
        "wallet": wallet,
        "time": to_display(scope.at),
        "nothingToClose": nothing,
        "cancelledOrders": cancelled,
        "trades": trades,
        "repaid": repaid or [],
        "debtLeft": [
            {
                "asset": asset,
                "borrowed": format_amount(position.balance(asset).borrowed, config.places(asset)),
                "interest": format_amount(position.balance(asset).interest, config.places(asset)),
                "reason": reason,
            }
            for asset, reason in sorted(unpaid.items())
            if position.balance(asset).liability > 0
        ],
        "balances": [
            {
                "asset": asset,
                "free": format_amount(balance.free, config.places(asset)),
                "locked": format_amount(balance.locked, config.places(asset)),
                "borrowed": format_amount(balance.borrowed, config.places(asset)),
                "interest": format_amount(balance.interest, config.places(asset)),
                "netAsset": format_amount(balance.net_asset, config.places(asset)),
            }
            for asset, balance in sorted(position.balances.items())
            if balance.total or balance.liability
        ],
        "marginLevel": margin_level_text(level),
        "marginLevelStatus": margin_level_status(level, config.rules_for(wallet)),
        **risk.as_json(),
    }
