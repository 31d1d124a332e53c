"""A wallet's rules (DESIGN §9): stored when it is created, used by every command, changed only by
`config apply`, and the interest rate history they make (`rates`)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from marginctl.config import Config, canonical_json, config_with_rules, rules_document
from marginctl.domain.errors import MarginctlError, RulesChangeRefused, RulesDiffer
from marginctl.domain.names import echoed
from marginctl.domain.rules import RateHistory, RuleChange, RulesVersion, differences, in_force
from marginctl.domain.times import to_display
from marginctl.store import rules as store
from marginctl.store.database import Transaction
from marginctl.store.rules import load_versions

if TYPE_CHECKING:
    from marginctl.services.context import Context, WriteScope

#: Config.source when no file was read: then the stored rules are used without a comparison.
BUILT_IN = "built-in defaults"
CREATED = "created"
ADOPTED = "adopted"


def record_rules(tx: Transaction, at: datetime, document: dict[str, Any], source: str) -> None:
    store.record_rules(tx, at, canonical_json(document), source)


def resolve_rules(context: Context) -> Config:
    """The command's config with the wallet's rules in force at its clock, once the file's rules were
    compared with them. No wallet yet (or none that opens): the file's config, as it creates one."""
    file_config = context.file_config
    if context.rules_versions is None:
        try:
            context.ensure_schema_checked()
            with context.database.transaction(write=False) as tx:
                context.rules_versions = load_versions(tx)
        except MarginctlError:
            return file_config  # the command's first transaction creates the wallet or says why it cannot
    if not context.rules_versions:
        return file_config  # a wallet from before stored rules: its first write adopts the config's
    stored = in_force(context.rules_versions, context.clock()).document
    if context.check_rules and file_config.source != BUILT_IN:
        refuse_other_rules(file_config, stored)
    return config_with_rules(file_config, stored)


def refuse_other_rules(file_config: Config, stored: dict[str, Any]) -> None:
    changes = differences(stored, rules_document(file_config))
    if not changes:
        return
    first = changes[0]
    if first.new is None:
        said = f"the config has no {first.key} but this wallet's rules say {first.old}"
    elif first.old is None:
        said = f"the config's {first.key} is {first.new} but this wallet's rules have none"
    else:
        said = f"the config's {first.key} is {first.new} but this wallet's rules say {first.old}"
    import shlex

    file = shlex.quote(echoed(file_config.source, limit=300))
    raise RulesDiffer(f"{said}; run: marginctl config apply {file} to change the wallet's rules")


def store_created(tx: Transaction, context: Context, at: datetime) -> None:
    """A new wallet keeps the rules it was created with."""
    record_rules(tx, at, rules_document(context.file_config), CREATED)


def adopt_if_missing(context: Context) -> None:
    """A wallet from before stored rules (schema 0003) takes the first writing command's config as its
    rules, effective since the wallet began (those are the rules it has been run with)."""
    with context.database.transaction(write=True) as tx:
        if store.has_rules(tx):
            context.rules_versions = load_versions(tx)
            return
        at = store.wallet_began(tx) or context.clock_under_lock(tx)
        record_rules(tx, at, rules_document(context.file_config), ADOPTED)
        context.rules_versions = load_versions(tx)


# ---- config apply -------------------------------------------------------------------------------------


def refusals(tx: Transaction, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Changes that would make the wallet inconsistent with what it already holds."""
    reasons = []
    if old["valuation_asset"] != new["valuation_asset"]:
        reasons.append(
            f"valuation_asset cannot change ({old['valuation_asset']} → {new['valuation_asset']}): "
            "every stored value is in it"
        )
    held = store.assets_with_balances(tx)
    for code, settings in sorted(old["assets"].items()):
        if code not in new["assets"]:
            if code in held:
                reasons.append(f"asset {code} cannot be removed: the wallet holds or owes it")
        elif new["assets"][code]["decimals"] != settings["decimals"]:
            reasons.append(
                f"assets.{code}.decimals cannot change ({settings['decimals']} → {new['assets'][code]['decimals']}): "
                "stored amounts are in its units"
            )
    busy = store.pairs_in_use(tx)
    for pair in sorted(old["pairs"]):
        if pair not in new["pairs"] and pair in busy:
            reasons.append(
                f"pair {pair} cannot be removed: it has orders (open or in the history) or an isolated wallet"
            )
    return reasons


def _change_view(change: RuleChange) -> dict[str, Any]:
    return {"key": change.key, "old": change.old, "new": change.new}


def _new_document(context: Context, path: str) -> tuple[Config, dict[str, Any], dict[str, Any]]:
    """The file's config, the rules in force now, and the rules the file would make (seeds kept)."""
    from marginctl.config import load_config

    new_config = load_config(path)
    current = context.config  # the wallet's rules in force (the global --config is not compared here)
    old = rules_document(current)
    new = rules_document(new_config)
    # A pair's starting price only seeds a pair the wallet did not have.
    new["starting_prices"] = {
        pair: price
        for pair, price in {**new["starting_prices"], **old["starting_prices"]}.items()
        if pair in new["pairs"]
    }
    return new_config, old, new


def apply_preview(context: Context, path: str) -> dict[str, Any]:
    """What `config apply FILE` would change, and what it refuses; nothing is written."""
    _, old, new = _new_document(context, path)
    with context.read() as tx:
        refused = refusals(tx, old, new)
    return {"file": path, "changes": [_change_view(change) for change in differences(old, new)], "refused": refused}


def apply_rules(context: Context, path: str, client_id: str | None = None) -> dict[str, Any]:
    """Record the file's rules as the wallet's, effective at the command's clock (under the write lock)."""
    from marginctl.services.context import run_write

    _, old, new = _new_document(context, path)
    changes = differences(old, new)

    def act(scope: WriteScope) -> dict[str, Any]:
        versions = load_versions(scope.tx)
        in_force_now = in_force(versions, scope.at).document if versions else old
        current_changes = differences(in_force_now, new)
        refused = refusals(scope.tx, in_force_now, new)
        if refused:
            raise RulesChangeRefused(f"config apply refused: {refused[0]}")
        if not current_changes:
            return {"file": path, "changed": False, "changes": [], "effectiveAt": None}
        record_rules(scope.tx, scope.at, new, f"config apply {Path(path).name}")
        return {
            "file": path,
            "changed": True,
            "changes": [_change_view(change) for change in current_changes],
            "effectiveAt": to_display(scope.at),
        }

    if not changes:
        return {"file": path, "changed": False, "changes": [], "effectiveAt": None}
    return run_write(context, "config-apply", {"rules": canonical_json(new)}, client_id, act)  # type: ignore[no-any-return]


# ---- rates ----------------------------------------------------------------------------------------------


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
