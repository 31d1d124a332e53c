"""`price follow` judges a jump against the wallet's last price, then records in a write of its own: the write
checks, under its lock, that the price it judged against is still the last one."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from marginctl.domain.errors import PriceMoved
from tests.api.test_replay_clock import context_for
from tests.conftest import new_wallet


def test_a_price_recorded_meanwhile_refuses_the_follower_s_write(tmp_path: Path) -> None:
    from marginctl.services.prices import LIVE, set_price

    wallet = new_wallet(tmp_path / "moved.db")
    wallet.ok("price", "set", "BTC/USDT", "60000", now="2026-01-05T10:00:00Z")
    # the follower read 60000 and judged 61000 a 1.67 % move; meanwhile a person set 30000
    wallet.ok("price", "set", "BTC/USDT", "30000", now="2026-01-05T10:00:01Z")
    contexts = context_for(wallet)
    context = contexts(None)
    try:
        with pytest.raises(PriceMoved) as refused:
            set_price(context, "BTC/USDT", "61000", None, None, source=LIVE, expected_last=Decimal(60000))
        assert refused.value.message.startswith("BTC/USDT's price moved to 30000.00 meanwhile")
        shown = {row["pair"]: (row["price"], row["source"]) for row in wallet.ok("price", "show")}
        assert shown["BTC/USDT"] == ("30000.00", "manual")  # nothing recorded
        # judged against the price of now, it is recorded
        set_price(context, "BTC/USDT", "30100", None, None, source=LIVE, expected_last=Decimal(30000))
        shown = {row["pair"]: (row["price"], row["source"]) for row in wallet.ok("price", "show")}
        assert shown["BTC/USDT"] == ("30100.00", "live")
    finally:
        context.database.close()
