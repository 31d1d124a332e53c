"""A wallet's rules over time (DESIGN §9): the differences between two versions, and the rate in force."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

#: The rules' sections in the order a difference is reported (the first one named is the first here).
SECTION_ORDER = ("valuation_asset", "margin", "isolated", "fees", "assets", "pairs")


class RuleChange:
    """One setting whose value differs; `None` on a side: the setting does not exist there.

    Plain classes, not dataclasses: building a dataclass costs ~1 ms at import, on every command's start.
    """

    __slots__ = ("key", "new", "old")

    def __init__(self, key: str, old: str | None, new: str | None) -> None:
        self.key, self.old, self.new = key, old, new


def flatten(document: dict[str, Any]) -> dict[str, str]:
    """`margin.leverage` → `"5"`, …, in SECTION_ORDER with each section's keys sorted."""
    flat: dict[str, str] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key in sorted(value):
                walk(f"{prefix}.{key}", value[key])
        else:
            flat[prefix] = str(value)

    for section in SECTION_ORDER:
        if section in document:
            walk(section, document[section])
    return flat


def differences(old: dict[str, Any], new: dict[str, Any]) -> list[RuleChange]:
    """Every setting that differs between two rules documents, in report order."""
    before, after = flatten(old), flatten(new)
    keys = list(before) + [key for key in after if key not in before]
    order = {section: index for index, section in enumerate(SECTION_ORDER)}
    keys.sort(key=lambda key: (order[key.split(".", 1)[0]], key))
    return [RuleChange(key, before.get(key), after.get(key)) for key in keys if before.get(key) != after.get(key)]


class RulesVersion:
    __slots__ = ("document", "effective_at")

    def __init__(self, effective_at: datetime, document: dict[str, Any]) -> None:
        self.effective_at, self.document = effective_at, document


def in_force(versions: list[RulesVersion], moment: datetime) -> RulesVersion:
    """The newest version effective at `moment`; before the first one, the first (a wallet's first rules
    are its rules since it began)."""
    chosen = versions[0]
    for version in versions:
        if version.effective_at <= moment:
            chosen = version
    return chosen


def rate_in_force(change_times: Sequence[datetime], rates: Sequence[Decimal], moment: datetime) -> Decimal:
    """The rate of the hour at `moment`: the newest set strictly before it, else the first (`rates` pairs
    with `change_times`). A change effective at T applies to the hours after T: the hour starting at T was
    charged (by the change's own catch-up) before the change was recorded."""
    return rates[max(bisect_left(change_times, moment) - 1, 0)]


class RateHistory:
    """Each asset's daily interest rate over time: the rate in force in an hour is the newest set at or before it."""

    def __init__(self, versions: Iterable[RulesVersion]) -> None:
        self.times: dict[str, list[datetime]] = {}
        self.rates: dict[str, list[Decimal]] = {}
        for version in sorted(versions, key=lambda version: version.effective_at):
            for asset, settings in version.document["assets"].items():
                rate = Decimal(settings["daily_interest_rate"])
                rates = self.rates.setdefault(asset, [])
                if rates and rates[-1] == rate:
                    continue
                rates.append(rate)
                self.times.setdefault(asset, []).append(version.effective_at)

    def changes_of(self, asset: str) -> int:
        """How many rates the asset has had (1: the same in every hour)."""
        return len(self.rates.get(asset, ()))

    def rate_at(self, asset: str, moment: datetime, default: Decimal) -> Decimal:
        times = self.times.get(asset)
        if not times:
            return default
        return rate_in_force(times, self.rates[asset], moment)

    def changes(self) -> list[tuple[str, Decimal, datetime]]:
        """(asset, daily rate, effective time) per change, newest first (Binance's interestRateHistory)."""
        rows = [
            (asset, rate, moment)
            for asset, times in self.times.items()
            for moment, rate in zip(times, self.rates[asset], strict=True)
        ]
        rows.sort(key=lambda row: row[0])
        rows.sort(key=lambda row: row[2], reverse=True)
        return rows
