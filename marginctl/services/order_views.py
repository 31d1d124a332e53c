"""Binance's order fields, as every result that shows an order gives them (trade, cancel, orders, OCO)."""

from __future__ import annotations

from typing import Any

from marginctl.config import Config
from marginctl.domain import orders as rules
from marginctl.domain.money import format_amount, from_text
from marginctl.domain.names import CROSS, pair_assets
from marginctl.domain.prices import price_places
from marginctl.domain.times import from_storage, to_display
from marginctl.store.database import Row


def order_view(config: Config, row: Row) -> dict[str, Any]:
    """Binance's order fields."""
    pair = str(row["pair"])
    base, quote = pair_assets(pair)
    places = price_places(config.pairs[pair].tick_size)
    return {
        "orderId": int(row["id"]),
        "clientOrderId": row["client_order_id"],
        "symbol": pair.replace("/", ""),
        "pair": pair,
        "wallet": row["wallet"],
        "isIsolated": row["wallet"] != CROSS,
        "side": row["side"],
        "type": row["type"],
        "price": format_amount(from_text(row["price"]), places) if row["price"] is not None else None,
        "stopPrice": format_amount(from_text(row["stop_price"]), places) if row["stop_price"] is not None else None,
        "origQty": format_amount(from_text(row["orig_qty"]), config.places(base)),
        "executedQty": format_amount(from_text(row["executed_qty"]), config.places(base)),
        "cummulativeQuoteQty": format_amount(from_text(row["quote_qty"]), config.places(quote)),
        "status": row["status"],
        "sideEffectType": row["side_effect"],
        "orderListId": int(row["order_list_id"]) if row["order_list_id"] is not None else -1,
        "timeInForce": rules.TIME_IN_FORCE,
        # A stop-limit works once its stop is reached (Binance's isWorking).
        "isWorking": row["stop_price"] is None or bool(row["triggered"]),
        "transactTime": to_display(from_storage(str(row["created_at"]))),
        "updateTime": to_display(from_storage(str(row["updated_at"]))),
    }
