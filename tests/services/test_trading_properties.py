"""Property: any sequence of orders, cancels and price updates keeps the ledger clean (issue 5, DESIGN §3, §5).

One cross wallet funded with 1000 USDT places random market, `--quote`, limit and stop-limit orders
with any side effect, cancels some, and moves the BTC/USDT price on its tick (whole dollars 40000..80000,
so stops trigger, limits fill and short or long positions may be liquidated). Every command either succeeds
or is refused by a rule (exit 3, a known code, the wallet file unchanged). Afterwards `audit` is clean, no
free or locked balance is negative, and the locked funds are exactly what the open orders hold: a buy holds
qty × limit rounded up to 8 places in USDT, a sell holds its qty in BTC.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_UP, Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import new_wallet

START = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
STEP = Decimal("0.00001")  # BTC/USDT quantity step
EIGHT_PLACES = Decimal("0.00000001")
PAIR = "BTC/USDT"

#: What a well-formed order or cancel may be refused for, by the rules (exit 3).
RULE_REFUSALS = {
    "insufficient_balance",
    "min_notional",
    "would_trigger_immediately",
    "exceeds_max_borrowable",
    "margin_level_too_low",
    "borrow_limit_exceeded",
    "pool_insufficient",
    "liquidation_in_progress",
    "unknown_order",
}


@dataclass(frozen=True)
class Step:
    kind: str  # price, market, quote, limit, stop, cancel, cancel_all
    side: str = "buy"
    quantity: Decimal = STEP
    quote: int = 0
    price: int = 0
    stop: int = 0
    side_effect: str = "normal"
    pick: int = 0  # which placed order a cancel names (modulo how many there are)

    def arguments(self, placed: list[int]) -> list[str]:
        if self.kind == "price":
            return ["price", "set", PAIR, str(self.price)]
        if self.kind == "cancel":
            return ["cancel", str(placed[self.pick % len(placed)] if placed else 1)]
        if self.kind == "cancel_all":
            return ["cancel", "--all"]
        order = ["trade", self.side, PAIR]
        if self.kind == "quote":
            order += ["--quote", str(self.quote)]
        else:
            order.append(format(self.quantity, "f"))
        if self.kind in ("limit", "stop"):
            order += ["--price", str(self.price)]
        if self.kind == "stop":
            order += ["--stop", str(self.stop)]
        return [*order, "--side-effect", self.side_effect]


prices = st.integers(min_value=40000, max_value=80000)
quantities = st.integers(min_value=1, max_value=6000).map(lambda steps: steps * STEP)  # up to 0.06 BTC
sides = st.sampled_from(("buy", "sell"))
side_effects = st.sampled_from(("normal", "auto-borrow", "auto-borrow", "auto-repay"))

price_updates = st.builds(Step, kind=st.just("price"), price=prices)
actions = st.one_of(
    st.builds(Step, kind=st.just("market"), side=sides, quantity=quantities, side_effect=side_effects),
    st.builds(
        Step, kind=st.just("quote"), side=sides, quote=st.integers(min_value=1, max_value=900), side_effect=side_effects
    ),
    st.builds(Step, kind=st.just("limit"), side=sides, quantity=quantities, price=prices, side_effect=side_effects),
    st.builds(
        Step, kind=st.just("stop"), side=sides, quantity=quantities, price=prices, stop=prices, side_effect=side_effects
    ),
    st.builds(Step, kind=st.just("cancel"), pick=st.integers(min_value=0, max_value=50)),
    st.builds(Step, kind=st.just("cancel_all")),
)
# Each action is followed by a price update, so stops trigger, limits fill and leveraged wallets can be liquidated.
sequences = st.lists(st.tuples(actions, price_updates), min_size=1, max_size=10).map(
    lambda rounds: [step for round_ in rounds for step in round_]
)


def run_sequence(sequence: list[Step]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        wallet = new_wallet(Path(folder) / "w.db")
        clock = iter(START + timedelta(minutes=minute) for minute in range(1000))

        def now() -> str:
            return next(clock).strftime("%Y-%m-%dT%H:%M:%SZ")

        wallet.ok("deposit", "USDT", "1000", now=now())
        wallet.ok("transfer", "USDT", "1000", "--yes", now=now())

        placed: list[int] = []
        for step in sequence:
            before = wallet.fingerprint(("", "-wal"))
            result = wallet.run(*step.arguments(placed), "--json", now=now())
            assert "Traceback" not in result.err, (step, result)
            if step.kind in ("price", "cancel_all"):
                assert result.code == 0, (step, result)
                continue
            assert result.code in (0, 3), (step, result)
            if result.code == 3:
                assert result.error()["code"] in RULE_REFUSALS, (step, result)
                assert wallet.fingerprint(("", "-wal")) == before, f"{step} was refused but changed the wallet file"
            elif step.kind != "cancel":
                placed.append(result.json()["orderId"])

        report = wallet.ok("audit", now=now())
        assert report["ok"] is True, report

        status = wallet.ok("status", now=now())
        rows = {row["asset"]: row for row in status["userAssets"]}
        for row in rows.values():
            assert Decimal(row["free"]) >= 0, row
            assert Decimal(row["locked"]) >= 0, row

        open_orders = wallet.ok("orders", now=now())
        assert all(order["status"] == "NEW" for order in open_orders)
        held_usdt = sum(
            (
                (Decimal(order["origQty"]) * Decimal(order["price"])).quantize(EIGHT_PLACES, rounding=ROUND_UP)
                for order in open_orders
                if order["side"] == "BUY"
            ),
            Decimal(0),
        )
        held_btc = sum((Decimal(order["origQty"]) for order in open_orders if order["side"] == "SELL"), Decimal(0))
        assert Decimal(rows["USDT"]["locked"]) == held_usdt, (rows["USDT"], open_orders)
        assert Decimal(rows["BTC"]["locked"]) == held_btc, (rows["BTC"], open_orders)

        for order in wallet.ok("orders", "--all", now=now()):
            executed = Decimal(order["executedQty"])
            assert executed == (Decimal(order["origQty"]) if order["status"] == "FILLED" else 0), order
        # Besides the orders placed, `orders --all` lists a liquidation's sales and buy-backs as filled market
        # orders with the client order id "liquidation".
        listed = wallet.ok("orders", "--all", now=now())
        assert {order["orderId"] for order in listed if order["clientOrderId"] != "liquidation"} == set(placed)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=sequences)
def test_any_orders_cancels_and_prices_keep_audit_clean_and_locks_equal_to_open_orders(sequence: list[Step]) -> None:
    run_sequence(sequence)


def test_a_known_sequence_keeps_locks_equal_to_open_orders() -> None:
    """The property on one readable sequence that passes through each path: rest, trigger, fill, cancel, refuse."""
    run_sequence(
        [
            Step("limit", "buy", Decimal("0.01"), price=59000),  # order 1 rests, holds 590 USDT
            # order 2: STOP_LOSS_LIMIT, borrows the 0.01 BTC it sells and holds it
            Step("stop", "sell", Decimal("0.01"), price=54900, stop=55000, side_effect="auto-borrow"),
            Step("limit", "sell", Decimal("0.005"), price=61000, side_effect="auto-borrow"),  # order 3 rests
            Step("limit", "sell", Decimal("0.005"), price=61000),  # no free BTC: insufficient_balance
            Step("price", price=58900),  # fills order 1 at 59000
            Step("cancel", pick=2),  # order 3: its 0.005 BTC is released and repays its loan
            Step("cancel", pick=0),  # order 1 is filled: unknown_order
            Step("market", "sell", Decimal("0.02"), side_effect="auto-borrow"),  # borrows what is not free
            Step("price", price=54950),  # triggers order 2 and fills it at 54900
            Step("limit", "buy", Decimal("0.00008"), price=60000),  # 0.00008 × 60000 = 4.8 < 5: min_notional
            Step("stop", "buy", Decimal("0.001"), price=54950, stop=54950),  # stop = last price: refused
            Step("limit", "buy", Decimal("0.001"), price=50000, side_effect="auto-repay"),  # rests, holds 50 USDT
        ]
    )
