"""A wallet's rules (DESIGN §9): stored when it is created and used by every command, once a config file's
rules were compared with them. Changing them is `config apply` (services/config_apply.py)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from marginctl.config import Config, canonical_json, config_with_rules, rules_document
from marginctl.domain.errors import MarginctlError, RulesDiffer
from marginctl.domain.names import echoed
from marginctl.domain.rules import differences, in_force
from marginctl.store import rules as store
from marginctl.store.database import Transaction
from marginctl.store.rules import load_versions

if TYPE_CHECKING:
    from marginctl.services.context import Context

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
