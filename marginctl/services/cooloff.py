"""Cooling-off: a person locks themselves out of new margin exposure for a while (DESIGN §4)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marginctl.domain.clock import COOLING_OFF_PERIODS, cooling_off_end
from marginctl.domain.errors import CoolingOffActive, InvalidInput
from marginctl.domain.names import echoed, match_name
from marginctl.domain.times import from_storage, to_display, to_storage
from marginctl.services.context import Context, WriteScope, lookup_account, run_write
from marginctl.store import accounts


def parse_period(text: str) -> str:
    period = match_name(text, {period: period for period in COOLING_OFF_PERIODS})
    if period is None:
        raise InvalidInput(
            f"cooling-off period must be one of {', '.join(COOLING_OFF_PERIODS)}, got {echoed(text, 20)!r}"
        )
    return period


def _refuse_shortening(current: str | None, until: datetime) -> None:
    if current and to_storage(until) <= current:
        raise CoolingOffActive(
            f"cooling-off already runs until {to_display(from_storage(current))}; it cannot be shortened, only extended"
        )


def cooloff_end(context: Context, period_text: str) -> str:
    """When a cooling-off started now would end (what the confirmation says); refused as start_cooloff would be."""
    period = parse_period(period_text)
    until = cooling_off_end(period, context.clock())
    with context.read() as tx:
        account = lookup_account(tx, context)
    _refuse_shortening(account["cooling_off_until"] if account is not None else None, until)
    return to_display(until)


def start_cooloff(context: Context, period_text: str, client_id: str | None) -> dict[str, Any]:
    period = parse_period(period_text)

    def act(scope: WriteScope) -> dict[str, Any]:
        until = cooling_off_end(period, scope.at)
        _refuse_shortening(scope.account["cooling_off_until"], until)
        accounts.set_cooling_off(scope.tx, scope.account_id, until)
        return {"account": context.account_name, "period": period, "coolingOffUntil": to_display(until)}

    return run_write(context, "cooloff", {"period": period}, client_id, act)
