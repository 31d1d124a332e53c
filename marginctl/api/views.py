"""Binance's response shapes, built from the documents the services return (numbers stay strings)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from marginctl.domain.margin import NO_DEBT_MARGIN_LEVEL
from marginctl.domain.money import round_down

USER_ASSET_FIELDS = ("asset", "borrowed", "free", "interest", "locked", "netAsset")


def margin_account(status: dict[str, Any]) -> dict[str, Any]:
    """GET /sapi/v1/margin/account from `status` of the cross wallet."""
    level = status["marginLevel"] or NO_DEBT_MARGIN_LEVEL
    cooling_off = status["coolingOffUntil"] is not None
    created = status["agreementAcceptedAt"] is not None
    return {
        "created": created,
        "borrowEnabled": created and not cooling_off,
        "marginLevel": level,
        "collateralMarginLevel": status["collateralMarginLevel"] or NO_DEBT_MARGIN_LEVEL,
        "totalAssetOfBtc": status.get("totalAssetOfBtc", "0"),
        "totalLiabilityOfBtc": status.get("totalLiabilityOfBtc", "0"),
        "totalNetAssetOfBtc": status.get("totalNetAssetOfBtc", "0"),
        "TotalCollateralValueInUSDT": status["totalAssetValue"],
        "tradeEnabled": created,
        "transferInEnabled": True,
        "transferOutEnabled": created,
        "accountType": "MARGIN_1",
        "userAssets": [{field: row[field] for field in USER_ASSET_FIELDS} for row in status["userAssets"]],
    }


ORDER_TYPES = ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"]
#: The most the wallet takes in one amount (CLI.md: more than 10^15 is refused).
MOST = "1000000000000000.00000000"


def _eight(text: str) -> str:
    """A rule's number as Binance writes its filters: 8 places."""
    return f"{Decimal(text):.8f}"


def symbol(pair: str) -> str:
    return pair.replace("/", "")


def exchange_info(markets: list[dict[str, Any]], server_ms: int) -> dict[str, Any]:
    """GET /api/v3/exchangeInfo: every pair with the filters the wallet enforces."""
    return {
        "timezone": "UTC",
        "serverTime": server_ms,
        "rateLimits": [],
        "exchangeFilters": [],
        "symbols": [
            {
                "symbol": symbol(market["pair"]),
                "status": "TRADING",
                "baseAsset": market["base"],
                "baseAssetPrecision": market["basePlaces"],
                "quoteAsset": market["quote"],
                "quotePrecision": market["quotePlaces"],
                "quoteAssetPrecision": market["quotePlaces"],
                "baseCommissionPrecision": market["basePlaces"],
                "quoteCommissionPrecision": market["quotePlaces"],
                "orderTypes": ORDER_TYPES,
                "icebergAllowed": False,
                "ocoAllowed": True,
                "quoteOrderQtyMarketAllowed": True,
                "allowTrailingStop": False,
                "cancelReplaceAllowed": False,
                "isSpotTradingAllowed": False,
                "isMarginTradingAllowed": True,
                "filters": [
                    {
                        "filterType": "PRICE_FILTER",
                        "minPrice": _eight(market["tickSize"]),
                        "maxPrice": MOST,
                        "tickSize": _eight(market["tickSize"]),
                    },
                    {
                        "filterType": "LOT_SIZE",
                        "minQty": _eight(market["stepSize"]),
                        "maxQty": MOST,
                        "stepSize": _eight(market["stepSize"]),
                    },
                    {
                        "filterType": "NOTIONAL",
                        "minNotional": _eight(market["minNotional"]),
                        "applyMinToMarket": True,
                        "maxNotional": MOST,
                        "applyMaxToMarket": False,
                        "avgPriceMins": 0,
                    },
                ],
                "permissions": [],
                "permissionSets": [["MARGIN"]],
            }
            for market in markets
        ],
    }


def margin_pairs(markets: list[dict[str, Any]], isolated: bool) -> list[dict[str, Any]]:
    """GET /sapi/v1/margin/allPairs (every pair) and margin/isolated/allPairs (those with isolated rules)."""
    return [
        {
            **({} if isolated else {"id": index}),
            "symbol": symbol(market["pair"]),
            "base": market["base"],
            "quote": market["quote"],
            "isMarginTrade": True,
            "isBuyAllowed": True,
            "isSellAllowed": True,
        }
        for index, market in enumerate(markets, start=1)
        if market["isolated"] or not isolated
    ]


def millis(display: str | None) -> int:
    """A time as the services show it ("2026-11-24T10:00:00Z") in Binance's milliseconds."""
    if display is None:
        return 0
    moment = datetime.fromisoformat(display)
    return int(moment.timestamp() * 1000)


ACK_FIELDS = ("symbol", "orderId", "clientOrderId", "isIsolated")


def order_ack(order: dict[str, Any]) -> dict[str, Any]:
    return {**{field: order[field] for field in ACK_FIELDS}, "transactTime": millis(order["transactTime"])}


def order_result(order: dict[str, Any]) -> dict[str, Any]:
    return {**order_ack(order), **_order_state(order)}


def _order_state(order: dict[str, Any]) -> dict[str, Any]:
    """What RESULT adds to ACK, and what a cancel reports besides the ids."""
    return {
        "price": order["price"] or "0",
        "origQty": order["origQty"],
        "executedQty": order["executedQty"],
        "cummulativeQuoteQty": order["cummulativeQuoteQty"],
        "status": order["status"],
        "timeInForce": order["timeInForce"],
        "type": order["type"],
        "side": order["side"],
        "selfTradePreventionMode": "NONE",
    }


