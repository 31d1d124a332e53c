"""`report`'s hourly series from a hand-built journal: an isolated BTC/USDT 10x wallet (margin call 1.08,
liquidation 1.05) that takes 1000 USDT in, borrows 4000, buys 0.1 BTC, and owes interest hour by hour.

    09:30  transfer in   USDT free +1000
    10:00  borrow        USDT free +4000, borrowed 4000; ON_BORROW 4000 × 0.00024 / 24 = 0.04 interest
    10:30  buy 0.1 BTC at 50000: USDT free −5000, BTC free +0.1, fee 0.0001 BTC → BTC 0.0999
    12:00  one entry books PERIODIC 11:00 and 12:00, 0.04 each (0.08)
Prices: the config's 60000 until the first mark; 50000 at 10:45, 48000 at 11:20, 47000 at 12:59, 46000 at 13:10.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from marginctl.domain import report
from marginctl.domain.errors import InvalidInput
from marginctl.domain.money import round_down
from tests.domain.test_margin import ISOLATED_10X


def t(clock: str) -> datetime:
    return datetime.fromisoformat(f"2026-01-05T{clock}+00:00")


CHANGES = [
    report.BalanceChange(1, t("09:30:00"), "USDT", "free", Decimal(1000)),
    report.BalanceChange(2, t("10:00:00"), "USDT", "free", Decimal(4000)),
    report.BalanceChange(2, t("10:00:00"), "USDT", "borrowed", Decimal(-4000)),
    report.BalanceChange(3, t("10:00:00"), "USDT", "interest", Decimal("-0.04")),
    report.BalanceChange(4, t("10:30:00"), "USDT", "free", Decimal(-5000)),
    report.BalanceChange(4, t("10:30:00"), "BTC", "free", Decimal("0.1")),
    report.BalanceChange(5, t("10:30:00"), "BTC", "free", Decimal("-0.0001")),
    report.BalanceChange(6, t("12:00:00"), "USDT", "interest", Decimal("-0.08")),
]
RUNS = [report.InterestRun(6, "USDT", t("11:00:00"), 2, Decimal("0.04"))]
MARKS = [
    report.PriceMark("BTC/USDT", t("10:45:00"), Decimal(50000)),
    report.PriceMark("BTC/USDT", t("11:20:00"), Decimal(48000)),
    report.PriceMark("BTC/USDT", t("12:59:00"), Decimal(47000)),
    report.PriceMark("BTC/USDT", t("13:10:00"), Decimal(46000)),
]


def series() -> list[report.HourPoint]:
    hours = report.hour_ends(t("09:30:00"), t("13:00:00"))
    return report.hourly_series(
        report.spread_interest(CHANGES, RUNS),
        MARKS,
        {"BTC/USDT": Decimal(60000)},
        hours,
        ["BTC/USDT"],
        "USDT",
        {"USDT": Decimal(1), "BTC": Decimal(1)},
        ISOLATED_10X,
    )


def test_the_hour_ends_of_a_range_start_at_the_first_whole_hour() -> None:
    # 09:30 → the first hour end is 10:00; 13:00 itself is included
    assert report.hour_ends(t("09:30:00"), t("13:00:00")) == [
        t("10:00:00"),
        t("11:00:00"),
        t("12:00:00"),
        t("13:00:00"),
    ]
    assert report.hour_ends(t("10:00:00"), t("10:00:00")) == [t("10:00:00")]
    assert report.hour_ends(t("10:05:00"), t("10:55:00")) == []


def test_a_report_starts_by_default_at_the_first_hour_end_after_the_first_change() -> None:
    assert report.hour_end_after(t("09:30:00")) == t("10:00:00")
    # a change exactly at 10:00 is first shown at 11:00, once a whole hour of it has passed
    assert report.hour_end_after(t("10:00:00")) == t("11:00:00")


def test_a_range_of_more_than_the_most_hours_is_refused() -> None:
    start = datetime(2000, 1, 1, tzinfo=UTC)
    # 100,000 hours after 2000-01-01T00:00 is the 100,001st hour end
    end = start + report.MAX_HOURS * (t("11:00:00") - t("10:00:00"))
    with pytest.raises(InvalidInput, match="100001 hours"):
        report.hour_ends(start, end)


def test_before_any_fill_the_wallet_is_its_cash_and_debt_at_the_config_price() -> None:
    point = series()[0]
    assert point.at == t("10:00:00")
    # no mark yet: the config's 60000; USDT 1000 + 4000 = 5000, owed 4000 + 0.04 = 4000.04
    assert point.prices == {"BTC/USDT": Decimal(60000)}
    assert point.valuation.total_asset_value == Decimal(5000)
    assert point.valuation.liability_value == Decimal("4000.04")
    assert point.valuation.net_asset_value == Decimal("999.96")
    # 5000 / 4000.04 = 1.24998750…
    assert round_down(point.margin_level, 8) == Decimal("1.24998750")
    assert point.status == "NORMAL"


def test_an_interest_hour_counts_from_its_own_hour_though_booked_later() -> None:
    point = series()[1]
    # 11:00: 0.0999 BTC × 50000 (the 10:45 mark) = 4995; owed 4000 + 0.04 + 0.04 (PERIODIC 11:00, booked at 12:00)
    assert point.valuation.total_asset_value == Decimal("4995.0000")
    assert point.valuation.liability_value == Decimal("4000.08")
    assert point.valuation.net_asset_value == Decimal("994.92")
    # 4995 / 4000.08 = 1.24872502…
    assert round_down(point.margin_level, 8) == Decimal("1.24872502")


def test_each_hour_takes_the_last_price_at_or_before_its_end() -> None:
    at_12, at_13 = series()[2:]
    # 12:00: 0.0999 × 48000 = 4795.2; owed 4000 + 0.04 × 3 = 4000.12; 4795.2 / 4000.12 = 1.19876403…
    assert at_12.prices == {"BTC/USDT": Decimal(48000)}
    assert at_12.valuation.net_asset_value == Decimal("795.08")
    assert round_down(at_12.margin_level, 8) == Decimal("1.19876403")
    # 13:00: the 12:59 mark (47000), not the 13:10 one; 0.0999 × 47000 = 4695.3; 4695.3 / 4000.12 = 1.17378978…
    assert at_13.prices == {"BTC/USDT": Decimal(47000)}
    assert at_13.valuation.net_asset_value == Decimal("695.18")
    assert round_down(at_13.margin_level, 8) == Decimal("1.17378978")


def test_a_wallet_without_debt_has_no_margin_level() -> None:
    [point] = report.hourly_series(
        CHANGES[:1], [], {"BTC/USDT": Decimal(60000)}, [t("10:00:00")], [], "USDT", {}, ISOLATED_10X
    )
    assert point.valuation.net_asset_value == Decimal(1000)
    assert point.margin_level is None
    assert point.status == "EXCESSIVE"


def test_a_booked_interest_that_its_runs_do_not_add_up_to_stays_as_booked() -> None:
    odd = [report.BalanceChange(6, t("12:00:00"), "USDT", "interest", Decimal("-0.09"))]
    assert report.spread_interest(odd, RUNS) == odd


def test_the_summary_gives_the_ends_the_lowest_level_and_the_event_counts() -> None:
    events = report.story_events(
        [
            report.Event(t("10:30:00"), report.FILL, 4, "BTC/USDT", "BUY", Decimal(50000), Decimal("0.1")),
            # a liquidation's own sale is part of the liquidation, not a fill
            report.Event(t("12:30:00"), report.FILL, 9, "BTC/USDT", "SELL", Decimal(48000), Decimal("0.0999")),
        ],
        [
            report.Event(t("12:10:00"), report.MARGIN_CALL, None, margin_level=Decimal("1.07")),
            report.Event(t("12:30:00"), report.LIQUIDATION, 9, margin_level=Decimal("1.04")),
        ],
    )
    assert [event.kind for event in events] == [report.FILL, report.MARGIN_CALL, report.LIQUIDATION]
    summary = report.summarize(series(), events)
    assert summary.hours == 4
    assert summary.start_net_asset_value == Decimal("999.96")
    assert summary.end_net_asset_value == Decimal("695.18")
    # the lowest of the hour ends' 1.2499…, 1.2487…, 1.1987…, 1.1737… and the events' 1.07 and 1.04: the liquidation's
    assert summary.min_margin_level == Decimal("1.04")
    assert summary.min_margin_level_at == t("12:30:00")
    # without events, the lowest hour end: 13:00's
    assert report.summarize(series(), []).min_margin_level_at == t("13:00:00")
    assert (summary.fills, summary.margin_calls, summary.liquidations) == (1, 1, 1)


def test_the_charted_pairs_price_the_held_assets_in_the_valuation_asset() -> None:
    pairs = ["BTC/USDT", "ETH/USDT", "ETH/BTC", "BNB/USDT"]
    assert report.charted_pairs({"USDT", "ETH", "BTC"}, pairs, "USDT") == ["BTC/USDT", "ETH/USDT"]
