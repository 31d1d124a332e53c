"""Binance's response shapes, built from the documents the services return (numbers stay strings)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marginctl.domain.margin import NO_DEBT_MARGIN_LEVEL

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