def order_full(order: dict[str, Any]) -> dict[str, Any]:
    """newOrderRespType FULL: the result with what MARGIN_BUY borrowed and each fill."""
    document = order_result(order)
    if "marginBuyBorrowAmount" in order:
        document["marginBuyBorrowAmount"] = order["marginBuyBorrowAmount"]
        document["marginBuyBorrowAsset"] = order["marginBuyBorrowAsset"]
    document["fills"] = order.get("fills", [])
    return document


def order_query(order: dict[str, Any]) -> dict[str, Any]:
    """GET margin/order, openOrders, allOrders: the order as Binance reports it later."""
    return {
        "clientOrderId": order["clientOrderId"],
        "cummulativeQuoteQty": order["cummulativeQuoteQty"],
        "executedQty": order["executedQty"],
        "icebergQty": "0",
        "isWorking": order["isWorking"],
        "orderId": order["orderId"],
        "orderListId": order["orderListId"],
        "origQty": order["origQty"],
        "price": order["price"] or "0",
        "side": order["side"],
        "status": order["status"],
        "stopPrice": order["stopPrice"] or "0",
        "symbol": order["symbol"],
        "isIsolated": order["isIsolated"],
        "time": millis(order["transactTime"]),
        "timeInForce": order["timeInForce"],
        "type": order["type"],
        "selfTradePreventionMode": "NONE",
        "updateTime": millis(order["updateTime"]),
    }


def order_cancelled(order: dict[str, Any], asked_client_id: str | None) -> dict[str, Any]:
    """DELETE margin/order: the order cancelled; `clientOrderId` is the cancel's own, `origClientOrderId` the
    order's. Binance sends this orderId as a string (its SDK's model says so)."""
    return {
        "symbol": order["symbol"],
        "isIsolated": order["isIsolated"],
        "orderId": str(order["orderId"]),
        "origClientOrderId": order["clientOrderId"],
        "clientOrderId": asked_client_id or order["clientOrderId"],
        **_order_state(order),
    }


def order_list(listed: dict[str, Any], report: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    """An OCO as Binance answers it: the list's fields, its orders' ids, and each leg's report."""
    document = {
        "orderListId": listed["orderListId"],
        "contingencyType": listed["contingencyType"],
        "listStatusType": listed["listStatusType"],
        "listOrderStatus": listed["listOrderStatus"],
        "listClientOrderId": listed["listClientOrderId"],
        "transactionTime": millis(listed["transactionTime"]),
        "symbol": listed["symbol"],
        "isIsolated": listed["isIsolated"],
        "orders": listed["orders"],
        "orderReports": [report(leg) for leg in listed["orderReports"]],
    }
    if "marginBuyBorrowAmount" in listed:
        document["marginBuyBorrowAmount"] = listed["marginBuyBorrowAmount"]
        document["marginBuyBorrowAsset"] = listed["marginBuyBorrowAsset"]
    return document


def trade(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "time": millis(row["time"])}


def isolated_asset(row: dict[str, Any], in_btc: dict[str, Decimal]) -> dict[str, Any]:
    """One side of an isolated pair in margin/isolated/account; netAssetOfBtc to 8 places, rounded down."""
    total = Decimal(row["free"]) + Decimal(row["locked"])
    rate = in_btc.get(row["asset"])
    of_btc = "0" if rate is None else format(round_down(Decimal(row["netAsset"]) * rate, 8), "f")
    return {
        "asset": row["asset"],
        "borrowEnabled": True,
        "borrowed": row["borrowed"],
        "free": row["free"],
        "interest": row["interest"],
        "locked": row["locked"],
        "netAsset": row["netAsset"],
        "netAssetOfBtc": of_btc,
        "repayEnabled": True,
        "totalAsset": format(total, "f"),
    }


def isolated_account(wallets: list[dict[str, Any]], in_btc: dict[str, Decimal]) -> dict[str, Any]:
    """GET margin/isolated/account from the `status` of each isolated wallet."""
    assets = []
    for wallet in wallets:
        base, quote = wallet["wallet"].split("/")
        rows = {row["asset"]: row for row in wallet["userAssets"]}
        empty = {"asset": "", "free": "0", "locked": "0", "borrowed": "0", "interest": "0", "netAsset": "0"}
        level = wallet["marginLevel"] or NO_DEBT_MARGIN_LEVEL
        base_row = rows.get(base, {**empty, "asset": base})
        assets.append(
            {
                "baseAsset": isolated_asset(base_row, in_btc),
                "quoteAsset": isolated_asset(rows.get(quote, {**empty, "asset": quote}), in_btc),
                "symbol": base + quote,
                "isolatedCreated": True,
                "enabled": True,
                "marginLevel": level,
                "marginLevelStatus": wallet["marginLevelStatus"],
                "marginRatio": wallet["initialLevel"],
                "indexPrice": wallet.get("indexPrice", "0"),
                "liquidatePrice": base_row.get("liquidationPrice") or "0",
                "liquidateRate": wallet["liquidationLevel"],
                "tradeEnabled": True,
            }
        )
    return {
        "assets": assets,
        "totalAssetOfBtc": _sum(wallets, "totalAssetOfBtc"),
        "totalLiabilityOfBtc": _sum(wallets, "totalLiabilityOfBtc"),
        "totalNetAssetOfBtc": _sum(wallets, "totalNetAssetOfBtc"),
    }


def _sum(wallets: list[dict[str, Any]], field: str) -> str:
    return format(sum((Decimal(wallet.get(field, "0")) for wallet in wallets), Decimal(0)), "f")
