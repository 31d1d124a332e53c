"""Orders in margin wallets: placing, filling on price updates, cancelling (DESIGN §5)."""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal
from typing import Any

from marginctl.config import Config
from marginctl.domain import orders as rules
from marginctl.domain.errors import (
    InsufficientBalance,
    InvalidInput,
    LiquidationInProgress,
    NoPrice,
    RepayExceedsDebt,
    UnknownOrder,
    WouldMatchImmediately,
    WouldTriggerImmediately,
)
from marginctl.domain.ledger import EXCHANGE, FEES, FREE, LOCKED, Posting
from marginctl.domain.money import ZERO, format_amount, from_text, parse_amount
from marginctl.domain.names import CROSS, echoed, is_keyword, match_name, pair_assets, parse_pair
from marginctl.domain.prices import parse_price
from marginctl.domain.times import to_storage
from marginctl.services import catch_up, order_lists
from marginctl.services.cancelling import cancel_order
from marginctl.services.context import Context, WriteScope, lookup_account, refuse_while_cooling_off, run_write
from marginctl.services.loans import ALL, lend, repay_record, settle_debt
from marginctl.services.order_views import order_view
from marginctl.services.quotes import asset_prices, pair_quotes
from marginctl.services.risk import Position, wallet_position
from marginctl.services.risk_check import pair_risk
from marginctl.store import ledger
from marginctl.store import orders as orders_store
from marginctl.store.database import Row, Transaction

#: Order ids are plain ASCII whole numbers (str.isdigit would take "²" and "１").
ORDER_ID = re.compile(r"[0-9]{1,18}")

ORDER_COLUMNS = orders_store.ORDER_COLUMNS


@dataclasses.dataclass(frozen=True)
class OrderRequest:
    side: str
    pair: str
    wallet: str
    quantity: Decimal | None
    quote_amount: Decimal | None
    limit_price: Decimal | None
    stop_price: Decimal | None
    side_effect: str
    #: `trade sell PAIR all`: the quantity is what is free of the base asset when the order is placed.
    sell_all: bool = False
    #: `trade buy PAIR --close`: the quantity is what repays the base asset's debt and interest after the fee.
    close: bool = False
    #: Binance's autoRepayAtCancel: cancelling the order repays what it borrowed (MARGIN_BUY, AUTO_BORROW_REPAY).
    repay_at_cancel: bool = True
    #: Binance's LIMIT_MAKER: refused if it would fill at once, so it only ever makes the book.
    post_only: bool = False
    #: The stop-limit type the client asked for (STOP_LOSS_LIMIT or TAKE_PROFIT_LIMIT): a stop on the other
    #: side of the last price would trigger at once, and is refused as Binance refuses it.
    expected_type: str | None = None


def parse_order(
    config: Config,
    side_text: str,
    pair_text: str,
    quantity_text: str | None,
    quote_text: str | None,
    price_text: str | None,
    stop_text: str | None,
    side_effect_text: str,
    isolated: bool,
    close: bool = False,
) -> OrderRequest:
    """Everything about an order that can be refused before looking at the wallet (exit 2)."""
    side = rules.parse_side(side_text)
    pair = parse_pair(pair_text, config.pairs)
    settings = config.pairs[pair]
    base, quote = pair_assets(pair)
    sell_all = quantity_text is not None and is_keyword(quantity_text, ALL)
    if sell_all or close:
        texts = _WholePositionText(quantity_text, quote_text, price_text, stop_text, side_effect_text, close)
        return _parse_whole_position(side, pair, isolated, texts)
    if (quantity_text is None) == (quote_text is None):
        raise InvalidInput("give either a quantity or --quote AMOUNT, not both and not neither")
    if stop_text is not None and price_text is None:
        raise InvalidInput("--stop needs --price: a stop-limit order becomes a limit order at --price")
    if quote_text is not None and price_text is not None:
        raise InvalidInput("--quote is for market orders; give a quantity with --price")
    side_effect = match_name(side_effect_text, rules.SIDE_EFFECTS)
    if side_effect is None:
        raise InvalidInput(f"--side-effect must be one of {', '.join(rules.SIDE_EFFECTS)}")
    quantity = None
    if quantity_text is not None:
        quantity = rules.parse_quantity(quantity_text, config.places(base), settings.step_size)
    return OrderRequest(
        side=side,
        pair=pair,
        wallet=pair if isolated else CROSS,
        quantity=quantity,
        quote_amount=parse_amount(quote_text, config.places(quote), what="--quote") if quote_text else None,
        limit_price=parse_price(price_text, settings.tick_size) if price_text else None,
        stop_price=parse_price(stop_text, settings.tick_size, what="stop price") if stop_text else None,
        side_effect=side_effect,
    )


