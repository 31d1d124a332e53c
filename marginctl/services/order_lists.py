"""OCO lists as the order machinery sees them: what happens to the other leg when one fills, triggers or is
cancelled. services/trading.py calls these from its fill, trigger and cancel steps; placing a list is in
services/oco.py.

The list's funds are held once, on one leg's `locked_amount` (and its loan on that leg's `borrowed_amount`):
the limit leg's while both legs work, the stop leg's once it has triggered. So audit's "locked funds equal
what the open orders hold" sums each hold exactly once.
"""

from __future__ import annotations

from decimal import Decimal

from marginctl.domain.ledger import FREE, LOCKED, Posting
from marginctl.domain.money import ZERO, from_text
from marginctl.services.context import WriteScope
from marginctl.store import order_lists as store
from marginctl.store.database import Row, Transaction


def stop_triggered(scope: WriteScope, order: Row) -> None:
    """Binance expires the limit leg when the stop leg triggers; the list's hold and loan move to the stop leg."""
    if order["order_list_id"] is None:
        return
    moved_lock = moved_loan = ZERO
    for leg in store.open_legs(scope.tx, int(order["order_list_id"]), int(order["id"])):
        moved_lock += from_text(leg["locked_amount"])
        moved_loan += from_text(leg["borrowed_amount"])
        _set_expired(scope, leg)
    if not moved_lock and not moved_loan:
        return
    stop_leg = store.order_holds(scope.tx, int(order["id"]))
    store.set_holds(
        scope.tx,
        int(order["id"]),
        from_text(stop_leg["locked_amount"]) + moved_lock,
        from_text(stop_leg["borrowed_amount"]) + moved_loan,
    )


def leg_filled(scope: WriteScope, order: Row) -> None:
    """One leg filled: the other expires (what it still holds goes back to free) and the list is done."""
    if order["order_list_id"] is None:
        return
    list_id = int(order["order_list_id"])
    for leg in store.open_legs(scope.tx, list_id, int(order["id"])):
        _release(scope, leg, f"order {leg['id']} expired: order {order['id']} of list {list_id} filled")
        _set_expired(scope, leg)
    close_if_done(scope, order)


def with_list_legs(tx: Transaction, found: list[Row]) -> list[Row]:
    """`cancel` of one leg cancels its list: `found` with the other open legs of its lists, each once, by id."""
    rows = {int(order["id"]): order for order in found}
    for order in found:
        if order["order_list_id"] is not None:
            for leg in store.open_legs(tx, int(order["order_list_id"]), int(order["id"])):
                rows.setdefault(int(leg["id"]), leg)
    return [rows[order_id] for order_id in sorted(rows)]


def close_if_done(scope: WriteScope, order: Row) -> None:
    """A list whose legs are all filled, expired or cancelled is ALL_DONE (Binance's listStatusType)."""
    if order["order_list_id"] is None:
        return
    list_id = int(order["order_list_id"])
    if not store.has_open_leg(scope.tx, list_id):
        store.set_done(scope.tx, list_id, scope.at)


def _release(scope: WriteScope, leg: Row, memo: str) -> None:
    locked: Decimal = from_text(leg["locked_amount"])
    if locked:
        wallet, asset = str(leg["wallet"]), str(leg["locked_asset"])
        scope.post(
            "cancel",
            [
                Posting(scope.account_id, wallet, asset, LOCKED, -locked),
                Posting(scope.account_id, wallet, asset, FREE, locked),
            ],
            memo=memo,
        )


def _set_expired(scope: WriteScope, leg: Row) -> None:
    store.set_expired(scope.tx, int(leg["id"]), scope.at)
