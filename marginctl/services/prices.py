"""`price set` and `price show`: a pair's last price recorded by hand, and every pair's last price."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marginctl.config import Config
from marginctl.domain.errors import PriceMoved
from marginctl.domain.names import parse_pair
from marginctl.domain.prices import parse_price
from marginctl.domain.times import display_stored, parse_time, to_storage
from marginctl.services.context import Context, WriteScope, run_write
from marginctl.services.quotes import pair_quotes
from marginctl.store import prices as prices_store

#: `price show`'s source of a price `price set` recorded, and of one `price follow` took from a ticker.
MANUAL, LIVE = "manual", "live"


def set_price(
    context: Context,
    pair_text: str,
    price_text: str,
    at_text: str | None,
    client_id: str | None,
    source: str = MANUAL,
    expected_last: Decimal | None = None,
) -> dict[str, Any]:
    """Record a price. `expected_last`: refuse (PriceMoved) unless the pair's last price is still that one, read
    under the write lock (`price follow` judged its jump against it)."""
    config = context.config
    pair = parse_pair(pair_text, config.pairs)
    price = parse_price(price_text, config.pairs[pair].tick_size)
    at = parse_time(at_text) if at_text else None  # default: the write's own time, read under its lock

    def record(scope: WriteScope) -> dict[str, Any]:
        if expected_last is not None:
            now = pair_quotes(scope.tx, config).get(pair)
            if now is None or now[0] != expected_last:
                moved = config.price_text(pair, now[0]) if now else "-"
                raise PriceMoved(f"{pair}'s price moved to {moved} meanwhile; it is judged again at the next poll")
        prices_store.record_price(scope.tx, pair, price, to_storage(scope.at), source)
        from marginctl.services.risk_check import pair_risk
        from marginctl.services.trading import match_orders

        matched = match_orders(scope, pair, price)
        risk = pair_risk(scope, pair)
        return {**_price_view(config, pair, price, to_storage(scope.at), source), **matched, **risk.as_json()}

    arguments = {"pair": pair, "price": str(price), "at": to_storage(at) if at else None}
    return run_write(context, "price-set", arguments, client_id, record, at=at)


def show_prices(context: Context) -> list[dict[str, Any]]:
    with context.read() as tx:
        quotes = pair_quotes(tx, context.config)
    return [_price_view(context.config, pair, *quotes[pair]) for pair in sorted(quotes)]


def _price_view(config: Config, pair: str, price: Decimal, at: str | None, source: str) -> dict[str, Any]:
    return {
        "pair": pair,
        "symbol": pair.replace("/", ""),
        "price": config.price_text(pair, price),
        "time": display_stored(at),
        "source": source,
    }
