"""`status`: what a person checks before and after every move (CLI.md's status JSON)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from marginctl.config import Config
from marginctl.domain.margin import (
    IN_DANGER,
    liquidation_price,
    margin_level_status,
    margin_level_text,
    max_transferable,
)
from marginctl.domain.money import div, format_amount, format_ratio, round_down
from marginctl.domain.names import CROSS, SPOT, is_margin_wallet, pair_assets, parse_pair
from marginctl.domain.times import display_stored, to_storage
from marginctl.services.context import Context, lookup_account
from marginctl.services.quotes import asset_prices
from marginctl.services.risk import Position, borrow_limits, lending_pool_free, wallet_position
from marginctl.store import ledger
from marginctl.store import risk as risk_store
from marginctl.store.database import Row, Transaction

#: Valuation totals are shown to 8 places, rounded down (the conservative direction for the user).
VALUE_PLACES = 8


def status(context: Context, isolated_pair: str | None = None, all_wallets: bool = False, with_pnl: bool = True) -> Any:
    """One wallet's status document, or with `all_wallets` a list of every wallet holding anything.
    `with_pnl=False` leaves out profit and loss (the API's account views have no such field)."""
    with context.read() as tx:
        return status_in(tx, context, isolated_pair, all_wallets, with_pnl)


def status_in(
    tx: Transaction, context: Context, isolated_pair: str | None, all_wallets: bool, with_pnl: bool = True
) -> Any:
    """`status` read in the caller's transaction (`watch` reads the rest of its frame in the same one)."""
    config = context.config
    wallet = parse_pair(isolated_pair, config.pairs) if isolated_pair else CROSS
    account = lookup_account(tx, context)
    account_id = int(account["id"]) if account is not None else None
    prices = asset_prices(tx, config)
    pool_free = lending_pool_free(tx)
    if not all_wallets:
        return _wallet_status(tx, context, account, account_id, wallet, prices, pool_free, with_pnl)
    wallets = _wallets_in_use(tx, account_id)
    return [_wallet_status(tx, context, account, account_id, name, prices, pool_free, with_pnl) for name in wallets]


def _wallets_in_use(tx: Transaction, account_id: int | None) -> list[str]:
    if account_id is None:
        return []
    names = ledger.wallets_in_use(tx, account_id)
    order = {SPOT: 0, CROSS: 1}
    return sorted(names, key=lambda name: (order.get(name, 2), name))


def _wallet_status(
    tx: Transaction,
    context: Context,
    account: Row | None,
    account_id: int | None,
    wallet: str,
    prices: dict[str, Decimal],
    pool_free: dict[str, Decimal],
    with_pnl: bool = True,
) -> dict[str, Any]:
    config = context.config
    position = wallet_position(tx, config, account_id, wallet, prices)
    valuation = position.valuation
    document: dict[str, Any] = {
        "account": context.account_name,
        "wallet": wallet,
        "mode": "spot" if wallet == SPOT else config.mode_of(wallet),
        "valuationAsset": config.valuation_asset,
    }
    if is_margin_wallet(wallet):
        rules = config.rules_for(wallet)
        level = position.margin_level
        collateral_level = position.collateral_margin_level
        document.update(
            {
                "marginLevel": margin_level_text(level),
                "collateralMarginLevel": margin_level_text(collateral_level),
                "marginLevelStatus": margin_level_status(level, rules),
                "marginCallLevel": str(rules.margin_call_level),
                "liquidationLevel": str(rules.liquidation_level),
                "initialLevel": format_ratio(rules.initial_level),
                "transferOutLevel": str(rules.transfer_out_level),
            }
        )
    document.update(
        {
            "totalAssetValue": value_text(valuation.total_asset_value),
            "totalLiabilityValue": value_text(valuation.liability_value),
            "totalNetAssetValue": value_text(valuation.net_asset_value),
        }
    )
    btc_price = prices.get("BTC")
    if btc_price:
        document.update(
            {
                "totalAssetOfBtc": value_text(div(valuation.total_asset_value, btc_price)),
                "totalLiabilityOfBtc": value_text(div(valuation.liability_value, btc_price)),
                "totalNetAssetOfBtc": value_text(div(valuation.net_asset_value, btc_price)),
            }
        )
    document["unpricedAssets"] = list(valuation.unpriced)
    if is_margin_wallet(wallet):
        document["maxTransferable"] = {
            asset: format_amount(
                max_transferable(
                    balance,
                    valuation,
                    config.rules_for(wallet),
                    prices.get(asset),
                    config.assets[asset].collateral_ratio,
                    config.places(asset),
                ),
                config.places(asset),
            )
            for asset, balance in position.balances.items()
            if balance.free > 0
        }
    document["agreementAcceptedAt"] = display_stored(account["agreement_accepted_at"]) if account is not None else None
    document["coolingOffUntil"] = display_stored(account["cooling_off_until"]) if account is not None else None
    document["userAssets"] = [_asset_row(tx, config, position, asset, pool_free) for asset in position.balances]
    if is_margin_wallet(wallet) and with_pnl:
        from marginctl.services.pnl import status_pnl

        document["pnl"] = status_pnl(tx, config, account_id, wallet, prices)
    if is_margin_wallet(wallet):
        document["lastLiquidation"] = last_liquidation(tx, account_id, wallet)
    if is_margin_wallet(wallet) and document["marginLevelStatus"] in IN_DANGER:
        cooling = account is not None and bool(account["cooling_off_until"])
        cooling = cooling and to_storage(context.clock()) <= str(account["cooling_off_until"])
        document["riskActions"] = _risk_actions(config, position, cooling)
    return document


#: The fields of a liquidation's report that `status` repeats in `lastLiquidation`.
LAST_LIQUIDATION_FIELDS = ("time", "marginLevel", "sold", "boughtBack", "liquidationFee", "insurancePayout", "leftOver")


def last_liquidation(tx: Transaction, account_id: int | None, wallet: str) -> dict[str, Any] | None:
    """The wallet's latest liquidation, from its `risk_events` row (the report as it was made), or None."""
    if account_id is None:
        return None
    row = risk_store.last_liquidation(tx, account_id, wallet)
    if row is None:
        return None
    detail = json.loads(str(row["detail"]))
    return {
        **{name: detail.get(name) for name in LAST_LIQUIDATION_FIELDS},
        "asset": detail.get("asset"),
        "tranId": int(row["entry_id"]),
    }


def _risk_actions(config: Config, position: Position, cooling_off: bool) -> list[str]:
    """Commands that raise this wallet's margin level now, given what it holds (the warning panel's advice).

    Repaying from free funds and selling a held asset with auto-repay lower the debt; transferring
    collateral in raises the assets, but a cooling-off blocks it.
    """
    from marginctl.domain.orders import round_to_step

    wallet = position.wallet
    on_isolated = "" if wallet == CROSS else f" --isolated {wallet}"
    trade_isolated = "" if wallet == CROSS else " --isolated"
    owed = {
        asset: balance.borrowed + balance.interest
        for asset, balance in position.balances.items()
        if balance.borrowed + balance.interest > 0
    }
    actions = []
    for asset, debt in owed.items():
        free = position.balance(asset).free
        if free >= debt:
            actions.append(f"marginctl repay {asset} all{on_isolated}")
        elif free > 0:
            actions.append(f"marginctl repay {asset} {format_amount(free, config.places(asset))}{on_isolated}")
    for held, balance in position.balances.items():
        if balance.free <= 0 or held in owed:
            continue
        for debt_asset in owed:
            if f"{held}/{debt_asset}" in config.pairs:
                pair = f"{held}/{debt_asset}"
                quantity = round_to_step(balance.free, config.pairs[pair].step_size)
                if quantity > 0:
                    actions.append(
                        f"marginctl trade sell {pair} {format_amount(quantity, config.places(held))} "
                        f"--side-effect auto-repay{trade_isolated}"
                    )
            elif f"{debt_asset}/{held}" in config.pairs:
                spend = format_amount(balance.free, config.places(held))
                actions.append(
                    f"marginctl trade buy {debt_asset}/{held} --quote {spend} --side-effect auto-repay{trade_isolated}"
                )
    if not cooling_off:
        collateral = config.valuation_asset if wallet == CROSS else pair_assets(wallet)[1]
        actions.append(f"marginctl transfer {collateral} AMOUNT --to {wallet}")
    return actions


def _asset_row(
    tx: Transaction, config: Config, position: Position, asset: str, pool_free: dict[str, Decimal]
) -> dict[str, Any]:
    places = config.places(asset)
    balance = position.balance(asset)
    row: dict[str, Any] = {
        "asset": asset,
        "free": format_amount(balance.free, places),
        "locked": format_amount(balance.locked, places),
        "borrowed": format_amount(balance.borrowed, places),
        "interest": format_amount(balance.interest, places),
        "netAsset": format_amount(balance.net_asset, places),
    }
    if is_margin_wallet(position.wallet):
        row["maxBorrowable"] = format_amount(borrow_limits(tx, config, position, asset, pool_free).max, places)
        price = None
        if asset != config.valuation_asset:
            price = liquidation_price(
                asset, position.balances.values(), position.prices, config.rules_for(position.wallet).liquidation_level
            )
        row["liquidationPrice"] = None if price is None else value_text(price)
        current = position.prices.get(asset)
        row["liquidationPriceChangePercent"] = (
            None if price is None or not current else format(round_down(div(price - current, current) * 100, 2), "f")
        )
    return row


def value_text(amount: Decimal) -> str:
    """A valuation total as shown: 8 places, rounded down."""
    return format(round_down(amount, VALUE_PLACES), "f")
