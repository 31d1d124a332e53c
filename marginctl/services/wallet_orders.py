"""One wallet's orders and fills, found as Binance finds them: by symbol, by orderId or by the client's id.

The API's order queries and cancels; `cancel` and `orders` (the CLI) work across wallets by order id.
"""

from __future__ import annotations

from typing import Any

from marginctl.domain.errors import UnknownOrder
from marginctl.domain.money import format_amount, from_text
from marginctl.domain.names import CROSS, pair_assets
from marginctl.domain.prices import price_places
from marginctl.domain.times import from_storage, to_display
from marginctl.services import order_lists
from marginctl.services.cancelling import cancel_order
from marginctl.services.context import Context, WriteScope, lookup_account, run_write
from marginctl.services.order_views import order_view
from marginctl.store import orders as store


def _which(order_id: int | None, client_order_id: str | None) -> str:
    return f"order {order_id}" if order_id is not None else f"order with client id {client_order_id!r}"


def find_order(
    context: Context, wallet: str, pair: str, order_id: int | None, client_order_id: str | None
) -> dict[str, Any]:
    """One order of the wallet and pair, by id or client id (refused as unknown otherwise)."""
    with context.read() as tx:
        account = lookup_account(tx, context)
        found = []
        if account is not None:
            found = store.wallet_orders(
                tx, int(account["id"]), wallet, pair, order_id=order_id, client_order_id=client_order_id
            )
    if not found:
        raise UnknownOrder(f"no {_which(order_id, client_order_id)} for {pair} in {wallet}")
    return order_view(context.config, found[-1])


def wallet_orders(
    context: Context,
    wallet: str,
    pair: str | None,
    open_only: bool,
    from_id: int | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """The wallet's orders (of one pair, or every pair), oldest first."""
    with context.read() as tx:
        account = lookup_account(tx, context)
        if account is None:
            return []
        rows = store.wallet_orders(
            tx, int(account["id"]), wallet, pair, open_only=open_only, from_id=from_id, limit=limit
        )
    return [order_view(context.config, row) for row in rows]


def cancel_wallet_order(
    context: Context, wallet: str, pair: str, order_id: int | None, client_order_id: str | None
) -> list[dict[str, Any]]:
    """Cancel one open order (an OCO leg takes its list's other leg with it); the cancelled orders' views."""

    def act(scope: WriteScope) -> list[dict[str, Any]]:
        found = store.wallet_orders(
            scope.tx,
            scope.account_id,
            wallet,
            pair,
            order_id=order_id,
            client_order_id=client_order_id,
            open_only=True,
        )
        if not found:
            raise UnknownOrder(f"no open {_which(order_id, client_order_id)} for {pair} in {wallet}")
        return [cancel_order(scope, order) for order in order_lists.with_list_legs(scope.tx, found[-1:])]

    arguments = {"wallet": wallet, "pair": pair, "order": order_id, "clientOrderId": client_order_id}
    return run_write(context, "cancel", arguments, None, act)  # type: ignore[no-any-return]


def cancel_open_orders(context: Context, wallet: str, pair: str) -> list[dict[str, Any]]:
    """Cancel every open order of the wallet's pair (Binance's DELETE openOrders)."""

    def act(scope: WriteScope) -> list[dict[str, Any]]:
        found = store.wallet_orders(scope.tx, scope.account_id, wallet, pair, open_only=True)
        if not found:
            raise UnknownOrder(f"no open orders for {pair} in {wallet}")
        return [cancel_order(scope, order) for order in order_lists.with_list_legs(scope.tx, found)]

    return run_write(context, "cancel", {"wallet": wallet, "pair": pair, "all": True}, None, act)  # type: ignore[no-any-return]


def wallet_trades(context: Context, wallet: str, pair: str, from_id: int | None, limit: int) -> list[dict[str, Any]]:
    """The wallet's fills of one pair, oldest first, with Binance's myTrades fields."""
    config = context.config
    base, quote = pair_assets(pair)
    places = price_places(config.pairs[pair].tick_size)
    with context.read() as tx:
        account = lookup_account(tx, context)
        rows = [] if account is None else store.wallet_trades(tx, int(account["id"]), wallet, pair, from_id, limit)
    return [
        {
            "id": int(row["id"]),
            "orderId": int(row["order_id"]),
            "symbol": pair.replace("/", ""),
            "isIsolated": wallet != CROSS,
            "price": format_amount(from_text(row["price"]), places),
            "qty": format_amount(from_text(row["qty"]), config.places(base)),
            "quoteQty": format_amount(from_text(row["quote_qty"]), config.places(quote)),
            "commission": format_amount(from_text(row["commission"]), config.places(str(row["commission_asset"]))),
            "commissionAsset": row["commission_asset"],
            "isBuyer": row["side"] == "BUY",
            "isMaker": bool(row["is_maker"]),
            "isBestMatch": True,
            "time": to_display(from_storage(str(row["at"]))),
        }
        for row in rows
    ]


def liquidation_orders(context: Context, wallet: str | None) -> list[dict[str, Any]]:
    """The orders by which the wallet (every wallet with None) was liquidated, newest first."""
    with context.read() as tx:
        account = lookup_account(tx, context)
        rows = [] if account is None else store.liquidation_orders(tx, int(account["id"]), wallet)
    return [order_view(context.config, row) for row in rows]
