"""Binance's margin endpoints: each reads Binance's parameters, calls one service for the key's account, and
answers in Binance's shape. Handlers run on the wallet's thread with the request's context."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from decimal import Decimal
from typing import Any, NamedTuple

from marginctl.api import params, views
from marginctl.api.errors import (
    BAD_PARAMETER,
    BAD_SYMBOL,
    INVALID_ORDER_TYPE,
    INVALID_SIDE,
    INVALID_TIME_IN_FORCE,
    MANDATORY_PARAM_MISSING,
    MARGIN_ACCOUNT_MISSING,
    NEW_ORDER_REJECTED,
    NOT_A_MARGIN_ASSET,
    ORDER_DOES_NOT_EXIST,
    PARAMETER_NOT_REQUIRED,
    UNSUPPORTED_COMBINATION,
    BinanceError,
)
from marginctl.api.signed import SignedRequest
from marginctl.domain.errors import AgreementRequired, ClientIdReused, InsufficientBalance, UnknownOrder
from marginctl.domain.names import CROSS, SPOT
from marginctl.services.context import Context

Handler = Callable[[Context, SignedRequest], Any]

#: Binance's pattern for a client order id.
CLIENT_ORDER_ID = re.compile(r"[.A-Z:/a-z0-9_-]{1,36}")
ID_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


class Endpoint(NamedTuple):
    method: str
    path: str
    handler: Handler | None
    signed: bool
    write: bool
    #: Binance's request weight, counted against the key's (or address's) weight per minute.
    weight: int
    #: The weight instead when the order may borrow (sideEffectType MARGIN_BUY or AUTO_BORROW_REPAY).
    borrowing_weight: int = 0


# --- transfers -----------------------------------------------------------------------------------------------

#: asset/transfer's types between the wallets marginctl keeps: (from, to); ISOLATED ends take a symbol.
TRANSFER_TYPES = {
    "MAIN_MARGIN": (SPOT, CROSS),
    "MARGIN_MAIN": (CROSS, SPOT),
    "MAIN_ISOLATED_MARGIN": (SPOT, "to"),
    "ISOLATED_MARGIN_MAIN": ("from", SPOT),
    "MARGIN_ISOLATED_MARGIN": (CROSS, "to"),
    "ISOLATED_MARGIN_MARGIN": ("from", CROSS),
    "ISOLATED_MARGIN_ISOLATED_MARGIN": ("from", "to"),
}


def _move(context: Context, asset: str, amount: str, source: str, target: str) -> dict[str, Any]:
    from marginctl.services.funds import parse_transfer, transfer

    request = parse_transfer(context.config, asset, amount, source, target)
    try:
        result = transfer(context, request, accept_agreement=False, client_id=None)
    except AgreementRequired:
        raise BinanceError(
            MARGIN_ACCOUNT_MISSING,
            "Margin account does not exist: accept the risk agreement once with `marginctl transfer ... --yes`.",
        ) from None
    return {"tranId": result["tranId"]}


def _isolated_end(context: Context, request: SignedRequest, name: str) -> str:
    pair = params.symbol_pair(context.config, request, name)
    assert pair is not None
    if pair not in context.config.isolated:
        raise BinanceError(BAD_SYMBOL, "Invalid symbol: no isolated margin for this pair.")
    return pair


def universal_transfer(context: Context, request: SignedRequest) -> Any:
    kind = params.choice(request, "type", TRANSFER_TYPES)
    asset = request.required("asset")
    amount = params.decimal_text(request, "amount")
    ends = [
        _isolated_end(context, request, f"{end}Symbol") if end in ("from", "to") else end
        for end in TRANSFER_TYPES[kind]
    ]
    assert amount is not None
    return _move(context, asset, amount, ends[0], ends[1])


def margin_transfer(context: Context, request: SignedRequest) -> Any:
    """The older cross transfer: type 1 is spot → margin, 2 margin → spot."""
    kind = params.choice(request, "type", ("1", "2"))
    amount = params.decimal_text(request, "amount")
    assert amount is not None
    source, target = (SPOT, CROSS) if kind == "1" else (CROSS, SPOT)
    return _move(context, request.required("asset"), amount, source, target)


def isolated_transfer(context: Context, request: SignedRequest) -> Any:
    pair = _isolated_end(context, request, "symbol")
    ends = {"SPOT": SPOT, "ISOLATED_MARGIN": pair}
    source = ends[params.choice(request, "transFrom", ends)]
    target = ends[params.choice(request, "transTo", ends)]
    amount = params.decimal_text(request, "amount")
    assert amount is not None
    return _move(context, request.required("asset"), amount, source, target)


# --- borrowing -----------------------------------------------------------------------------------------------


def _loan(context: Context, request: SignedRequest, kind: str, isolated_symbol: str = "symbol") -> Any:
    from marginctl.services.loans import borrow, repay

    isolated = params.isolated_pair(context.config, request, isolated_symbol)
    asset = request.required("asset")
    amount = params.decimal_text(request, "amount")
    assert amount is not None
    act = borrow if kind == "BORROW" else repay
    result = act(context, asset, amount, isolated, None)
    return {"tranId": result["tranId"], "clientTag": ""}


def borrow_repay(context: Context, request: SignedRequest) -> Any:
    return _loan(context, request, params.choice(request, "type", ("BORROW", "REPAY")))


def loan(context: Context, request: SignedRequest) -> Any:
    return _loan(context, request, "BORROW")


def repay_loan(context: Context, request: SignedRequest) -> Any:
    return _loan(context, request, "REPAY")


def borrow_repay_records(context: Context, request: SignedRequest) -> Any:
    """GET margin/borrow-repay: the account's borrows or repays, newest first, `size` a page."""
    from marginctl.services.history import MAX_LIMIT, history

    kind = params.choice(request, "type", ("BORROW", "REPAY"))
    asset = params.optional(request, "asset")
    isolated = params.symbol_pair(context.config, request, "isolatedSymbol", required=False)
    wanted_id = params.whole(request, "txId")
    start, end = params.whole(request, "startTime"), params.whole(request, "endTime")
    current = params.count(request, "current", 1, 1_000_000)
    size = params.count(request, "size", 10, 100)
    rows = []
    for entry in history(context, str(MAX_LIMIT), kind.lower()):
        debt = [change for change in entry["changes"] if change["field"] in ("borrowed", "interest")]
        if not debt:
            continue
        wallet = debt[0]["wallet"]
        principal = sum((Decimal(c["amount"]) for c in debt if c["field"] == "borrowed"), Decimal(0))
        interest = sum((Decimal(c["amount"]) for c in debt if c["field"] == "interest"), Decimal(0))
        row: dict[str, Any] = {
            "type": "MANUAL",
            "asset": debt[0]["asset"],
            "amount": format(abs(principal + interest) if kind == "REPAY" else principal, "f"),
            "status": "CONFIRMED",
            "timestamp": views.millis(entry["time"]),
            "txId": entry["tranId"],
        }
        if kind == "REPAY":
            row["principal"] = format(abs(principal), "f")
            row["interest"] = format(abs(interest), "f")
        if wallet != CROSS:
            row["isolatedSymbol"] = wallet.replace("/", "")
        if asset is not None and row["asset"] != asset:
            continue
        if (isolated or CROSS) != wallet or (wanted_id is not None and row["txId"] != wanted_id):
            continue
        if not _in_window(row["timestamp"], start, end):
            continue
        rows.append(row)
    return {"rows": rows[(current - 1) * size : current * size], "total": len(rows)}


