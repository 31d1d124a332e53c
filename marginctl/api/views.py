"""Binance's response shapes, built from the documents the services return (numbers stay strings)."""

from __future__ import annotations

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
