"""The clock (issue 12, items 2 and 3; DESIGN §6): no event time in the future, one accepted range of times,
and an interest catch-up that streams its hours in bounded batches.

Interest figures, worked out by hand from DESIGN §4 (hourly = daily / 24, rounded up to 8 places) on the
default config (USDT daily 0.00024): a loan of 1000 USDT owes 1000 × 0.00024 / 24 = 0.01 USDT an hour.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from marginctl.services import catch_up
from tests.conftest import Wallet
from tests.reliability.support import Store
from tests.services.test_risk_engine import KLINES, kline_row, write_klines

DAY = "2026-01-05"
FUTURE = "2099-06-01T00:00:00Z"  # in the accepted range, and later than the machine's clock


def t(clock: str, day: str = DAY) -> str:
    return f"{day}T{clock}Z"


def refused(wallet: Wallet, *args: str, now: str | None = None) -> dict[str, str]:
    """Run with --json; require exit 2, nothing on stdout; the error object."""
    result = wallet.run(*args, "--json", now=now)
    assert (result.code, result.out) == (2, ""), (result.code, result.out, result.err)
    return result.error()


def with_loan(wallet: Wallet, now: str | None = None) -> None:
    """1000 USDT in cross and a 1000 USDT loan, at `now` (the system clock when None)."""
    wallet.ok("deposit", "USDT", "1000", now=now)
    wallet.ok("transfer", "USDT", "1000", "--yes", now=now)
    wallet.ok("borrow", "USDT", "1000", "--yes", now=now)


# --- item 2: an event time later than the clock is refused ------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["price", "set", "BTC/USDT", "61000", "--at", FUTURE],
        ["accrue", "--until", FUTURE],
    ],
    ids=["price-at", "accrue-until"],
)
def test_an_event_time_later_than_the_system_clock_is_refused_and_changes_nothing(
    wallet: Wallet, args: list[str]
) -> None:
    with_loan(wallet)
    before = Store(wallet.target).balances()
    prices_before = wallet.ok("price", "show")

    error = refused(wallet, *args)

    assert error["code"] == "time_in_future"
    assert "2099-06-01T00:00:00Z" in error["message"]
    assert Store(wallet.target).balances() == before
    assert wallet.ok("price", "show") == prices_before
    # nothing holds the wallet back: the next write on the real clock, cron's accrue, still exits 0 (ok checks it)
    wallet.ok("accrue")
    wallet.ok("deposit", "USDT", "1")


def test_an_event_time_later_than_now_is_refused_and_one_at_now_is_accepted(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1000", now=t("10:00:00"))
    one_second_late = refused(wallet, "price", "set", "BTC/USDT", "61000", "--at", t("10:30:01"), now=t("10:30:00"))
    assert one_second_late["code"] == "time_in_future"
    assert refused(wallet, "accrue", "--until", t("11:00:00"), now=t("10:30:00"))["code"] == "time_in_future"

    at_now = wallet.ok("price", "set", "BTC/USDT", "61000", "--at", t("10:30:00"), now=t("10:30:00"))
    assert at_now["time"] == t("10:30:00")
    assert wallet.ok("accrue", "--until", t("10:30:00"), now=t("10:30:00"))["until"] == t("10:30:00")


def test_the_default_price_time_and_accrue_until_are_the_write_time(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1000", now=t("10:00:00"))
    assert wallet.ok("price", "set", "BTC/USDT", "61000", now=t("10:05:00"))["time"] == t("10:05:00")
    assert wallet.ok("accrue", now=t("10:06:00"))["until"] == t("10:06:00")
    # on the system clock: a time of this run, not before the wallet's last event
    start = datetime.now(UTC)
    shown = wallet.ok("price", "set", "BTC/USDT", "61000")["time"]
    assert datetime.fromisoformat(shown.replace("Z", "+00:00")) >= start


def test_a_price_set_retried_on_the_real_clock_is_answered_not_refused_as_another_request(wallet: Wallet) -> None:
    first = wallet.ok("price", "set", "BTC/USDT", "61000", "--client-id", "p-1")
    again = wallet.ok("price", "set", "BTC/USDT", "61000", "--client-id", "p-1")
    assert again == {**first, "replayed": True}


def test_a_system_clock_behind_the_wallet_says_why_and_how_to_go_on(wallet: Wallet) -> None:
    """An explicit --now keeps the strict rule: a simulated clock in the future holds real-clock writes back."""
    wallet.ok("deposit", "USDT", "1", now=FUTURE)
    error = refused(wallet, "deposit", "USDT", "1")
    assert error["code"] == "clock_backwards"
    assert "the wallet's last event at 2099-06-01T00:00:00Z" in error["message"]
    assert "--now at or after that time" in error["message"]


# --- item 3: one accepted range of times ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--now", "2100-01-01T00:00:00Z"),
        ("--now", "1999-12-31T23:59:59.999999Z"),
        ("--now", "9999-12-31T22:00:00Z"),
    ],
)
def test_a_clock_outside_the_accepted_range_is_invalid_time(wallet: Wallet, option: str, value: str) -> None:
    wallet.ok("deposit", "USDT", "1000", now=t("10:00:00"))
    result = wallet.run(option, value, "deposit", "USDT", "1", "--json")
    assert (result.code, result.error()["code"]) == (2, "invalid_time")
    assert "2000-01-01T00:00:00Z to 2099-12-31T23:59:59.999999Z" in result.error()["message"]


def test_marginctl_now_outside_the_range_is_invalid_time(wallet: Wallet, monkeypatch: pytest.MonkeyPatch) -> None:
    wallet.ok("deposit", "USDT", "1000", now=t("10:00:00"))
    monkeypatch.setenv("MARGINCTL_NOW", "9999-12-31T22:00:00Z")
    result = wallet.run("deposit", "USDT", "1", "--json")
    assert (result.code, result.error()["code"]) == (2, "invalid_time")


@pytest.mark.parametrize(
    "args",
    [
        ["price", "set", "BTC/USDT", "61000", "--at", "9999-12-31T23:59:59Z"],
        ["accrue", "--until", "9999-12-31T23:59:59Z"],
    ],
    ids=["price-at", "accrue-until"],
)
def test_the_end_of_the_calendar_is_invalid_time(wallet: Wallet, args: list[str]) -> None:
    """Today it is accepted and, with a loan open, its catch-up overflows at 9999-12-31T23:00 + 1 h (exit 1);
    tests/domain/test_clock.py shows the hour stream itself now stops at its end instead."""
    wallet.ok("deposit", "USDT", "1000", now=t("10:00:00"))
    error = refused(wallet, *args, now="2099-12-31T23:59:59Z")
    assert error["code"] == "invalid_time"


def test_the_range_ends_are_accepted(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1", now="2000-01-01T00:00:00Z")
    assert wallet.ok("deposit", "USDT", "1", now="2099-12-31T23:59:59.999999Z")["time"] == (
        "2099-12-31T23:59:59.999999Z"
    )


# --- item 3: a catch-up streams its hours and writes them in bounded batches -------------------------------


def test_a_catch_up_across_many_batches_charges_every_hour_once(
    wallet: Wallet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A loan taken at 10:00 on the 5th, the next write at 11:30 on the 6th: the boundaries 11:00 on the 5th
    to 11:00 on the 6th, 25 hours, each 0.01 USDT; written in batches of 10 rows: 10 + 10 + 5 hours."""
    monkeypatch.setattr(catch_up, "FLUSH_ROWS", 10)
    with_loan(wallet, now=t("10:00:00"))

    wallet.ok("deposit", "USDT", "1", now=t("11:30:00", "2026-01-06"))

    history = wallet.ok("interest", "--limit", "100")
    periodic = [row for row in history["rows"] if row["type"] == "PERIODIC"]
    assert len(periodic) == 25
    hours = sorted(row["interestAccuredTime"] for row in periodic)
    assert hours[0] == t("11:00:00") and hours[-1] == t("11:00:00", "2026-01-06")
    assert len(set(hours)) == 25
    assert {row["interest"] for row in periodic} == {"0.01000000"}
    # one `interest` entry per batch, together covering every hour once
    entries = wallet.ok("history", "--kind", "interest", "--limit", "100")
    assert sorted(entry["memo"] for entry in entries if entry["memo"].startswith("PERIODIC")) == sorted(
        [
            f"PERIODIC {t('11:00:00')} to {t('20:00:00')}",
            f"PERIODIC {t('21:00:00')} to {t('06:00:00', '2026-01-06')}",
            f"PERIODIC {t('07:00:00', '2026-01-06')} to {t('11:00:00', '2026-01-06')}",
        ]
    )
    # owed: ON_BORROW 0.01 + 25 × 0.01 = 0.26
    cross = wallet.ok("status", now=t("11:31:00", "2026-01-06"))
    usdt = next(row for row in cross["userAssets"] if row["asset"] == "USDT")
    assert usdt["interest"] == "0.26000000"
    assert wallet.ok("audit", now=t("11:31:00", "2026-01-06"))["ok"] is True