def _parse_whole_position(side: str, pair: str, isolated: bool, request: _WholePositionText) -> OrderRequest:
    """`trade sell PAIR all` and `trade buy PAIR --close`: market orders whose quantity the wallet decides."""
    sell_all = request.quantity_text is not None and not request.close
    what = "QTY all" if sell_all else "--close"
    if request.close and request.quantity_text is not None:
        raise InvalidInput("--close decides the quantity; give no QTY")
    if sell_all and side != rules.SELL:
        raise InvalidInput("QTY all is for sell orders; to buy back a debt use: trade buy PAIR --close")
    if request.close and side != rules.BUY:
        raise InvalidInput("--close is for buy orders; to sell what is free use: trade sell PAIR all")
    if request.quote_text is not None:
        raise InvalidInput(f"{what} decides the quantity; give no --quote")
    if request.price_text is not None or request.stop_text is not None:
        raise InvalidInput(f"{what} places a market order; give no --price or --stop")
    side_effect = match_name(request.side_effect_text, rules.SIDE_EFFECTS)
    if side_effect is None:
        raise InvalidInput(f"--side-effect must be one of {', '.join(rules.SIDE_EFFECTS)}")
    if side_effect in rules.BORROWING:
        raise InvalidInput(f"{what} sells what is free or buys back a debt; it cannot borrow (auto-borrow)")
    return OrderRequest(
        side=side,
        pair=pair,
        wallet=pair if isolated else CROSS,
        quantity=None,
        quote_amount=None,
        limit_price=None,
        stop_price=None,
        side_effect=rules.AUTO_REPAY if request.close else side_effect,
        sell_all=sell_all,
        close=request.close,
    )


@dataclasses.dataclass(frozen=True)
class _WholePositionText:
    quantity_text: str | None
    quote_text: str | None
    price_text: str | None
    stop_text: str | None
    side_effect_text: str
    close: bool


def place_order(context: Context, request: OrderRequest, client_id: str | None) -> dict[str, Any]:
    arguments = {key: str(value) for key, value in dataclasses.asdict(request).items()}
    return run_write(context, "trade", arguments, client_id, lambda scope: place(scope, request, client_id))


def refuse_new_order(scope: WriteScope, pair: str, wallet: str, side_effect: str) -> tuple[Decimal, Position]:
    """What refuses any new order (single or OCO) before its own rules: no price, cooling-off (except
    auto-repay), a wallet at or below its liquidation level. Returns the pair's last price and the wallet."""
    config = scope.config
    last = pair_quotes(scope.tx, config).get(pair)
    if last is None:
        raise NoPrice(f"{pair} has no price yet; set one with: marginctl price set {pair} PRICE")
    if side_effect != rules.AUTO_REPAY:
        refuse_while_cooling_off(scope, "a new order (except --side-effect auto-repay)")
    position = wallet_position(scope.tx, config, scope.account_id, wallet)
    level = position.margin_level
    if level is not None and level <= config.rules_for(wallet).liquidation_level:
        raise LiquidationInProgress(f"{wallet} is at or below its liquidation level; no new orders")
    return last[0], position


