"""Cancelling an order (`cancel`, and liquidation's and `close`'s first step): its hold goes back to free, a
MARGIN_BUY order's loan is repaid (Binance's autoRepayAtCancel), and an OCO list's other leg goes with it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from marginctl.domain import orders as rules
from marginctl.domain.ledger import FREE, LOCKED, Posting
from marginctl.domain.money import from_text
from marginctl.domain.rules import RateHistory
from marginctl.domain.times import from_storage
from marginctl.services import order_lists
from marginctl.services.loans import repay_record, settle_debt
from marginctl.services.order_views import order_view
from marginctl.services.risk import wallet_position
from marginctl.store import orders as orders_store
from marginctl.store.database import Row
from marginctl.store.rules import load_versions

if TYPE_CHECKING:
    from marginctl.services.context import WriteScope


def cancel_wallet_orders(scope: WriteScope, wallet: str) -> list[int]:
    """Liquidation's first step: every open order of the wallet is cancelled."""
    found = orders_store.open_orders(scope.tx, scope.account_id, wallet=wallet)
    return [int(cancel_order(scope, order)["orderId"]) for order in found]


def cancel_order(scope: WriteScope, order: Row) -> dict[str, Any]:
    wallet, asset = str(order["wallet"]), str(order["locked_asset"])
    locked = from_text(order["locked_amount"])
    if locked:
        scope.post(
            "cancel",
            [
                Posting(scope.account_id, wallet, asset, LOCKED, -locked),
                Posting(scope.account_id, wallet, asset, FREE, locked),
            ],
            memo=f"order {order['id']} cancelled",
        )
    orders_store.mark_cancelled(scope.tx, int(order["id"]), scope.at)
    repayment = _repay_at_cancel(scope, order)
    order_lists.close_if_done(scope, order)
    view = order_view(scope.config, orders_store.load_order(scope.tx, int(order["id"])))
    if from_text(order["borrowed_amount"]):
        view["repaid"] = [repayment] if repayment else []
    return view


def _repay_at_cancel(scope: WriteScope, order: Row) -> dict[str, str] | None:
    """Binance's autoRepayAtCancel: a MARGIN_BUY order's loan and the interest charged on it are repaid when it
    is cancelled, capped at what is owed and what is free, interest first."""
    borrowed = from_text(order["borrowed_amount"])
    if not borrowed:
        return None
    config = scope.config
    wallet, asset = str(order["wallet"]), str(order["locked_asset"])
    rates = RateHistory(load_versions(scope.tx))
    current = config.assets[asset].daily_interest_rate
    interest = rules.interest_on_order_loan(
        borrowed,
        lambda moment: rates.rate_at(asset, moment, current),
        config.places(asset),
        from_storage(str(order["created_at"])),
        scope.at,
    )
    balance = wallet_position(scope.tx, config, scope.account_id, wallet).balance(asset)
    # The order's own loan and interest, not the interest of the wallet's other loans (which would leave part
    # of the order's principal owed).
    order_interest = min(interest, balance.interest)
    amount = min(order_interest + min(borrowed, balance.borrowed), balance.free)
    if amount <= 0:
        return None
    to_interest, to_principal = settle_debt(scope, wallet, asset, amount, order_interest)
    return repay_record(asset, amount, to_interest, to_principal, config.places(asset))