def _in_window(at: int, start: int | None, end: int | None) -> bool:
    """Binance's startTime and endTime, both inclusive, in milliseconds."""
    return (start is None or at >= start) and (end is None or at <= end)


def _wallet_status(context: Context, isolated: str | None) -> dict[str, Any]:
    from marginctl.services.status import status

    document: dict[str, Any] = status(context, isolated, with_pnl=False)
    return document


def _asset_of(context: Context, request: SignedRequest) -> str:
    asset = request.required("asset")
    if asset not in context.config.assets:
        raise BinanceError(NOT_A_MARGIN_ASSET, "Not a valid margin asset.")
    return asset


def max_borrowable(context: Context, request: SignedRequest) -> Any:
    asset = _asset_of(context, request)
    isolated = params.symbol_pair(context.config, request, "isolatedSymbol", required=False)
    rows = {row["asset"]: row for row in _wallet_status(context, isolated)["userAssets"]}
    if asset in rows:
        amount = rows[asset]["maxBorrowable"]
    else:
        from marginctl.services.loans import borrow_quote

        amount = borrow_quote(context, asset, "max", isolated)["maxBorrowable"]
    return {"amount": amount, "borrowLimit": format(context.config.assets[asset].borrow_limit, "f")}


def max_transferable(context: Context, request: SignedRequest) -> Any:
    asset = _asset_of(context, request)
    isolated = params.symbol_pair(context.config, request, "isolatedSymbol", required=False)
    places = context.config.places(asset)
    amount = _wallet_status(context, isolated)["maxTransferable"].get(asset, f"{0:.{places}f}")
    return {"amount": amount}


