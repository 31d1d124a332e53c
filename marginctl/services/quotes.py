"""Market prices as every rule reads them: the last price of each pair (recorded, else the config's starting
price), and each asset's value in the valuation asset."""

from __future__ import annotations

from decimal import Decimal

from marginctl.config import Config
from marginctl.domain.prices import valuation_prices
from marginctl.store import prices as prices_store
from marginctl.store.database import Transaction

CONFIG_SOURCE = "config"


def pair_quotes(tx: Transaction, config: Config) -> dict[str, tuple[Decimal, str | None, str]]:
    """pair → (price, time or None, source): recorded prices, else the config's starting price."""
    quotes: dict[str, tuple[Decimal, str | None, str]] = {
        pair: (settings.price, None, CONFIG_SOURCE) for pair, settings in config.pairs.items() if settings.price
    }
    for row in prices_store.recorded_prices(tx):
        if row["pair"] in config.pairs:
            quotes[str(row["pair"])] = (Decimal(row["price"]), str(row["at"]), str(row["source"]))
    return quotes


def asset_prices(tx: Transaction, config: Config) -> dict[str, Decimal]:
    """Every priced asset's value in the valuation asset."""
    quotes = pair_quotes(tx, config)
    return valuation_prices({pair: quote[0] for pair, quote in quotes.items()}, config.valuation_asset)
