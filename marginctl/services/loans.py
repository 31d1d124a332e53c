"""Borrowing and repaying (DESIGN §4): the first hour's interest at borrow time, interest repaid first."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marginctl.config import Config
from marginctl.domain.errors import (
    BorrowLimitExceeded,
    ExceedsMaxBorrowable,
    InsufficientBalance,
    InvalidInput,
    MarginLevelTooLow,
    NoPrice,
    PoolInsufficient,
    RepayExceedsDebt,
)
from marginctl.domain.ledger import (
    BORROWED,
    FREE,
    INTEREST,
    INTEREST_RECEIVABLE,
    LENDING_POOL,
    LOANED,
    Posting,
)
from marginctl.domain.margin import DAYS_PER_YEAR, HOURS_PER_DAY, hourly_interest, repayable
from marginctl.domain.money import div, format_amount, format_percent, format_ratio, mul, parse_amount, parse_amount_or
from marginctl.domain.names import CROSS, SPOT, is_keyword, pair_assets, parse_asset, parse_pair
from marginctl.domain.times import to_display, to_storage
from marginctl.services.catch_up import open_loan_clock
from marginctl.services.context import Context, WriteScope, refuse_while_cooling_off, run_write
from marginctl.services.risk import borrow_limits, wallet_position
from marginctl.store import interest as store
from marginctl.store import ledger

MAX = "max"
ALL = "all"
ON_BORROW = "ON_BORROW"


def _wallet_and_asset(config: Config, asset_text: str, isolated: str | None) -> tuple[str, str]:
    asset = parse_asset(asset_text, config.assets)
    if isolated is None:
        return CROSS, asset
    wallet = parse_pair(isolated, config.pairs)
    if asset not in pair_assets(wallet):
        raise InvalidInput(f"the {wallet} isolated wallet can borrow only {' or '.join(pair_assets(wallet))}")
    return wallet, asset


def interest_rates(config: Config, asset: str) -> dict[str, str]:
    daily = config.assets[asset].daily_interest_rate
    return {"dailyInterestRate": format(daily, "f"), "hourlyInterestRate": format(div(daily, HOURS_PER_DAY), "f")}


def borrow_quote(context: Context, asset_text: str, amount_text: str, isolated: str | None) -> dict[str, Any]:
    """What a person sees before confirming: the rates, the amount, the interest charged at once."""
    config = context.config
    wallet, asset = _wallet_and_asset(config, asset_text, isolated)
    places = config.places(asset)
    requested = parse_amount_or(amount_text, places, MAX)  # checked before the wallet is opened
    with context.read() as tx:
        account = ledger.find_account(tx, context.account_name)
        position = wallet_position(tx, config, int(account["id"]) if account else None, wallet)
        limits = borrow_limits(tx, config, position, asset)
    amount = limits.max if requested is None else requested
    daily = config.assets[asset].daily_interest_rate
    return {
        "asset": asset,
        "wallet": wallet,
        "amount": format_amount(amount, places),
        "maxBorrowable": format_amount(limits.max, places),
        **interest_rates(config, asset),
        # As Binance shows it: 0.00024 a day is 0.024 % a day, about 0.024 × 365 = 8.76 % a year.
        "dailyInterestPercent": format_percent(daily),
        "yearlyInterestPercent": format_percent(mul(daily, DAYS_PER_YEAR), 2),
        "interestNow": format_amount(hourly_interest(amount, daily, places), places),
    }


def borrow(
    context: Context, asset_text: str, amount_text: str, isolated: str | None, client_id: str | None
) -> dict[str, Any]:
    config = context.config
    wallet, asset = _wallet_and_asset(config, asset_text, isolated)
    places = config.places(asset)
    requested = parse_amount_or(amount_text, places, MAX)

    def act(scope: WriteScope) -> dict[str, Any]:
        amount, loan_entry = lend(scope, wallet, asset, requested)
        interest = hourly_interest(amount, config.assets[asset].daily_interest_rate, places)
        return {
            "tranId": loan_entry,
            "kind": "borrow",
            "account": context.account_name,
            "wallet": wallet,
            "asset": asset,
            "amount": format_amount(amount, places),
            "interestCharged": format_amount(interest, places),
            **interest_rates(config, asset),
            "time": to_display(scope.at),
        }

    arguments = {"asset": asset, "wallet": wallet, "amount": MAX if requested is None else str(requested)}
    return run_write(context, "borrow", arguments, client_id, act)


def lend(scope: WriteScope, wallet: str, asset: str, requested: Decimal | None) -> tuple[Decimal, int]:
    """Check every borrowing rule, then lend `requested` (None: the max): the one path for borrow and MARGIN_BUY.

    Returns the amount lent and the borrow entry's id.
    """
    config = scope.config
    places = config.places(asset)
    refuse_while_cooling_off(scope, "borrowing")
    position = wallet_position(scope.tx, config, scope.account_id, wallet)
    if asset not in position.prices:
        raise NoPrice(f"{asset} has no price; set one with: marginctl price set {asset}/{config.valuation_asset}")
    if position.valuation.unpriced:
        raise NoPrice(f"no price for {', '.join(position.valuation.unpriced)} in {wallet}; cannot value it")
    rules = config.rules_for(wallet)
    level = position.collateral_margin_level
    if level is not None and level <= rules.initial_level:
        raise MarginLevelTooLow(
            f"{wallet}'s collateral margin level {format_ratio(level)} is at or below "
            f"{format_ratio(rules.initial_level)}; no more borrowing until it rises"
        )
    limits = borrow_limits(scope.tx, config, position, asset)
    amount = limits.max if requested is None else requested
    shown = format_amount(amount, places)
    if amount > limits.limit_left:
        raise BorrowLimitExceeded(
            f"borrowing {shown} {asset} exceeds the borrow limit of {config.assets[asset].borrow_limit:f} "
            f"{asset}; {format_amount(limits.limit_left, places)} left"
        )
    if amount > limits.pool:
        raise PoolInsufficient(f"the lending pool holds only {format_amount(limits.pool, places)} {asset}")
    if amount <= 0:
        raise ExceedsMaxBorrowable(
            f"nothing to borrow: the max borrowable {asset} in {wallet} is 0; transfer collateral in first"
        )
    if amount > limits.headroom:
        raise ExceedsMaxBorrowable(
            f"borrowing {shown} {asset} exceeds the max borrowable {format_amount(limits.max, places)} {asset}"
        )
    return amount, charge_borrow(scope, wallet, asset, amount)


def charge_borrow(scope: WriteScope, wallet: str, asset: str, amount: Decimal) -> int:
    """Lend `amount` into the wallet and charge the first hour at once (Binance's ON_BORROW)."""
    pool_id = scope.system_ids[LENDING_POOL]
    entry_id = scope.post(
        "borrow",
        [
            Posting(scope.account_id, wallet, asset, FREE, amount),
            Posting(scope.account_id, wallet, asset, BORROWED, -amount),
            Posting(pool_id, SPOT, asset, FREE, -amount),
            Posting(pool_id, SPOT, asset, LOANED, amount),
        ],
    )
    settings = scope.config.assets[asset]
    record_interest(scope, wallet, asset, amount, settings.daily_interest_rate, ON_BORROW, None)
    open_loan_clock(scope.tx, scope.account_id, wallet, asset, scope.at)
    return entry_id


def record_interest(
    scope: WriteScope,
    wallet: str,
    asset: str,
    principal: Decimal,
    daily_rate: Decimal,
    charge_type: str,
    periodic_hour: str | None,
) -> Decimal:
    """One hour's interest: an `interest` entry and its row in the interest history."""
    interest = hourly_interest(principal, daily_rate, scope.config.places(asset))
    if interest == 0:
        return interest
    pool_id = scope.system_ids[LENDING_POOL]
    entry_id = scope.post(
        "interest",
        [
            Posting(scope.account_id, wallet, asset, INTEREST, -interest),
            Posting(pool_id, SPOT, asset, INTEREST_RECEIVABLE, interest),
        ],
        memo=f"{charge_type} {principal} {asset} at daily {daily_rate}",
    )
    at = to_storage(scope.at)
    store.insert_runs(
        scope.tx,
        [
            store.NewRun(
                entry_id,
                scope.account_id,
                wallet,
                asset,
                at,
                at,
                charge_type,
                periodic_hour,
                1,
                principal,
                daily_rate,
                interest,
            )
        ],
    )
    return interest


def repay(
    context: Context, asset_text: str, amount_text: str, isolated: str | None, client_id: str | None
) -> dict[str, Any]:
    """`repay ASSET AMOUNT|all|max`: all is the whole debt (free must cover it), max what free allows."""
    config = context.config
    wallet, asset = _wallet_and_asset(config, asset_text, isolated)
    places = config.places(asset)
    keyword = ALL if is_keyword(amount_text, ALL) else MAX if is_keyword(amount_text, MAX) else None
    requested = None if keyword else parse_amount(amount_text, places)
    on_isolated = "" if wallet == CROSS else f" --isolated {wallet}"

    def act(scope: WriteScope) -> dict[str, Any]:
        balance = wallet_position(scope.tx, config, scope.account_id, wallet).balance(asset)
        owed = balance.liability
        if owed == 0:
            raise RepayExceedsDebt(f"{wallet} owes no {asset}")
        if keyword == MAX:
            amount = repayable(balance.free, owed)
            if amount == 0:
                raise InsufficientBalance(f"no free {asset} in {wallet} to repay with")
        else:
            amount = owed if requested is None else requested
        if amount > owed:
            raise RepayExceedsDebt(
                f"repaying {format_amount(amount, places)} {asset} exceeds the debt of "
                f"{format_amount(owed, places)} (principal {format_amount(balance.borrowed, places)}"
                f" + interest {format_amount(balance.interest, places)})"
            )
        if amount > balance.free:
            hint = f"; repay what you have with: marginctl repay {asset} max{on_isolated}" if balance.free > 0 else ""
            raise InsufficientBalance(
                f"insufficient {asset} in {wallet}: free {format_amount(balance.free, places)}, "
                f"repay needs {format_amount(amount, places)}{hint}"
            )
        to_interest, to_principal = settle_debt(scope, wallet, asset, amount, balance.interest)
        return {
            "tranId": scope.last_entry_id,
            "kind": "repay",
            "account": context.account_name,
            "wallet": wallet,
            "asset": asset,
            **repay_record(asset, amount, to_interest, to_principal, places),
            "borrowedLeft": format_amount(balance.borrowed - to_principal, places),
            "interestLeft": format_amount(balance.interest - to_interest, places),
            "time": to_display(scope.at),
        }

    arguments = {"asset": asset, "wallet": wallet, "amount": keyword or str(requested)}
    return run_write(context, "repay", arguments, client_id, act)


def repay_record(asset: str, amount: Decimal, interest: Decimal, principal: Decimal, places: int) -> dict[str, str]:
    """Binance's repay record: `amount` repaid in total, of which `interest` and `principal` (what was repaid)."""
    return {
        "asset": asset,
        "amount": format_amount(amount, places),
        "interest": format_amount(interest, places),
        "principal": format_amount(principal, places),
    }


def settle_debt(
    scope: WriteScope, wallet: str, asset: str, amount: Decimal, interest_owed: Decimal
) -> tuple[Decimal, Decimal]:
    """Pay `amount` from the wallet's free balance: interest first, then principal (Binance)."""
    to_interest = min(amount, interest_owed)
    to_principal = amount - to_interest
    pool_id = scope.system_ids[LENDING_POOL]
    scope.post(
        "repay",
        [
            Posting(scope.account_id, wallet, asset, FREE, -amount),
            Posting(scope.account_id, wallet, asset, INTEREST, to_interest),
            Posting(scope.account_id, wallet, asset, BORROWED, to_principal),
            Posting(pool_id, SPOT, asset, FREE, amount),
            Posting(pool_id, SPOT, asset, INTEREST_RECEIVABLE, -to_interest),
            Posting(pool_id, SPOT, asset, LOANED, -to_principal),
        ],
    )
    return to_interest, to_principal