# --- accounts ------------------------------------------------------------------------------------------------


def margin_account(context: Context, request: SignedRequest) -> Any:
    return views.margin_account(_wallet_status(context, None))


def isolated_account(context: Context, request: SignedRequest) -> Any:
    from marginctl.services.status import status

    wanted = None
    if params.optional(request, "symbols") is not None:
        listed = request.required("symbols").split(",")
        if len(listed) > 5:
            raise BinanceError(BAD_PARAMETER, "Parameter 'symbols' takes at most 5 symbols.")
        wanted = [params.pair_of(context.config, name) for name in listed]
    in_use = {
        document["wallet"]: document
        for document in status(context, all_wallets=True, with_pnl=False)
        if document["wallet"] in context.config.isolated
    }
    if wanted is None:
        wallets = list(in_use.values())
    else:
        # a pair asked for by name is answered even when its wallet holds nothing (emptied by a liquidation)
        wallets = [in_use.get(pair) or status(context, pair, with_pnl=False) for pair in wanted]
    return views.isolated_account(wallets, _prices_in_btc(context))


def _prices_in_btc(context: Context) -> dict[str, Decimal]:
    """Each asset's price in BTC, through its pair with the valuation asset (as Binance's *OfBtc fields)."""
    from marginctl.services.prices import show_prices

    valuation = context.config.valuation_asset
    prices = {valuation: Decimal(1)}
    for row in show_prices(context):
        base, quote = row["pair"].split("/")
        if quote == valuation:
            prices[base] = Decimal(row["price"])
    btc = prices.get("BTC")
    return {asset: price / btc for asset, price in prices.items()} if btc else {}


# --- orders --------------------------------------------------------------------------------------------------

