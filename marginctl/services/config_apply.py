"""`config apply FILE`: the wallet's rules changed, from the command's clock on, after a preview and a yes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from marginctl.config import Config, canonical_json, rules_document
from marginctl.domain.errors import RulesChangeRefused
from marginctl.domain.rules import RuleChange, differences, in_force
from marginctl.domain.times import to_display
from marginctl.services.context import Context, WriteScope, run_write
from marginctl.services.rules import record_rules, refusals
from marginctl.store.rules import load_versions


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
