"""Moving funds: deposit and withdraw on the spot wallet, transfer between wallets."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marginctl.config import Config
from marginctl.domain.errors import AgreementRequired, InsufficientBalance, InvalidInput, MarginLevelTooLow
from marginctl.domain.ledger import EXTERNAL, FREE, Posting
from marginctl.domain.margin import max_transferable
from marginctl.domain.money import format_amount, parse_amount, parse_amount_or
from marginctl.domain.names import SPOT, is_isolated, is_margin_wallet, pair_assets, parse_asset, parse_wallet
from marginctl.domain.times import to_display
from marginctl.services.context import Context, WriteScope, refuse_while_cooling_off, run_write
from marginctl.store import ledger

MAX = "max"


def deposit(context: Context, asset_text: str, amount_text: str, client_id: str | None) -> dict[str, Any]:
    """Simulated funding: the outside world pays into the spot wallet."""
    return _external_move(context, "deposit", asset_text, amount_text, client_id, sign=Decimal(1))


def withdraw(context: Context, asset_text: str, amount_text: str, client_id: str | None) -> dict[str, Any]:
    return _external_move(context, "withdraw", asset_text, amount_text, client_id, sign=Decimal(-1))


def _external_move(
    context: Context, kind: str, asset_text: str, amount_text: str, client_id: str | None, sign: Decimal
) -> dict[str, Any]:
    config = context.config
    asset = parse_asset(asset_text, config.assets)
    places = config.places(asset)
    amount = parse_amount(amount_text, places)

    def move(scope: WriteScope) -> dict[str, Any]:
        external_id = scope.system_ids[EXTERNAL]
        entry_id = scope.post(
            kind,
            [
                Posting(scope.account_id, SPOT, asset, FREE, sign * amount),
                Posting(external_id, SPOT, asset, FREE, -sign * amount),
            ],
        )
        free = ledger.free_balance(scope.tx, scope.account_id, SPOT, asset)
        return {
            "tranId": entry_id,
            "kind": kind,
            "account": context.account_name,
            "asset": asset,
            "amount": format_amount(amount, places),
            "wallet": SPOT,
            "free": format_amount(free, places),
            "time": to_display(scope.at),
        }

    return run_write(context, kind, {"asset": asset, "amount": str(amount)}, client_id, move)


class TransferRequest:
    """A parsed transfer (a plain class: a dataclass costs ~1 ms to define at every start)."""

    __slots__ = ("amount", "asset", "source", "target")

    def __init__(self, asset: str, amount: Decimal | None, source: str, target: str) -> None:
        self.asset = asset
        self.amount = amount  # None: the most allowed
        self.source = source
        self.target = target


def parse_transfer(
    config: Config, asset_text: str, amount_text: str, source_text: str, target_text: str
) -> TransferRequest:
    """Everything about a transfer that can be refused before asking anything (exit 2)."""
    asset = parse_asset(asset_text, config.assets)
    source = parse_wallet(source_text, config.pairs)
    target = parse_wallet(target_text, config.pairs)
    if source == target:
        raise InvalidInput(f"--from and --to are both {source}; choose two different wallets")
    for wallet in (source, target):
        if is_isolated(wallet) and asset not in pair_assets(wallet):
            raise InvalidInput(f"the {wallet} isolated wallet holds only {' and '.join(pair_assets(wallet))}")
    return TransferRequest(asset, parse_amount_or(amount_text, config.places(asset), MAX), source, target)


def transfer(
    context: Context, request: TransferRequest, accept_agreement: bool, client_id: str | None
) -> dict[str, Any]:
    """Move free funds between wallets; into margin needs the risk agreement, out of it the level."""
    config = context.config
    asset, amount, source, target = request.asset, request.amount, request.source, request.target
    places = config.places(asset)

    def move(scope: WriteScope) -> dict[str, Any]:
        if is_margin_wallet(target):
            refuse_while_cooling_off(scope, "transferring into a margin wallet")
        if is_margin_wallet(target) and not scope.account["agreement_accepted_at"]:
            if not accept_agreement:
                raise AgreementRequired(
                    "risk agreement not accepted: type exactly I understand at the prompt, or pass --yes; "
                    "nothing was transferred"
                )
            ledger.accept_agreement(scope.tx, scope.account_id, scope.at)
        free = ledger.free_balance(scope.tx, scope.account_id, source, asset)
        allowed = free
        if is_margin_wallet(source):
            from marginctl.services.risk import wallet_position  # only a margin wallet's transfer values it

            position = wallet_position(scope.tx, config, scope.account_id, source)
            allowed = max_transferable(
                position.balance(asset),
                position.valuation,
                config.rules_for(source),
                position.prices.get(asset),
                config.assets[asset].collateral_ratio,
                places,
            )
        moved = allowed if amount is None else amount
        if moved <= 0:
            raise InsufficientBalance(f"no {asset} can be transferred out of {source} now")
        if moved > free:
            raise InsufficientBalance(
                f"insufficient {asset} in {source}: free {format_amount(free, places)}, "
                f"asked {format_amount(moved, places)}"
            )
        if moved > allowed:
            raise MarginLevelTooLow(
                f"transferring {format_amount(moved, places)} {asset} would take {source}'s margin level below "
                f"{config.rules_for(source).transfer_out_level:f}; at most {format_amount(allowed, places)} can go"
            )
        entry_id = scope.post(
            "transfer",
            [
                Posting(scope.account_id, source, asset, FREE, -moved),
                Posting(scope.account_id, target, asset, FREE, moved),
            ],
        )
        return {
            "tranId": entry_id,
            "kind": "transfer",
            "account": context.account_name,
            "asset": asset,
            "amount": format_amount(moved, places),
            "from": source,
            "to": target,
            "time": to_display(scope.at),
        }

    arguments = {"asset": asset, "amount": MAX if amount is None else str(amount), "from": source, "to": target}
    return run_write(context, "transfer", arguments, client_id, move)


def agreement_needed(context: Context, request: TransferRequest) -> bool:
    """True when this transfer would first need the risk agreement."""
    if not is_margin_wallet(request.target):
        return False
    with context.read() as tx:
        account = ledger.find_account(tx, context.account_name)
    return account is None or not account["agreement_accepted_at"]