ORDER_TYPES = ("MARKET", "LIMIT", "LIMIT_MAKER", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT")
#: Binance's types that marginctl does not run: market stops (a stop becomes a limit order here).
UNSUPPORTED_TYPES = ("STOP_LOSS", "TAKE_PROFIT")
SIDE_EFFECT_NAMES = {
    "NO_SIDE_EFFECT": "normal",
    "MARGIN_BUY": "auto-borrow",
    "AUTO_REPAY": "auto-repay",
    "AUTO_BORROW_REPAY": "auto-borrow-repay",
}
RESPONSE_TYPES = {"ACK": views.order_ack, "RESULT": views.order_result, "FULL": views.order_full}


def _client_order_id(request: SignedRequest, name: str) -> str:
    """The client's id (the idempotency key of the order), or one made as Binance makes one."""
    text = params.optional(request, name)
    if text is None:
        return "".join(secrets.choice(ID_LETTERS) for _ in range(22))
    if not CLIENT_ORDER_ID.fullmatch(text):
        raise params.illegal(name, "^[\\.A-Z\\:/a-z0-9_-]{1,36}$")
    return text


def _side(request: SignedRequest) -> str:
    return params.choice(request, "side", ("BUY", "SELL"), INVALID_SIDE).lower()


def _side_effect(request: SignedRequest) -> str:
    if params.optional(request, "sideEffectType") is None:
        return "normal"
    return SIDE_EFFECT_NAMES[params.choice(request, "sideEffectType", SIDE_EFFECT_NAMES)]


def _time_in_force(request: SignedRequest, name: str, needed: bool) -> None:
    """GTC only: a margin order here rests until filled or cancelled (IOC and FOK are refused)."""
    if params.optional(request, name) is None:
        if needed:
            raise params.missing(name)
        return
    if not needed:
        raise BinanceError(PARAMETER_NOT_REQUIRED, f"Parameter '{name}' sent when not required.")
    if request.params[name] != "GTC":
        raise BinanceError(INVALID_TIME_IN_FORCE, "Invalid timeInForce: marginctl keeps GTC orders only.")


def new_order(context: Context, request: SignedRequest) -> Any:
    import dataclasses

    from marginctl.services.trading import parse_order, place_order

    config = context.config
    pair, isolated = _pair_and_isolated(context, request)
    side = _side(request)
    order_type = request.required("type")
    if order_type in UNSUPPORTED_TYPES:
        raise BinanceError(
            UNSUPPORTED_COMBINATION, f"Unsupported order combination: {order_type} (use {order_type}_LIMIT)."
        )
    if order_type not in ORDER_TYPES:
        raise BinanceError(INVALID_ORDER_TYPE, "Invalid orderType.")
    quantity = params.decimal_text(request, "quantity", required=False)
    quote = params.decimal_text(request, "quoteOrderQty", required=False)
    price = params.decimal_text(request, "price", required=order_type != "MARKET")
    stop = params.decimal_text(
        request, "stopPrice", required=order_type.endswith("PROFIT_LIMIT") or order_type.startswith("STOP")
    )
    if order_type == "MARKET":
        if price is not None:
            raise BinanceError(PARAMETER_NOT_REQUIRED, "Parameter 'price' sent when not required.")
        if quantity is None and quote is None:
            raise BinanceError(
                MANDATORY_PARAM_MISSING, "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!"
            )
        if quantity is not None and quote is not None:
            raise BinanceError(PARAMETER_NOT_REQUIRED, "Parameter 'quoteOrderQty' sent when not required.")
    elif quantity is None:
        raise params.missing("quantity")
    elif quote is not None:
        raise BinanceError(PARAMETER_NOT_REQUIRED, "Parameter 'quoteOrderQty' sent when not required.")
    if order_type in ("MARKET", "LIMIT", "LIMIT_MAKER") and stop is not None:
        raise BinanceError(PARAMETER_NOT_REQUIRED, "Parameter 'stopPrice' sent when not required.")
    _time_in_force(request, "timeInForce", order_type in ("LIMIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"))
    respond = RESPONSE_TYPES[
        params.choice(request, "newOrderRespType", RESPONSE_TYPES)
        if params.optional(request, "newOrderRespType")
        else ("FULL" if order_type in ("MARKET", "LIMIT") else "ACK")
    ]
    params.on_filters(config, pair, request, ("quantity",), ("price", "stopPrice"))
    client_id = _client_order_id(request, "newClientOrderId")
    parsed = parse_order(config, side, pair, quantity, quote, price, stop, _side_effect(request), isolated is not None)
    parsed = dataclasses.replace(
        parsed,
        repay_at_cancel=params.boolean(request, "autoRepayAtCancel", True),
        post_only=order_type == "LIMIT_MAKER",
        expected_type=order_type if stop is not None else None,
    )
    return respond(_placing(lambda: place_order(context, parsed, client_id)))


def _placing(place: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """An order's refusals as Binance words them for orders (a transfer's or a borrow's differ)."""
    try:
        return place()
    except ClientIdReused:
        raise BinanceError(NEW_ORDER_REJECTED, "Duplicate order sent.") from None
    except InsufficientBalance:
        raise BinanceError(NEW_ORDER_REJECTED, "Account has insufficient balance for requested action.") from None


def _order_key(request: SignedRequest) -> tuple[int | None, str | None]:
    order_id = params.whole(request, "orderId")
    client_id = params.optional(request, "origClientOrderId")
    if order_id is None and client_id is None:
        raise BinanceError(
            MANDATORY_PARAM_MISSING, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!"
        )
    return order_id, client_id


def _pair_and_isolated(context: Context, request: SignedRequest) -> tuple[str, str | None]:
    """`symbol` as the wallet's pair, and that pair again when `isIsolated` says its isolated wallet."""
    pair = params.symbol_pair(context.config, request)
    assert pair is not None
    return pair, params.isolated_pair(context.config, request)


def _wallet_and_pair(context: Context, request: SignedRequest) -> tuple[str, str]:
    pair, isolated = _pair_and_isolated(context, request)
    return params.wallet_of(isolated), pair


def query_order(context: Context, request: SignedRequest) -> Any:
    from marginctl.services.wallet_orders import find_order

    wallet, pair = _wallet_and_pair(context, request)
    try:
        return views.order_query(find_order(context, wallet, pair, *_order_key(request)))
    except UnknownOrder:
        raise BinanceError(ORDER_DOES_NOT_EXIST, "Order does not exist.") from None


def cancel_order(context: Context, request: SignedRequest) -> Any:
    from marginctl.services.wallet_orders import cancel_wallet_order

    wallet, pair = _wallet_and_pair(context, request)
    order_id, client_id = _order_key(request)
    cancelled = cancel_wallet_order(context, wallet, pair, order_id, client_id)
    asked = params.optional(request, "newClientOrderId")
    return views.order_cancelled(cancelled[0], asked)


def _wallet_and_optional_pair(context: Context, request: SignedRequest) -> tuple[str, str | None]:
    pair = params.symbol_pair(context.config, request, required=False)
    isolated = params.isolated_pair(context.config, request) if pair is not None else None
    if pair is None and params.boolean(request, "isIsolated", False):
        raise params.missing("symbol")
    return params.wallet_of(isolated), pair


def open_orders(context: Context, request: SignedRequest) -> Any:
    from marginctl.services.wallet_orders import wallet_orders

    wallet, pair = _wallet_and_optional_pair(context, request)
    return [views.order_query(order) for order in wallet_orders(context, wallet, pair, open_only=True)]


def cancel_open_orders(context: Context, request: SignedRequest) -> Any:
    from marginctl.services.wallet_orders import cancel_open_orders as cancel_all

    wallet, pair = _wallet_and_pair(context, request)
    return [views.order_cancelled(order, None) for order in cancel_all(context, wallet, pair)]


def all_orders(context: Context, request: SignedRequest) -> Any:
    from marginctl.services.wallet_orders import wallet_orders

    wallet, pair = _wallet_and_pair(context, request)
    from_id = params.whole(request, "orderId")
    limit = params.count(request, "limit", 500, 500)
    start, end = params.whole(request, "startTime"), params.whole(request, "endTime")
    found = [views.order_query(order) for order in wallet_orders(context, wallet, pair, False, from_id)]
    found = [order for order in found if _in_window(order["time"], start, end)]
    return found[-limit:] if from_id is None else found[:limit]


def my_trades(context: Context, request: SignedRequest) -> Any:
    from marginctl.services.wallet_orders import wallet_trades

    wallet, pair = _wallet_and_pair(context, request)
    limit = params.count(request, "limit", 500, 1000)
    start, end = params.whole(request, "startTime"), params.whole(request, "endTime")
    found = [
        views.trade(row) for row in wallet_trades(context, wallet, pair, params.whole(request, "fromId"), 1_000_000)
    ]
    found = [row for row in found if _in_window(row["time"], start, end)]
    return found[-limit:] if params.optional(request, "fromId") is None else found[:limit]


def new_oco(context: Context, request: SignedRequest) -> Any:
    import dataclasses

    from marginctl.services.oco import parse_oco, place_oco

    config = context.config
    pair, isolated = _pair_and_isolated(context, request)
    side = _side(request)
    quantity = params.decimal_text(request, "quantity")
    price = params.decimal_text(request, "price")
    stop = params.decimal_text(request, "stopPrice")
    stop_limit = params.decimal_text(request, "stopLimitPrice", required=False)
    if stop_limit is None:
        raise BinanceError(
            UNSUPPORTED_COMBINATION, "Unsupported order combination: give stopLimitPrice (a stop-limit leg)."
        )
    _time_in_force(request, "stopLimitTimeInForce", True)
    assert quantity is not None
    params.on_filters(config, pair, request, ("quantity",), ("price", "stopPrice", "stopLimitPrice"))
    client_id = _client_order_id(request, "listClientOrderId")
    parsed = dataclasses.replace(
        parse_oco(config, side, pair, quantity, price, stop, stop_limit, _side_effect(request), isolated is not None),
        limit_client_id=_client_order_id(request, "limitClientOrderId"),
        stop_client_id=_client_order_id(request, "stopClientOrderId"),
    )
    response = params.optional(request, "newOrderRespType") or "ACK"
    report = RESPONSE_TYPES[params.choice(request, "newOrderRespType", RESPONSE_TYPES) if response != "ACK" else "ACK"]
    listed = _placing(lambda: place_oco(context, parsed, client_id))
    return views.order_list(listed, views.order_result if report is views.order_ack else report)


# --- interest, rates, rules ----------------------------------------------------------------------------------


def interest_history(context: Context, request: SignedRequest) -> Any:
    from marginctl.services.history import MAX_LIMIT
    from marginctl.services.interest import interest_history as charges

    asset = params.optional(request, "asset")
    if asset is not None:
        _asset_of(context, request)
    isolated = params.symbol_pair(context.config, request, "isolatedSymbol", required=False)
    start, end = params.whole(request, "startTime"), params.whole(request, "endTime")
    current = params.count(request, "current", 1, 1_000_000)
    size = params.count(request, "size", 10, 100)
    rows = []
    for row in charges(context, asset, None, str(MAX_LIMIT))["rows"]:
        at = views.millis(row["interestAccuredTime"])
        if row["wallet"] != (isolated or CROSS):
            continue
        if not _in_window(at, start, end):
            continue
        item = {key: value for key, value in row.items() if key != "wallet"}
        item["interestAccuredTime"] = at
        item["rawAsset"] = row["asset"]
        rows.append(item)
    return {"rows": rows[(current - 1) * size : current * size], "total": len(rows)}


def interest_rate_history(context: Context, request: SignedRequest) -> Any:
    from marginctl.services.rates import rate_history

    asset = _asset_of(context, request)
    start, end = params.whole(request, "startTime"), params.whole(request, "endTime")
    limit = params.count(request, "limit", 20, 100)
    rows = [
        {
            "asset": row["asset"],
            "timestamp": views.millis(row["timestamp"]),
            "dailyInterestRate": row["dailyInterestRate"],
            "vipLevel": 0,
        }
        for row in rate_history(context, asset)
    ]
    rows = [row for row in rows if _in_window(row["timestamp"], start, end)]
    return rows[:limit]


def all_assets(context: Context, request: SignedRequest) -> Any:
    config = context.config
    return [
        {
            "assetFullName": code,
            "assetName": code,
            "isBorrowable": True,
            "isMortgageable": True,
            "userMinBorrow": "0",
            "userMinRepay": "0",
            "delistTime": None,
        }
        for code in sorted(config.assets)
    ]


def cross_margin_data(context: Context, request: SignedRequest) -> Any:
    config = context.config
    coin = params.optional(request, "coin")
    return [
        {
            "vipLevel": 0,
            "coin": code,
            "transferIn": True,
            "borrowable": True,
            "dailyInterest": format(rules.daily_interest_rate, "f"),
            "yearlyInterest": format(rules.daily_interest_rate * 365, "f"),
            "borrowLimit": format(rules.borrow_limit, "f"),
            "marginablePairs": sorted(pair.replace("/", "") for pair in config.pairs if code in pair.split("/")),
        }
        for code, rules in sorted(config.assets.items())
        if coin is None or code == coin
    ]


def isolated_margin_data(context: Context, request: SignedRequest) -> Any:
    config = context.config
    wanted = params.symbol_pair(config, request, required=False)
    return [
        {
            "vipLevel": 0,
            "symbol": pair.replace("/", ""),
            "leverage": str(config.isolated[pair].leverage),
            "data": [
                {
                    "coin": code,
                    "dailyInterest": format(config.assets[code].daily_interest_rate, "f"),
                    "borrowLimit": format(config.assets[code].borrow_limit, "f"),
                }
                for code in pair.split("/")
            ],
        }
        for pair in sorted(config.isolated)
        if wanted is None or pair == wanted
    ]


def force_liquidations(context: Context, request: SignedRequest) -> Any:
    from marginctl.services.wallet_orders import liquidation_orders

    isolated = params.symbol_pair(context.config, request, "isolatedSymbol", required=False)
    start, end = params.whole(request, "startTime"), params.whole(request, "endTime")
    current = params.count(request, "current", 1, 1_000_000)
    size = params.count(request, "size", 10, 100)
    rows = []
    for order in liquidation_orders(context, isolated or CROSS):
        executed = Decimal(order["executedQty"])
        average = Decimal(order["cummulativeQuoteQty"]) / executed if executed else Decimal(0)
        at = views.millis(order["updateTime"])
        if not _in_window(at, start, end):
            continue
        rows.append(
            {
                "avgPrice": format(average.quantize(Decimal("0.00000001")), "f"),
                "executedQty": order["executedQty"],
                "orderId": order["orderId"],
                "price": format(average.quantize(Decimal("0.00000001")), "f"),
                "qty": order["origQty"],
                "side": order["side"],
                "symbol": order["symbol"],
                "timeInForce": "GTC",
                "isIsolated": order["isIsolated"],
                "updatedTime": at,
            }
        )
    return {"rows": rows[(current - 1) * size : current * size], "total": len(rows)}


# --- prices --------------------------------------------------------------------------------------------------


def _prices(context: Context, request: SignedRequest) -> list[dict[str, Any]]:
    from marginctl.services.prices import show_prices

    listed = show_prices(context)
    if "symbol" in request.params:
        pair = params.symbol_pair(context.config, request)
        found = [row for row in listed if row["pair"] == pair]
        if not found:
            raise BinanceError(BAD_SYMBOL, "Invalid symbol: it has no price yet.")
        return found
    return listed


def price_index(context: Context, request: SignedRequest) -> Any:
    import time

    request.required("symbol")
    row = _prices(context, request)[0]
    # a price from the config has no time of its own: it is the index now
    calc_time = views.millis(row["time"]) if row["time"] else int(time.time() * 1000)
    return {"calcTime": calc_time, "price": row["price"], "symbol": row["symbol"]}


def ticker_price(context: Context, request: SignedRequest) -> Any:
    if "symbols" in request.params:
        try:
            wanted = json.loads(request.params["symbols"])
        except ValueError:
            wanted = None
        if not isinstance(wanted, list) or not all(isinstance(name, str) for name in wanted):
            raise params.illegal("symbols")
        for name in wanted:
            params.pair_of(context.config, name)
        return [
            {"symbol": row["symbol"], "price": row["price"]}
            for row in _prices(context, request)
            if row["symbol"] in wanted
        ]
    rows = [{"symbol": row["symbol"], "price": row["price"]} for row in _prices(context, request)]
    return rows[0] if "symbol" in request.params else rows


#: Every path served, with Binance's weights (the UID weights of the margin endpoints).
ENDPOINTS = [
    Endpoint("GET", "/api/v3/ticker/price", ticker_price, signed=False, write=False, weight=2),
    Endpoint("GET", "/sapi/v1/margin/priceIndex", price_index, signed=False, write=False, weight=10),
    Endpoint("GET", "/sapi/v1/margin/allAssets", all_assets, signed=False, write=False, weight=1),
    Endpoint("GET", "/sapi/v1/margin/crossMarginData", cross_margin_data, signed=True, write=False, weight=1),
    Endpoint("GET", "/sapi/v1/margin/isolatedMarginData", isolated_margin_data, signed=True, write=False, weight=1),
    Endpoint("POST", "/sapi/v1/asset/transfer", universal_transfer, signed=True, write=True, weight=900),
    Endpoint("POST", "/sapi/v1/margin/transfer", margin_transfer, signed=True, write=True, weight=600),
    Endpoint("POST", "/sapi/v1/margin/isolated/transfer", isolated_transfer, signed=True, write=True, weight=600),
    Endpoint("POST", "/sapi/v1/margin/borrow-repay", borrow_repay, signed=True, write=True, weight=1500),
    Endpoint("GET", "/sapi/v1/margin/borrow-repay", borrow_repay_records, signed=True, write=False, weight=10),
    Endpoint("POST", "/sapi/v1/margin/loan", loan, signed=True, write=True, weight=3000),
    Endpoint("POST", "/sapi/v1/margin/repay", repay_loan, signed=True, write=True, weight=3000),
    Endpoint("GET", "/sapi/v1/margin/maxBorrowable", max_borrowable, signed=True, write=False, weight=50),
    Endpoint("GET", "/sapi/v1/margin/maxTransferable", max_transferable, signed=True, write=False, weight=50),
    Endpoint("GET", "/sapi/v1/margin/account", margin_account, signed=True, write=False, weight=10),
    Endpoint("GET", "/sapi/v1/margin/isolated/account", isolated_account, signed=True, write=False, weight=10),
    Endpoint("POST", "/sapi/v1/margin/order", new_order, signed=True, write=True, weight=6, borrowing_weight=1500),
    Endpoint("GET", "/sapi/v1/margin/order", query_order, signed=True, write=False, weight=10),
    Endpoint("DELETE", "/sapi/v1/margin/order", cancel_order, signed=True, write=True, weight=10),
    Endpoint("POST", "/sapi/v1/margin/order/oco", new_oco, signed=True, write=True, weight=6, borrowing_weight=1500),
    Endpoint("GET", "/sapi/v1/margin/openOrders", open_orders, signed=True, write=False, weight=10),
    Endpoint("DELETE", "/sapi/v1/margin/openOrders", cancel_open_orders, signed=True, write=True, weight=1),
    Endpoint("GET", "/sapi/v1/margin/allOrders", all_orders, signed=True, write=False, weight=200),
    Endpoint("GET", "/sapi/v1/margin/myTrades", my_trades, signed=True, write=False, weight=10),
    Endpoint("GET", "/sapi/v1/margin/interestHistory", interest_history, signed=True, write=False, weight=1),
    Endpoint("GET", "/sapi/v1/margin/interestRateHistory", interest_rate_history, signed=True, write=False, weight=1),
    Endpoint("GET", "/sapi/v1/margin/forceLiquidationRec", force_liquidations, signed=True, write=False, weight=1),
]
