"""The risk engine (issue 6, DESIGN §4 and §6): hourly interest for cron, margin calls, liquidation with its fee
and the insurance fund, cooling-off, and the replay of Binance klines.

Every expected number is worked out by hand from DESIGN §4 with the default config: cross 3x (margin call
1.3, liquidation 1.1, pre-liquidation band 0.05, fee 2 %), isolated BTC/USDT 10x (1.08 / 1.05, fee 2 %),
USDT daily 0.00024 (hourly 0.00001), BTC daily 0.000048 (hourly 0.000002), taker/maker fee 0.1 %,
BTC/USDT 60000, insurance fund 1,000,000 USDT. Interest is principal × hourly rate rounded up to 8 places.
"""

from __future__ import annotations

import csv
import io
import sqlite3
import zipfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Result, Wallet, asset_row


def refused(wallet: Wallet, *args: str, now: str, code: int = 3) -> Result:
    """A command that must be refused with `code` and leave the wallet file byte for byte as it was."""
    before = wallet.fingerprint()
    result = wallet.run(*args, "--json", now=now)
    assert result.code == code, (args, result.code, result.out, result.err)
    assert wallet.fingerprint() == before, f"{args} changed the wallet file although it was refused"
    assert result.out == "", "a refusal prints nothing on stdout"
    return result


def assert_audit_clean(wallet: Wallet, now: str) -> None:
    report = wallet.ok("audit", now=now)
    assert report["ok"] is True, report


def insurance_fund_usdt(wallet: Wallet) -> Decimal:
    """The insurance fund's free USDT, read from the ledger's materialized balances."""
    with sqlite3.connect(wallet.path) as connection:
        (amount,) = connection.execute(
            "SELECT b.amount FROM balances b JOIN accounts a ON a.id = b.account_id "
            "WHERE a.name = 'insurance-fund' AND b.wallet = 'spot' AND b.asset = 'USDT' AND b.bucket = 'free'"
        ).fetchone()
    return Decimal(amount)


def margin_call_events(wallet: Wallet) -> int:
    with sqlite3.connect(wallet.path) as connection:
        (count,) = connection.execute("SELECT COUNT(*) FROM risk_events WHERE kind = 'margin_call'").fetchone()
    return int(count)


def sum_of(values: list[str]) -> Decimal:
    return sum((Decimal(value) for value in values), Decimal(0))


# --- hourly interest: the worked example -------------------------------------------------------


def t(clock: str, day: str = "2026-02-01") -> str:
    return f"{day}T{clock}Z"


def borrow_1200_usdt(wallet: Wallet) -> None:
    """1000 USDT in cross, 1200 USDT borrowed at 10:20 (ON_BORROW 1200 × 0.00001 = 0.012)."""
    wallet.ok("deposit", "USDT", "1000", now=t("10:00:00"))
    wallet.ok("transfer", "USDT", "1000", "--yes", now=t("10:01:00"))
    wallet.ok("borrow", "USDT", "1200", "--yes", now=t("10:20:00"))


def test_accrue_charges_each_hour_boundary_passed_since_the_borrow(wallet: Wallet) -> None:
    borrow_1200_usdt(wallet)
    summary = wallet.ok("accrue", "--until", t("13:05:00"), now=t("13:05:00"))
    # boundaries 11:00, 12:00, 13:00 (10:20 < H ≤ 13:05), each 1200 × 0.00001 = 0.012 → 3 × 0.012 = 0.036
    assert summary["hoursProcessed"] == 3
    assert summary["charges"] == 3
    assert summary["interest"] == {"USDT": "0.03600000"}
    assert summary["marginCalls"] == [] and summary["liquidations"] == []

    history = wallet.ok("interest", now=t("13:06:00"))
    periodic = [row for row in history["rows"] if row["type"] == "PERIODIC"]
    assert sorted(row["interestAccuredTime"] for row in periodic) == [t("11:00:00"), t("12:00:00"), t("13:00:00")]
    assert {(row["principal"], row["interest"], row["interestRate"]) for row in periodic} == {
        ("1200.00000000", "0.01200000", "0.00024")
    }
    # ON_BORROW 0.012 + 3 × 0.012 = 0.048
    assert sum_of([row["interest"] for row in history["rows"]]) == Decimal("0.048")
    assert asset_row(wallet.ok("status", now=t("13:06:00")), "USDT")["interest"] == "0.04800000"
    assert_audit_clean(wallet, t("13:06:00"))


def test_a_second_identical_accrue_charges_nothing(wallet: Wallet) -> None:
    borrow_1200_usdt(wallet)
    wallet.ok("accrue", "--until", t("13:05:00"), now=t("13:05:00"))
    again = wallet.ok("accrue", "--until", t("13:05:00"), now=t("13:05:00"))
    assert again["hoursProcessed"] == 0
    assert again["charges"] == 0
    assert again["interest"] == {}
    # still ON_BORROW + 3 PERIODIC rows, total 0.048
    history = wallet.ok("interest", now=t("13:06:00"))
    assert len(history["rows"]) == 4
    assert asset_row(wallet.ok("status", now=t("13:06:00")), "USDT")["interest"] == "0.04800000"


def test_after_a_repayment_the_next_hours_charge_the_principal_left(wallet: Wallet) -> None:
    borrow_1200_usdt(wallet)
    wallet.ok("accrue", "--until", t("13:05:00"), now=t("13:05:00"))
    repaid = wallet.ok("repay", "USDT", "600.048", now=t("13:30:00"))
    # interest first: 0.048; then principal 600.048 − 0.048 = 600 → 1200 − 600 = 600 left
    assert repaid["interest"] == "0.04800000"
    assert repaid["principal"] == "600.00000000"
    summary = wallet.ok("accrue", "--until", t("15:00:00"), now=t("15:00:00"))
    # 14:00 and 15:00 on 600: 600 × 0.00001 = 0.006 each → 0.012
    assert summary["hoursProcessed"] == 2
    assert summary["charges"] == 2
    assert summary["interest"] == {"USDT": "0.01200000"}
    rows = wallet.ok("interest", now=t("15:01:00"))["rows"]
    latest = sorted((row for row in rows if row["type"] == "PERIODIC"), key=lambda row: row["interestAccuredTime"])
    assert [(row["interestAccuredTime"], row["principal"], row["interest"]) for row in latest[-2:]] == [
        (t("14:00:00"), "600.00000000", "0.00600000"),
        (t("15:00:00"), "600.00000000", "0.00600000"),
    ]
    usdt = asset_row(wallet.ok("status", now=t("15:01:00")), "USDT")
    assert usdt["borrowed"] == "600.00000000"
    assert usdt["interest"] == "0.01200000"  # 0.006 + 0.006, nothing else unpaid
    assert_audit_clean(wallet, t("15:01:00"))


