"""A wallet's rules over time: differences in report order, and the rate in force in an hour."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from marginctl.domain.rules import RateHistory, RulesVersion, differences, in_force


def hour(h: int, m: int = 0) -> datetime:
    return datetime(2026, 1, 5, h, m, tzinfo=UTC)


def rules(leverage: int, usdt_rate: str) -> dict:
    return {
        "valuation_asset": "USDT",
        "margin": {"leverage": leverage},
        "assets": {"USDT": {"daily_interest_rate": usdt_rate, "decimals": 8}},
    }


def test_differences_name_the_margin_before_the_assets() -> None:
    changes = differences(rules(5, "0.00024"), rules(3, "0.00048"))
    assert [(change.key, change.old, change.new) for change in changes] == [
        ("margin.leverage", "5", "3"),
        ("assets.USDT.daily_interest_rate", "0.00024", "0.00048"),
    ]


def test_an_added_asset_differs_from_nothing() -> None:
    new = rules(3, "0.00024")
    new["assets"]["XRP"] = {"decimals": 6}
    assert [(change.key, change.old, change.new) for change in differences(rules(3, "0.00024"), new)] == [
        ("assets.XRP.decimals", None, "6")
    ]


def test_the_rate_in_force_is_the_newest_set_at_or_before_the_hour() -> None:
    history = RateHistory([RulesVersion(hour(9), rules(3, "0.00024")), RulesVersion(hour(10, 30), rules(3, "0.00048"))])
    default = Decimal("0.1")
    assert history.rate_at("USDT", hour(10), default) == Decimal("0.00024")  # the 10:00 boundary: before 10:30
    assert history.rate_at("USDT", hour(11), default) == Decimal("0.00048")
    assert history.rate_at("USDT", hour(8), default) == Decimal("0.00024")  # before the first: the first
    assert history.rate_at("BTC", hour(11), default) == default


def test_an_unchanged_rate_is_one_change() -> None:
    history = RateHistory([RulesVersion(hour(9), rules(3, "0.00024")), RulesVersion(hour(10), rules(5, "0.00024"))])
    assert history.changes() == [("USDT", Decimal("0.00024"), hour(9))]


def test_the_rules_in_force_are_the_newest_effective_version() -> None:
    first, second = RulesVersion(hour(9), rules(3, "0.00024")), RulesVersion(hour(11), rules(5, "0.00024"))
    assert in_force([first, second], hour(10)) is first
    assert in_force([first, second], hour(11)) is second
