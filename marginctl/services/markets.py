"""The wallet's markets as an exchange lists them: each pair's trading rules, from the rules in force."""

from __future__ import annotations

from typing import Any

from marginctl.domain.money import to_text
from marginctl.domain.names import pair_assets
from marginctl.services.context import Context


def markets(context: Context) -> list[dict[str, Any]]:
    """Every pair: its assets and their places, tick and step sizes, minimum notional, isolated or not."""
    config = context.config
    rows = []
    for pair, rules in config.pairs.items():
        base, quote = pair_assets(pair)
        rows.append(
            {
                "pair": pair,
                "base": base,
                "quote": quote,
                "basePlaces": config.places(base),
                "quotePlaces": config.places(quote),
                "tickSize": to_text(rules.tick_size),
                "stepSize": to_text(rules.step_size),
                "minNotional": to_text(rules.min_notional),
                "isolated": pair in config.isolated,
            }
        )
    return rows