def test_a_borrow_at_exactly_the_hour_owes_only_on_borrow_for_that_hour(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1000", now=t("10:00:00"))
    wallet.ok("transfer", "USDT", "1000", "--yes", now=t("10:01:00"))
    wallet.ok("borrow", "USDT", "1000", "--yes", now=t("11:00:00"))
    summary = wallet.ok("accrue", "--until", t("12:30:00"), now=t("12:30:00"))
    # 11:00 is covered by ON_BORROW; only 12:00 is PERIODIC: 1000 × 0.00001 = 0.01
    assert summary["charges"] == 1
    assert summary["interest"] == {"USDT": "0.01000000"}
    rows = wallet.ok("interest", now=t("12:31:00"))["rows"]
    assert sorted((row["interestAccuredTime"], row["type"]) for row in rows) == [
        (t("11:00:00"), "ON_BORROW"),
        (t("12:00:00"), "PERIODIC"),
    ]


def test_accrue_after_72_hours_of_downtime_charges_all_72_hours_exactly(wallet: Wallet) -> None:
    day = "2026-02-02"
    wallet.ok("deposit", "USDT", "1000", now=t("00:10:00", day))
    wallet.ok("transfer", "USDT", "1000", "--yes", now=t("00:11:00", day))
    wallet.ok("borrow", "USDT", "1234.5678", "--yes", now=t("00:30:00", day))
    summary = wallet.ok("accrue", "--until", t("00:30:00", "2026-02-05"), now=t("00:30:00", "2026-02-05"))
    # boundaries 02-02 01:00 … 02-05 00:00: 23 + 24 + 24 + 1 = 72 hours
    assert summary["hoursProcessed"] == 72
    assert summary["charges"] == 72
    # each hour 1234.5678 × 0.00001 = 0.012345678 → up to 0.01234568; 72 × 0.01234568 = 0.88888896
    # (rounding the 72-hour total instead would give 0.888888816 → 0.88888882: each hour is rounded)
    assert summary["interest"] == {"USDT": "0.88888896"}
    rows = wallet.ok("interest", "--limit", "100", now=t("00:31:00", "2026-02-05"))["rows"]
    periodic = sorted(row["interestAccuredTime"] for row in rows if row["type"] == "PERIODIC")
    assert len(periodic) == len(set(periodic)) == 72
    assert periodic[0] == t("01:00:00", day)
    assert periodic[-1] == t("00:00:00", "2026-02-05")
    # ON_BORROW 0.01234568 + 0.88888896 = 0.90123464
    assert asset_row(wallet.ok("status", now=t("00:31:00", "2026-02-05")), "USDT")["interest"] == "0.90123464"
    assert wallet.ok("accrue", "--until", t("00:59:00", "2026-02-05"), now=t("00:59:00", "2026-02-05"))["charges"] == 0
    assert_audit_clean(wallet, t("01:00:00", "2026-02-05"))


# --- margin call and liquidation of a long: the worked examples ----------------------------------


def open_long(wallet: Wallet) -> None:
    """1000 USDT in cross, buy 0.05 BTC at 60000 with auto-borrow.

    Cost 0.05 × 60000 = 3000 → borrows 3000 − 1000 = 2000 (ON_BORROW 2000 × 0.00001 = 0.02);
    fee 0.1 % in BTC: 0.05 × 0.999 = 0.04995 BTC received; USDT free 0, debt 2000.02.
    """
    wallet.ok("deposit", "USDT", "1000", now=t("10:00:00"))
    wallet.ok("transfer", "USDT", "1000", "--yes", now=t("10:01:00"))
    order = wallet.ok("trade", "buy", "BTC/USDT", "0.05", "--side-effect", "auto-borrow", now=t("10:02:00"))
    assert order["marginBuyBorrowAmount"] == "2000.00000000"
    assert order["executedQty"] == "0.05000000"


def test_price_drop_to_50000_is_a_margin_call_with_a_warning_and_check_exits_4(wallet: Wallet) -> None:
    open_long(wallet)
    result = wallet.run("price", "set", "BTC/USDT", "50000", "--json", now=t("10:03:00"))
    assert result.code == 0, result.err
    calls = result.json()["marginCalls"]
    # 0.04995 × 50000 = 2497.5; 2497.5 / 2000.02 = 1.248737512… ≤ 1.3 and > 1.15
    assert [(call["wallet"], call["marginLevel"], call["marginLevelStatus"]) for call in calls] == [
        ("cross", "1.24873751", "MARGIN_CALL")
    ]
    assert result.json()["liquidations"] == []
    warnings = [line for line in result.err.splitlines() if line.startswith("warning: margin call:")]
    assert len(warnings) == 1 and "cross" in warnings[0]
    assert wallet.run("status", "--check", now=t("10:04:00")).code == 4
    assert wallet.ok("status", now=t("10:04:00"))["marginLevelStatus"] == "MARGIN_CALL"


def test_long_liquidated_at_44000_leaves_153_824_usdt_after_the_2_percent_fee(wallet: Wallet) -> None:
    open_long(wallet)
    wallet.ok("price", "set", "BTC/USDT", "50000", now=t("10:03:00"))
    result = wallet.run("price", "set", "BTC/USDT", "44000", "--json", now=t("10:04:00"))
    assert result.code == 0, result.err
    (liquidation,) = result.json()["liquidations"]
    # 0.04995 × 44000 = 2197.8; 2197.8 / 2000.02 = 1.098889011… ≤ 1.1
    assert liquidation["wallet"] == "cross"
    assert liquidation["marginLevel"] == "1.09888901"
    assert liquidation["totalAssetValue"] == "2197.80000000"
    assert liquidation["sold"] == {"BTC": "0.04995000"}
    assert liquidation["proceeds"] == "2197.80000000"
    assert liquidation["boughtBack"] == {}
    assert liquidation["repaid"] == {"USDT": {"interest": "0.02000000", "principal": "2000.00000000"}}
    assert liquidation["liquidationFee"] == "43.95600000"  # 2 % × 2197.8 = 43.956
    assert liquidation["insurancePayout"] == "0.00000000"
    assert liquidation["leftOver"] == "153.82400000"  # 2197.8 − 43.956 − 2000.02 = 153.824
    assert liquidation["asset"] == "USDT"
    red = [line for line in result.err.splitlines() if line.startswith("LIQUIDATED:")]
    assert len(red) == 1 and "153.82400000" in red[0]

    status = wallet.ok("status", now=t("10:05:00"))
    usdt, btc = asset_row(status, "USDT"), asset_row(status, "BTC")
    assert (usdt["free"], usdt["borrowed"], usdt["interest"]) == ("153.82400000", "0.00000000", "0.00000000")
    assert btc["free"] == "0.00000000"
    assert status["marginLevel"] == "999"  # no liability left
    # the fund gains the fee: 1,000,000 + 43.956
    assert insurance_fund_usdt(wallet) == Decimal("1000043.956")
    (entry,) = wallet.ok("history", "--kind", "liquidation", now=t("10:05:00"))
    assert entry["tranId"] == liquidation["tranId"]
    assert "43.956" in entry["memo"]
    assert_audit_clean(wallet, t("10:05:00"))


def test_gap_to_30000_the_insurance_fund_pays_the_shortfall_and_the_account_ends_at_zero(wallet: Wallet) -> None:
    open_long(wallet)
    result = wallet.run("price", "set", "BTC/USDT", "30000", "--json", now=t("10:03:00"))
    assert result.code == 0, result.err
    (liquidation,) = result.json()["liquidations"]
    # 0.04995 × 30000 = 1498.5; 1498.5 / 2000.02 = 0.7492… ≤ 1.1
    assert Decimal("0.7492") < Decimal(liquidation["marginLevel"]) < Decimal("0.7493")
    assert liquidation["proceeds"] == "1498.50000000"
    # equity 1498.5 − 2000.02 = −501.52 < 0: no fee (the fund would pay it to itself), the fund pays 501.52
    assert liquidation["liquidationFee"] == "0.00000000"
    assert liquidation["insurancePayout"] == "501.52000000"
    assert liquidation["leftOver"] == "0.00000000"
    assert liquidation["repaid"] == {"USDT": {"interest": "0.02000000", "principal": "2000.00000000"}}
    assert any("insurance fund paid 501.52" in line for line in result.err.splitlines())

    status = wallet.ok("status", now=t("10:04:00"))
    for asset in ("USDT", "BTC"):
        row = asset_row(status, asset)
        assert (row["free"], row["locked"], row["borrowed"], row["interest"]) == ("0.00000000",) * 4, row
    assert status["totalAssetValue"] == status["totalLiabilityValue"] == "0.00000000"
    # the fund: 1,000,000 − shortfall 501.52 = 999,498.48
    assert insurance_fund_usdt(wallet) == Decimal("999498.48")

    (entry,) = wallet.ok("history", "--kind", "liquidation", now=t("10:04:00"))
    assert entry["kind"] == "liquidation"
    assert "insurance payout 501.52" in entry["memo"]
    usdt_free = [Decimal(c["amount"]) for c in entry["changes"] if c["asset"] == "USDT" and c["field"] == "free"]
    # the fund's 501.52 reaches the cross wallet, so the user's side sums to zero:
    # +1498.5 proceeds + 501.52 insurance − 2000.02 repaid = 0
    assert Decimal("501.52") in usdt_free
    assert sum(usdt_free, Decimal(0)) == 0
    by_field = {(c["asset"], c["field"]): Decimal(c["amount"]) for c in entry["changes"] if c["field"] != "free"}
    assert by_field == {("USDT", "interest"): Decimal("-0.02"), ("USDT", "borrowed"): Decimal("-2000")}
    assert_audit_clean(wallet, t("10:04:00"))


def test_margin_call_recorded_at_most_once_per_24_hours_but_warned_every_time(wallet: Wallet) -> None:
    open_long(wallet)
    first = wallet.run("price", "set", "BTC/USDT", "50000", "--json", now=t("10:03:00"))
    second = wallet.run("price", "set", "BTC/USDT", "49000", "--json", now=t("10:40:00"))
    for result in (first, second):
        assert result.code == 0, result.err
        assert sum(line.startswith("warning: margin call: main cross") for line in result.err.splitlines()) == 1
    # 0.04995 × 49000 = 2447.55; 2447.55 / 2000.02 = 1.223762762… still ≤ 1.3
    assert second.json()["marginCalls"][0]["marginLevel"] == "1.22376276"
    assert first.json()["marginCalls"][0]["recorded"] is True
    assert second.json()["marginCalls"][0]["recorded"] is False
    assert margin_call_events(wallet) == 1
    assert wallet.run("status", "--check", now=t("10:41:00")).code == 4

    # 24 h 1 min after the first event it is recorded again; the 24 hours charged on the way
    # (24 × 0.02 = 0.48) leave 0.04995 × 49500 / 2000.5 = 1.2359… still a margin call
    third = wallet.run("price", "set", "BTC/USDT", "49500", "--json", now=t("10:04:00", "2026-02-02"))
    assert third.code == 0, third.err
    assert third.json()["marginCalls"][0]["recorded"] is True
    assert margin_call_events(wallet) == 2
    assert_audit_clean(wallet, t("10:05:00", "2026-02-02"))


def test_accrue_over_hours_in_margin_call_prints_one_warning_line_per_wallet(wallet: Wallet) -> None:
    open_long(wallet)
    wallet.ok("price", "set", "BTC/USDT", "50000", now=t("10:03:00"))
    result = wallet.run("accrue", "--until", t("15:10:00"), "--json", now=t("15:10:00"))
    assert result.code == 0, result.err
    # 5 hours (11:00 … 15:00) in margin call, one wallet: DESIGN §4 and the issue ask for one warning line
    # per affected wallet on stderr, and the same in the --json output
    warnings = [line for line in result.err.splitlines() if line.startswith("warning: margin call:")]
    calls = result.json()["marginCalls"]
    assert (len(warnings), len(calls)) == (1, 1), (warnings, calls)
    assert margin_call_events(wallet) == 1  # the 10:03 event is less than 24 h old


def test_accrue_liquidates_at_the_hour_the_interest_pushes_the_level_to_1_1(wallet: Wallet) -> None:
    open_long(wallet)
    # 0.04995 × 44050 = 2200.2975; 2200.2975 / 2000.02 = 1.10013… just above 1.1
    assert wallet.ok("price", "set", "BTC/USDT", "44050", now=t("10:03:00"))["liquidations"] == []
    result = wallet.run("accrue", "--until", t("02:00:00", "2026-02-02"), "--json", now=t("02:00:00", "2026-02-02"))
    assert result.code == 0, result.err
    summary = result.json()
    # each hour adds 2000 × 0.00001 = 0.02. After n hours the level is 2200.2975 / (2000.02 + 0.02 n):
    # n = 12 (22:00): 2200.2975 / 2000.26 = 1.1000079… > 1.1; n = 13 (23:00): 2200.2975 / 2000.28 = 1.09996… ≤ 1.1
    (liquidation,) = summary["liquidations"]
    assert liquidation["time"] == t("23:00:00")
    # interest repaid: ON_BORROW 0.02 + 13 × 0.02 = 0.28
    assert liquidation["repaid"] == {"USDT": {"interest": "0.28000000", "principal": "2000.00000000"}}
    assert liquidation["liquidationFee"] == "44.00595000"  # 2 % × 2200.2975 = 44.00595
    assert liquidation["leftOver"] == "156.01155000"  # 2200.2975 − 44.00595 − 2000.28 = 156.01155
    # boundaries 11:00 … 02:00 are 16 hours; only the 13 up to the liquidation had a loan to charge
    assert summary["hoursProcessed"] == 16
    assert summary["charges"] == 13
    assert summary["interest"] == {"USDT": "0.26000000"}  # 13 × 0.02
    assert sum(line.startswith("LIQUIDATED: main cross") for line in result.err.splitlines()) == 1
    assert_audit_clean(wallet, t("02:01:00", "2026-02-02"))


def test_an_accrue_that_liquidates_books_other_accounts_hours_on_either_side_of_the_liquidation(wallet: Wallet) -> None:
    """The journal stays in time order: another account's interest up to the liquidation's hour is booked
    before it, its later hours after it (tranIds rise with time across accounts)."""
    open_long(wallet)
    assert wallet.ok("price", "set", "BTC/USDT", "44050", now=t("10:03:00"))["liquidations"] == []
    wallet.ok("accounts", "create", "bob", now=t("10:04:00"))
    wallet.ok("deposit", "USDT", "1000", now=t("10:05:00"), account="bob")
    wallet.ok("transfer", "USDT", "1000", "--yes", now=t("10:06:00"), account="bob")
    wallet.ok("borrow", "USDT", "100", "--yes", now=t("10:07:00"), account="bob")  # level 1100 / 100.001: NORMAL
    summary = wallet.ok("accrue", "--until", t("02:00:00", "2026-02-02"), now=t("02:00:00", "2026-02-02"))
    (liquidation,) = summary["liquidations"]
    assert liquidation["time"] == t("23:00:00")  # as in the test above: the 13th hour, 23:00
    main_entries = wallet.ok("history", "--limit", "100", now=t("02:01:00", "2026-02-02"))
    liquidated = next(entry for entry in main_entries if entry["kind"] == "liquidation")
    bob = [
        entry for entry in wallet.ok("history", "--kind", "interest", now=t("02:01:00", "2026-02-02"), account="bob")
    ]
    # bob's ON_BORROW hour (100 × 0.00001 = 0.001) and hours 11:00 … 23:00 (13 × 0.001 = 0.013) come before
    # the liquidation: 0.014; hours 00:00 … 02:00 (3 × 0.001 = 0.003) after it
    before = [entry for entry in bob if entry["tranId"] < liquidated["tranId"]]
    after = [entry for entry in bob if entry["tranId"] > liquidated["tranId"]]
    assert sum_of([change["amount"] for entry in before for change in entry["changes"]]) == Decimal("0.014")
    assert sum_of([change["amount"] for entry in after for change in entry["changes"]]) == Decimal("0.003")
    assert all(entry["time"] <= liquidated["time"] for entry in before)
    assert all(entry["time"] > liquidated["time"] for entry in after)
    assert_audit_clean(wallet, t("02:01:00", "2026-02-02"))


# --- a short liquidated on a rising price (hand-worked) ----------------------------------------------------


def open_short(wallet: Wallet) -> None:
    """1000 USDT in cross, sell 0.01 BTC at 60000 with auto-borrow.

    Borrows 0.01 BTC (ON_BORROW 0.01 × 0.000002 = 0.00000002); 600 USDT − 0.1 % fee 0.6 = 599.4 received;
    USDT free 1599.4, BTC owed 0.01000002.
    """
    wallet.ok("deposit", "USDT", "1000", now=t("10:00:00"))
    wallet.ok("transfer", "USDT", "1000", "--yes", now=t("10:01:00"))
    order = wallet.ok("trade", "sell", "BTC/USDT", "0.01", "--side-effect", "auto-borrow", now=t("10:02:00"))
    assert order["marginBuyBorrowAmount"] == "0.01000000"
    assert order["marginBuyBorrowAsset"] == "BTC"


def test_short_is_warned_at_145000_and_liquidated_at_150000(wallet: Wallet) -> None:
    open_short(wallet)
    status = wallet.ok("status", now=t("10:03:00"))
    assert asset_row(status, "USDT")["free"] == "1599.40000000"
    assert asset_row(status, "BTC")["interest"] == "0.00000002"

    # 0.01000002 × 145000 = 1450.0029; 1599.4 / 1450.0029 = 1.10303… : 1.1 < level ≤ 1.15 → PRE_LIQUIDATION
    warned = wallet.ok("price", "set", "BTC/USDT", "145000", now=t("10:04:00"))
    assert warned["liquidations"] == []
    (call,) = warned["marginCalls"]
    assert call["marginLevelStatus"] == "PRE_LIQUIDATION"
    assert Decimal("1.1030") < Decimal(call["marginLevel"]) < Decimal("1.1031")

    result = wallet.run("price", "set", "BTC/USDT", "150000", "--json", now=t("10:05:00"))
    assert result.code == 0, result.err
    (liquidation,) = result.json()["liquidations"]
    # 0.01000002 × 150000 = 1500.003; 1599.4 / 1500.003 = 1.066264534… ≤ 1.1
    assert liquidation["marginLevel"] == "1.06626453"
    assert liquidation["totalAssetValue"] == "1599.40000000"  # only USDT is held
    assert liquidation["sold"] == {}
    # buy back what is owed, 0.01 + 0.00000002 = 0.01000002 BTC, at 150000 = 1500.003 USDT
    assert liquidation["boughtBack"] == {"BTC": "0.01000002"}
    assert liquidation["repaid"] == {"BTC": {"interest": "0.00000002", "principal": "0.01000000"}}
    assert liquidation["liquidationFee"] == "31.98800000"  # 2 % × 1599.4 = 31.988
    assert liquidation["insurancePayout"] == "0.00000000"
    assert liquidation["leftOver"] == "67.40900000"  # 1599.4 − 1500.003 − 31.988 = 67.409
    assert any(line.startswith("LIQUIDATED: main cross") for line in result.err.splitlines())

    status = wallet.ok("status", now=t("10:06:00"))
    usdt, btc = asset_row(status, "USDT"), asset_row(status, "BTC")
    assert (usdt["free"], usdt["borrowed"], usdt["interest"]) == ("67.40900000", "0.00000000", "0.00000000")
    assert (btc["free"], btc["borrowed"], btc["interest"]) == ("0.00000000", "0.00000000", "0.00000000")
    assert insurance_fund_usdt(wallet) == Decimal("1000031.988")  # 1,000,000 + 31.988
    assert_audit_clean(wallet, t("10:06:00"))


# --- an isolated 10x wallet liquidated at 1.05, the cross wallet untouched ----------------------------------


def margin_fields(document: dict[str, Any]) -> dict[str, tuple[str, str, str, str]]:
    """free, locked, borrowed, interest of BTC and USDT (cross also lists the other configured assets)."""
    return {
        row["asset"]: (row["free"], row["locked"], row["borrowed"], row["interest"])
        for row in document["userAssets"]
        if row["asset"] in ("BTC", "USDT")
    }


def test_isolated_10x_wallet_liquidated_at_1_05_while_cross_is_untouched(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1100", now=t("10:00:00"))
    # cross: 1000 USDT, buy 0.02 BTC (1200) borrowing 200 (ON_BORROW 0.002); 0.02 × 0.999 = 0.01998 BTC
    wallet.ok("transfer", "USDT", "1000", "--yes", now=t("10:01:00"))
    wallet.ok("trade", "buy", "BTC/USDT", "0.02", "--side-effect", "auto-borrow", now=t("10:02:00"))
    # isolated: 100 USDT, buy 0.01 BTC (600) borrowing 500 (ON_BORROW 0.005); 0.01 × 0.999 = 0.00999 BTC
    wallet.ok("transfer", "USDT", "100", "--to", "BTC/USDT", "--yes", now=t("10:03:00"))
    order = wallet.ok(
        "trade", "buy", "BTC/USDT", "0.01", "--side-effect", "auto-borrow", "--isolated", now=t("10:04:00")
    )
    assert order["marginBuyBorrowAmount"] == "500.00000000"
    isolated = wallet.ok("status", "--isolated", "BTC/USDT", now=t("10:05:00"))
    assert isolated["mode"] == "isolated-10x"
    # 0.00999 × 60000 / 500.005 = 599.4 / 500.005 = 1.19878… NORMAL
    assert isolated["marginLevelStatus"] == "NORMAL"
    cross_before = margin_fields(wallet.ok("status", now=t("10:05:00")))
    assert cross_before["BTC"][0] == "0.01998000"
    assert cross_before["USDT"][2:] == ("200.00000000", "0.00200000")
    isolated_rows = [row for row in wallet.ok("interest", now=t("10:05:00"))["rows"] if "isolatedSymbol" in row]
    assert [(row["isolatedSymbol"], row["interest"]) for row in isolated_rows] == [("BTCUSDT", "0.00500000")]

    result = wallet.run("price", "set", "BTC/USDT", "52500", "--json", now=t("10:06:00"))
    assert result.code == 0, result.err
    (liquidation,) = result.json()["liquidations"]
    # isolated: 0.00999 × 52500 = 524.475; 524.475 / 500.005 = 1.048939… ≤ 1.05 (margin call would be 1.08)
    assert liquidation["wallet"] == "BTC/USDT"
    assert liquidation["marginLevel"] == "1.04893951"
    assert liquidation["sold"] == {"BTC": "0.00999000"}
    assert liquidation["proceeds"] == "524.47500000"
    assert liquidation["liquidationFee"] == "10.48950000"  # 2 % × 524.475 = 10.4895
    assert liquidation["repaid"] == {"USDT": {"interest": "0.00500000", "principal": "500.00000000"}}
    assert liquidation["leftOver"] == "13.98050000"  # 524.475 − 10.4895 − 500.005 = 13.9805
    # cross: 0.01998 × 52500 / 200.002 = 1048.95 / 200.002 = 5.24… nothing to report
    assert result.json()["marginCalls"] == []

    isolated = wallet.ok("status", "--isolated", "BTC/USDT", now=t("10:07:00"))
    assert margin_fields(isolated) == {
        "BTC": ("0.00000000", "0.00000000", "0.00000000", "0.00000000"),
        "USDT": ("13.98050000", "0.00000000", "0.00000000", "0.00000000"),
    }
    assert margin_fields(wallet.ok("status", now=t("10:07:00"))) == cross_before
    (entry,) = wallet.ok("history", "--kind", "liquidation", now=t("10:07:00"))
    assert {change["wallet"] for change in entry["changes"]} == {"BTC/USDT"}
    assert_audit_clean(wallet, t("10:07:00"))


# --- cooling-off ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "now", "until"),
    [
        ("1d", "2026-03-15T10:00:00Z", "2026-03-15T23:59:59Z"),  # 23:59:59 of that day
        ("1w", "2026-03-15T10:00:00Z", "2026-03-22T23:59:59Z"),  # 15 + 7 = 22
        ("1m", "2026-03-15T10:00:00Z", "2026-04-15T23:59:59Z"),  # same day next month
        ("1m", "2026-12-20T08:00:00Z", "2027-01-20T23:59:59Z"),  # next month across the year end
    ],
)
def test_cooloff_runs_until_23_59_59_of_the_day_week_or_month(
    wallet: Wallet, period: str, now: str, until: str
) -> None:
    started = wallet.ok("cooloff", period, "--yes", now=now)
    assert started["period"] == period
    assert started["coolingOffUntil"] == until
    assert wallet.ok("status", now=now)["coolingOffUntil"] == until


def test_cooloff_without_yes_and_without_a_terminal_is_refused(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "10", now="2026-03-02T09:00:00Z")
    result = refused(wallet, "cooloff", "1d", now="2026-03-02T10:00:00Z")
    assert result.error()["code"] == "confirmation_required"
    assert wallet.ok("status", now="2026-03-02T10:01:00Z")["coolingOffUntil"] is None


def cooling_off_account(wallet: Wallet) -> int:
    """2000 USDT in cross, 500 USDT borrowed, 0.00999 BTC bought, a resting limit buy; then cooloff 1d.

    Returns the resting order's id.
    """
    day = "2026-03-02"
    wallet.ok("deposit", "USDT", "3000", now=t("09:00:00", day))
    wallet.ok("transfer", "USDT", "2000", "--yes", now=t("09:01:00", day))
    wallet.ok("borrow", "USDT", "500", "--yes", now=t("09:02:00", day))
    wallet.ok("trade", "buy", "BTC/USDT", "0.01", now=t("09:03:00", day))
    order = wallet.ok("trade", "buy", "BTC/USDT", "0.001", "--price", "50000", now=t("09:04:00", day))
    assert order["status"] == "NEW"
    assert wallet.ok("cooloff", "1d", "--yes", now=t("10:00:00", day))["coolingOffUntil"] == "2026-03-02T23:59:59Z"
    return int(order["orderId"])


@pytest.mark.parametrize(
    "args",
    [
        ("transfer", "USDT", "100", "--yes"),
        ("transfer", "USDT", "100", "--to", "BTC/USDT", "--yes"),
        ("borrow", "USDT", "10", "--yes"),
        ("trade", "buy", "BTC/USDT", "0.001"),
        ("trade", "sell", "BTC/USDT", "0.001"),
        ("trade", "buy", "BTC/USDT", "0.001", "--price", "50000"),
        ("trade", "buy", "BTC/USDT", "0.001", "--side-effect", "auto-borrow"),
    ],
    ids=["transfer-in", "transfer-into-isolated", "borrow", "market-buy", "market-sell", "limit-buy", "auto-borrow"],
)
def test_cooling_off_blocks_new_exposure_with_exit_3(wallet: Wallet, args: tuple[str, ...]) -> None:
    cooling_off_account(wallet)
    result = refused(wallet, *args, now="2026-03-02T11:00:00Z")
    error = result.error()
    assert error["code"] == "cooling_off_active"
    assert "2026-03-02T23:59:59Z" in error["message"]


def test_cooling_off_still_allows_repay_cancel_transfer_out_and_auto_repay_orders(wallet: Wallet) -> None:
    order_id = cooling_off_account(wallet)
    day = "2026-03-02"
    repaid = wallet.ok("repay", "USDT", "100", now=t("11:00:00", day))
    # interest first: ON_BORROW at 09:02 and PERIODIC at 10:00 and 11:00, each 500 × 0.00001 = 0.005
    # → 0.015; then 100 − 0.015 = 99.985 of principal
    assert repaid["interest"] == "0.01500000"
    assert repaid["principal"] == "99.98500000"
    cancelled = wallet.ok("cancel", str(order_id), now=t("11:01:00", day))
    assert [order["orderId"] for order in cancelled] == [order_id]
    wallet.ok("transfer", "USDT", "100", "--from", "cross", "--to", "spot", now=t("11:02:00", day))
    sold = wallet.ok("trade", "sell", "BTC/USDT", "0.005", "--side-effect", "auto-repay", now=t("11:03:00", day))
    assert sold["status"] == "FILLED"
    assert_audit_clean(wallet, t("11:04:00", day))


def test_cooling_off_can_be_extended_but_not_shortened(wallet: Wallet) -> None:
    day = "2026-03-02"
    assert wallet.ok("cooloff", "1d", "--yes", now=t("10:00:00", day))["coolingOffUntil"] == "2026-03-02T23:59:59Z"
    # 2 + 7 = 9
    assert wallet.ok("cooloff", "1w", "--yes", now=t("11:00:00", day))["coolingOffUntil"] == "2026-03-09T23:59:59Z"
    shorter = refused(wallet, "cooloff", "1d", "--yes", now=t("11:05:00", day))
    assert shorter.error()["code"] == "cooling_off_active"
    assert wallet.ok("cooloff", "1m", "--yes", now=t("11:10:00", day))["coolingOffUntil"] == "2026-04-02T23:59:59Z"
    assert refused(wallet, "cooloff", "1w", "--yes", now=t("11:15:00", day)).error()["code"] == "cooling_off_active"
    assert wallet.ok("status", now=t("11:20:00", day))["coolingOffUntil"] == "2026-04-02T23:59:59Z"


def test_cooling_off_blocks_up_to_23_59_59_and_lifts_at_midnight(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1000", now="2026-03-15T09:00:00Z")
    wallet.ok("transfer", "USDT", "1000", "--yes", now="2026-03-15T09:01:00Z")
    wallet.ok("cooloff", "1d", "--yes", now="2026-03-15T10:00:00Z")
    last_second = refused(wallet, "borrow", "USDT", "10", "--yes", now="2026-03-15T23:59:59Z")
    assert last_second.error()["code"] == "cooling_off_active"
    borrowed = wallet.ok("borrow", "USDT", "10", "--yes", now="2026-03-16T00:00:00Z")
    assert borrowed["amount"] == "10.00000000"


def test_liquidation_still_runs_during_cooling_off(wallet: Wallet) -> None:
    open_long(wallet)
    wallet.ok("cooloff", "1w", "--yes", now=t("10:03:00"))
    (liquidation,) = wallet.ok("price", "set", "BTC/USDT", "44000", now=t("10:04:00"))["liquidations"]
    assert liquidation["leftOver"] == "153.82400000"  # as without cooling-off: 2197.8 − 43.956 − 2000.02
    assert_audit_clean(wallet, t("10:05:00"))


# --- price import: Binance klines replayed along each candle's path -----------------------------------------

KLINE_DAY = "2026-03-01"
KLINE_NAME = "BTCUSDT-1m-2026-03-01"


def micros(moment: str) -> int:
    """Binance spot files from 2025 on count microseconds since the epoch."""
    return int(datetime.fromisoformat(moment.replace("Z", "+00:00")).astimezone(UTC).timestamp()) * 1_000_000


def kline_row(open_at: str, prices: tuple[str, str, str, str], unit: str = "us") -> list[str]:
    """One data.binance.vision row: open_time, open, high, low, close, volume, close_time, 5 more columns."""
    start = micros(open_at)
    close = start + 59_999_999  # the candle's last microsecond
    if unit == "ms":
        start, close = start // 1000, close // 1000
    return [str(start), *prices, "12.5", str(close), "700000.0", "321", "6.1", "350000.0", "0"]


#: Candle 1 is calm; candle 2 falls (close < open), so its path is open, high, low, close: the low
#: 54500 triggers the stop, the close 56000 fills the sell limit at 54900. Candle 3 rises (close > open),
#: so its path is open, low, high, close: the low wick 40000 comes before the high and liquidates.
KLINES = [
    (f"{KLINE_DAY}T10:00:00Z", ("60000.00", "60000.00", "59900.00", "59950.00")),
    (f"{KLINE_DAY}T10:01:00Z", ("59950.00", "60000.00", "54500.00", "56000.00")),
    (f"{KLINE_DAY}T10:02:00Z", ("56000.00", "56500.00", "40000.00", "56200.00")),
]


def csv_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def write_klines(folder: Path, rows: list[list[str]], name: str = KLINE_NAME, as_zip: bool = False) -> Path:
    text = csv_text(rows)
    if not as_zip:
        path = folder / f"{name}.csv"
        path.write_text(text, encoding="utf-8")
        return path
    path = folder / f"{name}.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name}.csv", text)
    return path


def long_with_stop(wallet: Wallet) -> None:
    """The long of the issue opened at 09:52 (0.04995 BTC, debt 2000 + 0.02), and a stop-limit sell of
    0.01 BTC (stop 55000, limit 54900) resting, before the candles of 10:00."""
    day = KLINE_DAY
    wallet.ok("deposit", "USDT", "1000", now=t("09:50:00", day))
    wallet.ok("transfer", "USDT", "1000", "--yes", now=t("09:51:00", day))
    wallet.ok("trade", "buy", "BTC/USDT", "0.05", "--side-effect", "auto-borrow", now=t("09:52:00", day))
    stop = wallet.ok("trade", "sell", "BTC/USDT", "0.01", "--stop", "55000", "--price", "54900", now=t("09:53:00", day))
    assert stop["status"] == "NEW"


@pytest.mark.parametrize("form", ["csv", "zip", "csv-milliseconds"])
def test_kline_low_wicks_trigger_the_stop_and_then_a_liquidation(wallet: Wallet, tmp_path: Path, form: str) -> None:
    long_with_stop(wallet)
    unit = "ms" if form == "csv-milliseconds" else "us"
    path = write_klines(tmp_path, [kline_row(at, prices, unit) for at, prices in KLINES], as_zip=form == "zip")
    result = wallet.run("price", "import", str(path), "--pair", "BTC/USDT", "--json", now=t("09:55:00", KLINE_DAY))
    assert result.code == 0, result.err
    summary = result.json()
    assert summary["pair"] == "BTC/USDT"
    assert summary["candles"] == 3
    assert summary["from"] == f"{KLINE_DAY}T10:00:00Z"
    assert summary["to"].startswith(f"{KLINE_DAY}T10:02:59.999")
    # candle 1 accrues to 10:00: the 10:00 boundary on 2000 → 2000 × 0.00001 = 0.02 (interest now 0.04)
    assert summary["interestCharges"] == 1
    # candle 2: 54500 ≤ 55000 triggers; 54500 < 54900 rests; 56000 ≥ 54900 fills (level there
    # 0.04995 × 54500 / 2000.04 = 1.3611 > 1.3: no margin call on the way down)
    assert summary["triggered"] == 1
    assert summary["fills"] == 1
    assert summary["marginCallCount"] == 0 and summary["marginCalls"] == []
    assert summary["liquidationCount"] == 1
    (liquidation,) = summary["liquidations"]
    # after the fill: 0.01 × 54900 = 549 − 0.1 % fee 0.549 = 548.451 USDT; 0.04995 − 0.01 = 0.03995 BTC
    # at the low 40000: 0.03995 × 40000 = 1598; (1598 + 548.451) / 2000.04 = 2146.451 / 2000.04 = 1.07320… ≤ 1.1
    assert liquidation["time"] == f"{KLINE_DAY}T10:02:00Z"
    assert Decimal("1.0732") < Decimal(liquidation["marginLevel"]) < Decimal("1.0733")
    assert liquidation["totalAssetValue"] == "2146.45100000"
    assert liquidation["sold"] == {"BTC": "0.03995000"}
    assert liquidation["proceeds"] == "1598.00000000"
    assert liquidation["repaid"] == {"USDT": {"interest": "0.04000000", "principal": "2000.00000000"}}
    assert liquidation["liquidationFee"] == "42.92902000"  # 2 % × 2146.451 = 42.92902
    assert liquidation["insurancePayout"] == "0.00000000"
    assert liquidation["leftOver"] == "103.48198000"  # 2146.451 − 42.92902 − 2000.04 = 103.48198
    assert summary["finalMarginLevel"] == "999"  # nothing owed after the liquidation
    assert any(line.startswith("LIQUIDATED: main cross") for line in result.err.splitlines())

    later = t("10:05:00", KLINE_DAY)
    status = wallet.ok("status", now=later)
    assert margin_fields(status) == {
        "USDT": ("103.48198000", "0.00000000", "0.00000000", "0.00000000"),
        "BTC": ("0.00000000", "0.00000000", "0.00000000", "0.00000000"),
    }
    # the last price is the last candle's close, from the import
    (btc_price,) = [row for row in wallet.ok("price", "show", now=later) if row["pair"] == "BTC/USDT"]
    assert (btc_price["price"], btc_price["source"]) == ("56200.00", "import")
    stop_orders = [order for order in wallet.ok("orders", "--all", now=later) if order["type"] != "MARKET"]
    assert [(order["status"], order["executedQty"]) for order in stop_orders] == [("FILLED", "0.01000000")]
    assert_audit_clean(wallet, later)


def test_an_import_that_ends_in_quiet_hours_books_every_hour_it_charged(wallet: Wallet, tmp_path: Path) -> None:
    """The hours of quiet candles are held and booked together: the last ones too, when nothing acts after them."""
    day = KLINE_DAY
    wallet.ok("deposit", "USDT", "2000", now=t("10:00:00", day))
    wallet.ok("transfer", "USDT", "2000", "--yes", now=t("10:01:00", day))
    wallet.ok("borrow", "USDT", "1000", "--yes", now=t("10:02:00", day))
    # one flat candle an hour, 10:30 to 15:30: each accrues to its open, so 11:00 … 15:00 are charged
    flat = ("60000.00", "60000.00", "60000.00", "60000.00")
    path = write_klines(tmp_path, [kline_row(t(f"{hour}:30:00", day), flat) for hour in range(10, 16)])
    wallet.ok("price", "import", str(path), "--pair", "BTC/USDT", now=t("10:03:00", day))
    later = t("16:10:00", day)
    rows = wallet.ok("interest", now=later)["rows"]
    # 1000 × 0.00024 / 24 = 0.01 USDT an hour (the default USDT rate), on borrowing and at each hour
    assert sorted((row["interestAccuredTime"], row["type"], row["interest"]) for row in rows) == [
        (t("10:02:00", day), "ON_BORROW", "0.01000000"),
        *[(t(f"{hour}:00:00", day), "PERIODIC", "0.01000000") for hour in range(11, 16)],
    ]
    usdt = next(row for row in wallet.ok("status", now=later)["userAssets"] if row["asset"] == "USDT")
    assert usdt["interest"] == "0.06000000"  # 0.01 on borrowing + 5 × 0.01
    assert wallet.ok("accrue", "--until", t("15:59:00", day), now=later)["charges"] == 0
    assert_audit_clean(wallet, later)


def bad_rows() -> dict[str, tuple[list[list[str]], str | None]]:
    good = [kline_row(at, prices) for at, prices in KLINES]
    crash_first = [kline_row(KLINES[0][0], ("60000.00", "60000.00", "30000.00", "59950.00")), *good[1:]]
    short_row = crash_first[1][:11]
    bad_price = [*crash_first[2][:2], "not-a-price", *crash_first[2][3:]]
    return {
        # a valid crash candle first: importing it alone would liquidate, so "nothing imported" is visible
        "eleven-columns": ([crash_first[0], short_row, crash_first[2]], f"{KLINE_NAME}.csv:2"),
        "malformed-price": ([crash_first[0], crash_first[1], bad_price], f"{KLINE_NAME}.csv:3"),
        "time-backwards": ([crash_first[0], crash_first[2], crash_first[1]], f"{KLINE_NAME}.csv:3"),
        "repeated-time": ([crash_first[0], crash_first[0]], None),
    }


@pytest.mark.parametrize("case", ["eleven-columns", "malformed-price", "time-backwards", "repeated-time"])
def test_kline_import_refuses_bad_rows_and_imports_nothing(wallet: Wallet, tmp_path: Path, case: str) -> None:
    long_with_stop(wallet)
    rows, where = bad_rows()[case]
    path = write_klines(tmp_path, rows)
    result = refused(wallet, "price", "import", str(path), "--pair", "BTC/USDT", now=t("09:55:00", KLINE_DAY), code=2)
    if where is not None:
        assert where in result.error()["message"]
    assert wallet.ok("status", now=t("09:56:00", KLINE_DAY))["marginLevelStatus"] == "NORMAL"
    assert_audit_clean(wallet, t("09:56:00", KLINE_DAY))


def test_kline_file_named_for_another_symbol_is_refused(wallet: Wallet, tmp_path: Path) -> None:
    long_with_stop(wallet)
    path = write_klines(tmp_path, [kline_row(at, prices) for at, prices in KLINES], name="ETHUSDT-1m-2026-03-01")
    result = refused(wallet, "price", "import", str(path), "--pair", "BTC/USDT", now=t("09:55:00", KLINE_DAY), code=2)
    assert "ETHUSDT" in result.error()["message"]


def test_kline_import_is_atomic_across_files(wallet: Wallet, tmp_path: Path) -> None:
    long_with_stop(wallet)
    good = write_klines(tmp_path, [kline_row(at, prices) for at, prices in KLINES[:2]])
    broken_folder = tmp_path / "broken"
    broken_folder.mkdir()
    broken = write_klines(broken_folder, [kline_row(KLINES[2][0], KLINES[2][1])[:5]])
    result = refused(
        wallet, "price", "import", str(good), str(broken), "--pair", "BTC/USDT", now=t("09:55:00", KLINE_DAY), code=2
    )
    assert f"{KLINE_NAME}.csv:1" in result.error()["message"]