def place(scope: WriteScope, request: OrderRequest, client_id: str | None) -> dict[str, Any]:
    config = scope.config
    settings = config.pairs[request.pair]
    base, quote = pair_assets(request.pair)
    quote_places = config.places(quote)
    last_price, position = refuse_new_order(scope, request.pair, request.wallet, request.side_effect)

    reference_price = request.limit_price or last_price
    quantity = request.quantity
    if request.sell_all or request.close:
        quantity = _whole_position_quantity(scope, request, position, last_price)
    elif quantity is None:
        assert request.quote_amount is not None
        quantity = rules.quantity_for_quote(request.quote_amount, reference_price, settings.step_size)
        if quantity <= 0:
            raise InvalidInput(f"--quote {request.quote_amount} buys less than one step of {request.pair}")
    rules.check_min_notional(quantity, reference_price, settings.min_notional)

    if request.stop_price is not None:
        order_type = rules.stop_type(request.side, request.stop_price, last_price)
        if order_type is None:
            raise WouldTriggerImmediately(f"stop {request.stop_price} equals the last price; it would trigger now")
    else:
        order_type = rules.LIMIT if request.limit_price is not None else rules.MARKET

    if request.expected_type is not None and order_type != request.expected_type:
        raise WouldTriggerImmediately(
            f"a {request.expected_type} {request.side} with stop {request.stop_price} at the last price "
            f"{last_price} would trigger immediately"
        )
    spend_asset = quote if request.side == rules.BUY else base
    marketable = rules.marketable_on_placing(order_type, request.side, request.limit_price, last_price)
    if request.post_only and marketable:
        raise WouldMatchImmediately(f"the LIMIT_MAKER order at {request.limit_price} would immediately match and take")
    if request.post_only:
        order_type = rules.LIMIT_MAKER
    # A marketable order costs what it pays at the last price; a resting one holds what its limit may spend.
    need = rules.hold_for(request.side, quantity, last_price if marketable else reference_price, quote_places)
    free = ledger.free_balance(scope.tx, scope.account_id, request.wallet, spend_asset)
    borrowed = ZERO
    if request.side_effect in rules.BORROWING and need > free:
        borrowed, _ = lend(scope, request.wallet, spend_asset, need - free)
    elif need > free:
        raise InsufficientBalance(
            f"insufficient {spend_asset} in {request.wallet}: free {format_amount(free, config.places(spend_asset))}, "
            f"the order needs {format_amount(need, config.places(spend_asset))}"
        )

    order_id = _insert_order(scope, request, client_id, order_type, quantity, spend_asset, borrowed)
    order = _load_order(scope.tx, order_id)
    fills: list[dict[str, Any]] = []
    repaid: list[dict[str, str]] = []
    if marketable:
        fill, repayment = _fill(scope, order, last_price, maker=False, from_locked=False)
        fills.append(fill)
        repaid.extend([repayment] if repayment else [])
        if request.close:
            # The free base the order did not buy repays the rest of the debt too, so no loan is left.
            held = ledger.free_balance(scope.tx, scope.account_id, request.wallet, base)
            rest = _auto_repay(scope, request.wallet, base, held)
            repaid.extend([rest] if rest else [])
    else:
        lock_funds(scope, order, need)
    result = order_view(config, _load_order(scope.tx, order_id))
    result["fills"] = fills
    if request.side_effect in rules.REPAYING:
        result["repaid"] = repaid
    result.update(pair_risk(scope, request.pair).as_json())
    if borrowed:
        result["marginBuyBorrowAmount"] = format_amount(borrowed, config.places(spend_asset))
        result["marginBuyBorrowAsset"] = spend_asset
    return result


def _whole_position_quantity(
    scope: WriteScope, request: OrderRequest, position: Position, last_price: Decimal
) -> Decimal:
    """The quantity of `sell PAIR all` (what is free of the base) or `buy PAIR --close` (what repays its debt)."""
    config = scope.config
    settings = config.pairs[request.pair]
    base, _ = pair_assets(request.pair)
    places = config.places(base)
    balance = position.balance(base)
    if request.sell_all:
        quantity = rules.round_to_step(balance.free, settings.step_size)
        if quantity <= 0:
            raise InsufficientBalance(
                f"no {base} free in {request.wallet} to sell: free {format_amount(balance.free, places)}, "
                f"step {settings.step_size.normalize():f}"
            )
        return quantity
    if balance.liability <= 0:
        raise RepayExceedsDebt(f"{request.wallet} owes no {base}; --close buys back a {base} debt")
    needed = balance.liability - balance.free
    if needed <= 0:
        raise InsufficientBalance(
            f"the free {format_amount(balance.free, places)} {base} already covers the debt of "
            f"{format_amount(balance.liability, places)}; repay it with: marginctl repay {base} all"
            + ("" if request.wallet == CROSS else f" --isolated {request.wallet}")
        )
    quantity = rules.close_quantity(needed, config.fees.taker, settings.step_size, places)
    return rules.with_min_notional(quantity, last_price, settings.min_notional, settings.step_size)


