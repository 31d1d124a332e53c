"""`trade oco`: place a take-profit LIMIT_MAKER and a STOP_LOSS_LIMIT on one quantity, as one order list.

What happens to the list afterwards (one leg fills or triggers, a leg is cancelled) is in
services/order_lists.py, called by the order machinery in services/trading.py.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

from marginctl.config import Config
from marginctl.domain import oco as rules
from marginctl.domain import orders
from marginctl.domain.errors import InsufficientBalance, InvalidInput
from marginctl.domain.money import ZERO, format_amount
from marginctl.domain.names import CROSS, match_name, pair_assets, parse_pair
from marginctl.domain.prices import parse_price
from marginctl.domain.times import from_storage, to_display
from marginctl.services import trading
from marginctl.services.context import Context, WriteScope, run_write
from marginctl.services.loans import lend
from marginctl.services.order_views import order_view
from marginctl.services.risk_check import pair_risk
from marginctl.store import ledger
from marginctl.store import order_lists as store
from marginctl.store import orders as orders_store
from marginctl.store.database import Transaction


@dataclasses.dataclass(frozen=True)
class OcoRequest:
    side: str
    pair: str
    wallet: str
    quantity: Decimal
    price: Decimal
    stop_price: Decimal
    stop_limit_price: Decimal
    side_effect: str
    #: The legs' client order ids (Binance's limitClientOrderId and stopClientOrderId), if given.
    limit_client_id: str | None = None
    stop_client_id: str | None = None


def parse_oco(
    config: Config,
    side_text: str,
    pair_text: str,
    quantity_text: str,
    price_text: str | None,
    stop_text: str | None,
    stop_limit_text: str | None,
    side_effect_text: str,
    isolated: bool,
) -> OcoRequest:
    """Everything about an OCO that can be refused before looking at the wallet (exit 2)."""
    side = orders.parse_side(side_text)
    pair = parse_pair(pair_text, config.pairs)
    settings = config.pairs[pair]
    base, _ = pair_assets(pair)
    missing = [name for name, text in (("--price", price_text), ("--stop", stop_text)) if text is None]
    if stop_limit_text is None:
        missing.append("--stop-limit")
    if missing:
        raise InvalidInput(f"an OCO needs --price (take profit), --stop and --stop-limit; missing {', '.join(missing)}")
    assert price_text is not None and stop_text is not None and stop_limit_text is not None
    side_effect = match_name(side_effect_text, orders.SIDE_EFFECTS)
    if side_effect is None:
        raise InvalidInput(f"--side-effect must be one of {', '.join(orders.SIDE_EFFECTS)}")
    quantity = orders.parse_quantity(quantity_text, config.places(base), settings.step_size)
    price = parse_price(price_text, settings.tick_size)
    stop_price = parse_price(stop_text, settings.tick_size, what="stop price")
    stop_limit_price = parse_price(stop_limit_text, settings.tick_size, what="stop-limit price")
    rules.check_prices(side, price, stop_price)
    return OcoRequest(
        side=side,
        pair=pair,
        wallet=pair if isolated else CROSS,
        quantity=quantity,
        price=price,
        stop_price=stop_price,
        stop_limit_price=stop_limit_price,
        side_effect=side_effect,
    )


def place_oco(context: Context, request: OcoRequest, client_id: str | None) -> dict[str, Any]:
    arguments = {key: str(value) for key, value in dataclasses.asdict(request).items()}
    return run_write(context, "trade-oco", arguments, client_id, lambda scope: place(scope, request, client_id))


def place(scope: WriteScope, request: OcoRequest, client_id: str | None) -> dict[str, Any]:
    config = scope.config
    settings = config.pairs[request.pair]
    base, quote = pair_assets(request.pair)
    last_price, _ = trading.refuse_new_order(scope, request.pair, request.wallet, request.side_effect)
    rules.check_notional(request.quantity, request.price, request.stop_limit_price, settings.min_notional)
    rules.check_against_last(request.side, request.price, request.stop_price, last_price)

    spend_asset = quote if request.side == orders.BUY else base
    places = config.places(spend_asset)
    need = rules.oco_hold(request.side, request.quantity, request.price, request.stop_limit_price, config.places(quote))
    free = ledger.free_balance(scope.tx, scope.account_id, request.wallet, spend_asset)
    borrowed = ZERO
    if request.side_effect in orders.BORROWING and need > free:
        borrowed, _ = lend(scope, request.wallet, spend_asset, need - free)
    elif need > free:
        raise InsufficientBalance(
            f"insufficient {spend_asset} in {request.wallet}: free {format_amount(free, places)}, "
            f"the OCO needs {format_amount(need, places)}"
        )

    list_id = _insert_list(scope, request, client_id)
    # Binance's order: the stop leg first, then the limit leg; the limit leg holds the list's funds.
    _insert_leg(
        scope,
        request,
        list_id,
        orders.STOP_LOSS_LIMIT,
        request.stop_limit_price,
        request.stop_price,
        ZERO,
        request.stop_client_id,
    )
    limit_leg = _insert_leg(
        scope, request, list_id, orders.LIMIT_MAKER, request.price, None, borrowed, request.limit_client_id
    )
    trading.lock_funds(scope, orders_store.load_order(scope.tx, limit_leg), need)

    result = list_view(config, scope.tx, list_id)
    result.update(pair_risk(scope, request.pair).as_json())
    if borrowed:
        result["marginBuyBorrowAmount"] = format_amount(borrowed, places)
        result["marginBuyBorrowAsset"] = spend_asset
    return result


def _insert_list(scope: WriteScope, request: OcoRequest, client_id: str | None) -> int:
    return store.insert_list(scope.tx, scope.account_id, client_id, request.wallet, request.pair, scope.at)


def _insert_leg(
    scope: WriteScope,
    request: OcoRequest,
    list_id: int,
    order_type: str,
    price: Decimal,
    stop_price: Decimal | None,
    borrowed: Decimal,
    client_id: str | None,
) -> int:
    base, quote = pair_assets(request.pair)
    return store.insert_leg(
        scope.tx,
        {
            "account_id": scope.account_id,
            "wallet": request.wallet,
            "pair": request.pair,
            "side": request.side,
            "type": order_type,
            "price": price,
            "stop_price": stop_price,
            "orig_qty": request.quantity,
            "side_effect": request.side_effect,
            "locked_asset": base if request.side == orders.SELL else quote,
            "borrowed": borrowed,
            "at": scope.at,
            "list_id": list_id,
            "client_order_id": client_id,
        },
    )


def list_view(config: Config, tx: Transaction, list_id: int) -> dict[str, Any]:
    """Binance's OCO response: the list's fields, its orders' ids and both order reports."""
    order_list = store.order_list(tx, list_id)
    legs = store.list_legs(tx, list_id)
    symbol = str(order_list["pair"]).replace("/", "")
    return {
        "orderListId": int(order_list["id"]),
        "contingencyType": order_list["contingency_type"],
        "listStatusType": order_list["list_status_type"],
        "listOrderStatus": order_list["list_order_status"],
        "listClientOrderId": order_list["list_client_order_id"],
        "transactionTime": to_display(from_storage(str(order_list["created_at"]))),
        "symbol": symbol,
        "pair": order_list["pair"],
        "wallet": order_list["wallet"],
        "isIsolated": order_list["wallet"] != CROSS,
        "orders": [
            {"symbol": symbol, "orderId": int(leg["id"]), "clientOrderId": leg["client_order_id"]} for leg in legs
        ],
        "orderReports": [order_view(config, leg) for leg in legs],
    }
