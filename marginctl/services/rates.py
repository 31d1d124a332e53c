"""`rates`: the interest rate history a wallet's rules make (Binance's interestRateHistory)."""

from __future__ import annotations

from typing import Any

from marginctl.config import rules_document
from marginctl.domain.rules import RateHistory, RulesVersion
from marginctl.domain.times import to_display
from marginctl.services.context import Context
from marginctl.store import rules as store
from marginctl.store.rules import load_versions


def rate_history(context: Context, asset_text: str | None) -> list[dict[str, Any]]:
    """Binance's interestRateHistory: {asset, dailyInterestRate, timestamp} per change, newest first."""
    from marginctl.domain.names import parse_asset

    config = context.config
    asset = parse_asset(asset_text, config.assets) if asset_text is not None else None
    with context.read() as tx:
        versions = load_versions(tx)
        if not versions:  # a wallet from before stored rules, not yet written: the rules it runs with
            began = store.wallet_began(tx)
            assert began is not None  # a wallet that opens has its system accounts
            versions = [RulesVersion(began, rules_document(config))]
    return [
        {"asset": code, "dailyInterestRate": format(rate, "f"), "timestamp": to_display(moment)}
        for code, rate, moment in RateHistory(versions).changes()
        if asset is None or code == asset
    ]