def _insert_order(
    scope: WriteScope,
    request: OrderRequest,
    client_id: str | None,
    order_type: str,
    quantity: Decimal,
    spend_asset: str,
    borrowed: Decimal,
) -> int:
    return orders_store.insert_order(
        scope.tx,
        {
            "account_id": scope.account_id,
            "client_order_id": client_id,
            "wallet": request.wallet,
            "pair": request.pair,
            "side": request.side,
            "type": order_type,
            "price": request.limit_price,
            "stop_price": request.stop_price,
            "triggered": False,
            "orig_qty": quantity,
            "side_effect": request.side_effect,
            "locked_asset": spend_asset,
            # what a cancel repays (Binance's autoRepayAtCancel): nothing when the order says false
            "borrowed": borrowed if request.repay_at_cancel else ZERO,
            "at": to_storage(scope.at),
        },
    )


def _load_order(tx: Transaction, order_id: int) -> Row:
    return orders_store.load_order(tx, order_id)


def lock_funds(scope: WriteScope, order: Row, amount: Decimal) -> None:
    """A resting order holds its funds: free → locked, recorded on the order for audit and cancel."""
    asset = str(order["locked_asset"])
    wallet = str(order["wallet"])
    scope.post(
        "order",
        [
            Posting(scope.account_id, wallet, asset, FREE, -amount),
            Posting(scope.account_id, wallet, asset, LOCKED, amount),
        ],
        memo=f"order {order['id']} holds {amount} {asset}",
    )
    orders_store.set_locked(scope.tx, int(order["id"]), amount)


def _fill(
    scope: WriteScope,
    order: Row,
    price: Decimal,
    *,
    maker: bool,
    from_locked: bool,
    prices: dict[str, Decimal] | None = None,
) -> tuple[dict[str, Any], dict[str, str] | None]:
    """Fill the whole order at `price` against the exchange: a `trade` entry with the gross amounts, then a `fee`
    entry from the asset received to the fees account (Binance's commission). Returns Binance's fill and, for
    AUTO_REPAY, the repay record. `prices`: the valuation prices, when the caller has them already.
    """
    config = scope.config
    wallet = str(order["wallet"])
    pair = str(order["pair"])
    side = str(order["side"])
    base, quote = pair_assets(pair)
    base_places, quote_places = config.places(base), config.places(quote)
    quantity = from_text(order["orig_qty"])
    filled = _decide_fill(scope, order, price, maker=maker, from_locked=from_locked)
    result = filled.result
    received_asset = filled.received_asset
    entry_id = scope.post("trade", filled.trade, memo=_trade_memo(order, quantity, base, price))
    prices = asset_prices(scope.tx, config) if prices is None else prices
    trade_id = orders_store.insert_trade(
        scope.tx, _trade_values(scope, order, result, received_asset, maker, entry_id, prices)
    )
    if filled.fee:
        scope.post("fee", filled.fee, memo=_fee_memo(maker, order, trade_id))
    orders_store.mark_filled(scope.tx, int(order["id"]), quantity, result.quote_amount, scope.at)
    repayment = None
    if order["side_effect"] in rules.REPAYING:
        repayment = _auto_repay(scope, wallet, received_asset, result.received)
    order_lists.leg_filled(scope, order)  # an OCO's other leg expires
    fee_places = base_places if side == rules.BUY else quote_places
    fill = {
        "price": config.price_text(pair, price),
        "qty": format_amount(quantity, base_places),
        "commission": format_amount(result.fee, fee_places),
        "commissionAsset": received_asset,
        "tradeId": trade_id,
    }
    return fill, repayment


def _decide_fill(scope: WriteScope, order: Row, price: Decimal, *, maker: bool, from_locked: bool) -> rules.FilledOrder:
    """The whole order filled at `price`, decided by the domain from the order row and the wallet's rules."""
    config = scope.config
    base, quote = pair_assets(str(order["pair"]))
    side = str(order["side"])
    fee_rate = config.fees.maker if maker else config.fees.taker
    result = rules.fill(side, from_text(order["orig_qty"]), price, fee_rate, config.places(base), config.places(quote))
    return rules.fill_entries(
        scope.account_id,
        str(order["wallet"]),
        (base, quote),
        side,
        result,
        from_text(order["locked_amount"]) if from_locked else ZERO,
        scope.system_ids[EXCHANGE],
        scope.system_ids[FEES],
    )