def test_accrue_across_many_batches_charges_every_hour_once(wallet: Wallet, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same loan and hours through `accrue` (with its risk check each hour): 25 × 0.01 = 0.25 USDT."""
    monkeypatch.setattr(catch_up, "FLUSH_ROWS", 10)
    with_loan(wallet, now=t("10:00:00"))

    result = wallet.ok("accrue", now=t("11:30:00", "2026-01-06"))

    assert (result["hoursProcessed"], result["charges"], result["interest"]) == (25, 25, {"USDT": "0.25000000"})
    entries = wallet.ok("history", "--kind", "interest", "--limit", "100")
    assert len([entry for entry in entries if entry["memo"].startswith("PERIODIC")]) == 3  # 10 + 10 + 5 hours
    assert Store(wallet.target).duplicated_hours() == []
    # a second run finds nothing left to charge
    assert wallet.ok("accrue", now=t("11:40:00", "2026-01-06"))["charges"] == 0
    assert wallet.ok("audit", now=t("11:41:00", "2026-01-06"))["ok"] is True


# --- item 11: a replay of old candles says how to start a wallet for it -----------------------------------


def test_replaying_candles_older_than_the_wallet_says_to_start_it_with_now(wallet: Wallet, tmp_path: Path) -> None:
    wallet.ok("deposit", "USDT", "1000")  # on the real clock: later than the candles of 2026-03-01
    path = write_klines(tmp_path, [kline_row(at, prices) for at, prices in KLINES])

    error = refused(wallet, "price", "import", str(path), "--pair", "BTC/USDT")

    assert error["code"] == "clock_backwards"
    assert "--now at or before 2026-03-01T10:00:00Z" in error["message"]
    assert "marginctl --db replay.db --now 2026-03-01T10:00:00Z deposit USDT 1000" in error["message"]


def test_candles_from_the_future_are_refused_on_the_real_clock(wallet: Wallet, tmp_path: Path) -> None:
    """On the system clock a replay of candles dated 2030 would move the wallet's clock to 2030 and refuse
    every later real-clock write, cron's accrue included: refused as `time_in_future`, nothing changed."""
    wallet.ok("deposit", "USDT", "1000")
    before = wallet.fingerprint()
    future = [(at.replace(at[:10], "2030-01-01"), prices) for at, prices in KLINES]
    path = write_klines(tmp_path, [kline_row(at, prices) for at, prices in future])

    error = refused(wallet, "price", "import", str(path), "--pair", "BTC/USDT")

    assert error["code"] == "time_in_future"
    assert "marginctl --db replay.db --now 2030-01-01T10:00:00Z deposit USDT 1000" in error["message"]
    assert wallet.fingerprint() == before
    wallet.ok("deposit", "USDT", "1")  # the real clock still writes