def _book_fills(
    scope: WriteScope, fills: list[tuple[WriteScope, Row, rules.FilledOrder]], prices: dict[str, Decimal]
) -> None:
    """Resting orders crossed by one price, booked as one batch, in their order: each fill's `trade` and
    `fee` entries, its trade row and its order's new status; what `_fill` writes one by one."""
    if not fills:
        return
    tx, at = scope.tx, scope.at
    first_trade = orders_store.next_trade_id(tx)
    entries = []
    for number, (owner, order, filled) in enumerate(fills):
        base, _ = pair_assets(str(order["pair"]))
        memo = _trade_memo(order, filled.result.quantity, base, filled.result.price)
        entries.append(ledger.NewEntry(owner.account_id, "trade", at, filled.trade, memo))
        if filled.fee:
            memo = _fee_memo(True, order, first_trade + number)
            entries.append(ledger.NewEntry(owner.account_id, "fee", at, filled.fee, memo))
    entry_ids = iter(ledger.post_entries(tx, entries, {owner.account_id for owner, _, _ in fills}))
    trades = []
    for number, (owner, order, filled) in enumerate(fills):
        trade = _trade_values(owner, order, filled.result, filled.received_asset, True, next(entry_ids), prices)
        trades.append({"id": first_trade + number, **trade})
        if filled.fee:
            next(entry_ids)
    orders_store.insert_trades(tx, trades)
    orders_store.mark_filled_many(
        tx, [(int(order["id"]), filled.result.quantity, filled.result.quote_amount) for _, order, filled in fills], at
    )


def _trade_memo(order: Row, quantity: Decimal, base: str, price: Decimal) -> str:
    return f"order {order['id']} {order['side']} {quantity} {base} at {price}"


def _fee_memo(maker: bool, order: Row, trade_id: int) -> str:
    return f"{'maker' if maker else 'taker'} fee of order {order['id']} trade {trade_id}"


def _trade_values(
    scope: WriteScope,
    order: Row,
    result: rules.Fill,
    commission_asset: str,
    maker: bool,
    entry_id: int,
    prices: dict[str, Decimal],
) -> dict[str, Any]:
    """One row per fill (Binance's tradeId), with the quote asset's value for profit and loss."""
    _, quote = pair_assets(str(order["pair"]))
    return {
        "order_id": order["id"],
        "account_id": scope.account_id,
        "wallet": order["wallet"],
        "pair": order["pair"],
        "side": order["side"],
        "price": result.price,
        "qty": result.quantity,
        "quote_qty": result.quote_amount,
        "commission": result.fee,
        "commission_asset": commission_asset,
        "is_maker": maker,
        "quote_price": prices.get(quote),
        "entry_id": entry_id,
        "at": to_storage(scope.at),
    }


def _auto_repay(scope: WriteScope, wallet: str, asset: str, received: Decimal) -> dict[str, str] | None:
    """AUTO_REPAY: what a fill brings in (after its fee) repays that asset's debt, interest first."""
    balance = wallet_position(scope.tx, scope.config, scope.account_id, wallet).balance(asset)
    amount = min(received, balance.liability, balance.free)
    if amount <= 0:
        return None
    to_interest, to_principal = settle_debt(scope, wallet, asset, amount, balance.interest)
    return repay_record(asset, amount, to_interest, to_principal, scope.config.places(asset))


def match_orders(scope: WriteScope, pair: str, price: Decimal) -> dict[str, int]:
    """On a new price: trigger stops, then fill crossed orders, oldest first.

    A resting limit crossed by the price fills at its limit as maker; a stop-limit whose limit is marketable at
    the price that triggered it fills at that price as taker (otherwise it rests as that limit order).

    Plain resting limits (no side effect that reads the wallet, no OCO sibling) are decided together and
    booked as one batch; any other fill, and an owner's interest catch-up, is written in its place in the
    sequence, after the batch before it, so the journal reads as if each order had been filled alone.
    """
    config = scope.config
    open_orders = orders_store.crossed_candidates(scope.tx, pair, price)
    triggered_now: set[int] = set()
    for order in open_orders:
        waiting = order["stop_price"] is not None and not order["triggered"]
        if waiting and rules.stop_reached(
            str(order["type"]), str(order["side"]), from_text(order["stop_price"]), price
        ):
            triggered_now.add(int(order["id"]))
            orders_store.mark_triggered(scope.tx, int(order["id"]), scope.at)
            order_lists.stop_triggered(scope, order)  # an OCO's limit leg expires; its hold moves here
    crossed = [
        order
        for order in open_orders
        if (order["stop_price"] is None or order["triggered"] or int(order["id"]) in triggered_now)
        and rules.limit_crossed(str(order["side"]), from_text(order["price"]), price)
    ]
    owner_ids = [int(order["account_id"]) for order in crossed]
    accounts = ledger.accounts_by_id(scope.tx, owner_ids)
    owing = catch_up.accounts_with_loans_due(scope.tx, scope.at, owner_ids)
    # A fill moves no price: the valuation prices of every trade of this update are the same.
    prices = asset_prices(scope.tx, config)
    batch: list[tuple[WriteScope, Row, rules.FilledOrder]] = []
    for order in crossed:
        order_id, account_id = int(order["id"]), int(order["account_id"])
        if account_id in owing:
            _book_fills(scope, batch, prices)
            batch = []
            catch_up.catch_up_account(scope.tx, config, account_id, scope.at)
            owing.discard(account_id)
        owner_scope = dataclasses.replace(scope, account=accounts[account_id], request_id=None)
        # A stop that triggers and fills at once takes the book at this price; a resting limit made it.
        taker = order_id in triggered_now
        if not taker and order["side_effect"] not in rules.REPAYING and order["order_list_id"] is None:
            limit = from_text(order["price"])
            batch.append((owner_scope, order, _decide_fill(owner_scope, order, limit, maker=True, from_locked=True)))
            continue
        _book_fills(scope, batch, prices)
        batch = []
        fill_price = price if taker else from_text(order["price"])
        _fill(
            owner_scope, _load_order(scope.tx, order_id), fill_price, maker=not taker, from_locked=True, prices=prices
        )
    _book_fills(scope, batch, prices)
    return {"triggered": len(triggered_now), "filled": len(crossed)}


def cancel_orders(context: Context, order_id_text: str | None, cancel_all: bool, client_id: str | None) -> Any:
    if cancel_all == (order_id_text is not None):
        raise InvalidInput("give an ORDER_ID or --all")
    order_id = None
    if order_id_text is not None:
        if not ORDER_ID.fullmatch(order_id_text):
            raise InvalidInput(f"order ids are whole numbers, got {echoed(order_id_text, 20)!r}")
        order_id = int(order_id_text)

    def act(scope: WriteScope) -> list[dict[str, Any]]:
        found = orders_store.open_orders(scope.tx, scope.account_id, order_id=order_id)
        if order_id is not None and not found:
            raise UnknownOrder(f"no open order {order_id} in account {scope.context.account_name}")
        found = order_lists.with_list_legs(scope.tx, found)  # cancelling one OCO leg cancels both
        return [cancel_order(scope, order) for order in found]

    return run_write(context, "cancel", {"order": order_id, "all": cancel_all}, client_id, act)


def list_orders(context: Context, include_closed: bool) -> list[dict[str, Any]]:
    with context.read() as tx:
        account = lookup_account(tx, context)
        if account is None:
            return []
        rows = orders_store.account_orders(tx, int(account["id"]), include_closed)
    return [order_view(context.config, row) for row in rows]


def open_order_holds(tx: Transaction) -> dict[tuple[int, str, str, str], Decimal]:
    """What every open order holds, as (account, wallet, asset, 'locked') → amount, for audit."""
    holds: dict[tuple[int, str, str, str], Decimal] = {}
    for account_id, wallet, asset, amount in orders_store.open_holds(tx):
        key = (account_id, wallet, asset, LOCKED)
        holds[key] = holds.get(key, ZERO) + amount
    return holds
