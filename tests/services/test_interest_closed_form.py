"""Interest in closed form (issue 14): N unchanged hours of a loan are one posting of N × the hourly interest,
while `interest` still lists one row per loan and hour with Binance's fields, paging and --since.

Figures worked out by hand on the default config: USDT daily 0.00024, so 1000 USDT owe 1000 × 0.00024 / 24
= 0.01 USDT an hour and 100 USDT owe 0.001; BTC daily 0.000048, so 0.01 BTC owe 0.01 × 0.000048 / 24
= 0.00000002 BTC an hour.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.conftest import Wallet

DAY = "2026-01-05"
NEXT = "2026-01-06"
DOUBLE_USDT_RATE = '[assets.USDT]\ndaily_interest_rate = "0.00048"\n'


def t(clock: str, day: str = DAY) -> str:
    return f"{day}T{clock}Z"


def with_loans(wallet: Wallet, now: str) -> None:
    """1000 USDT of collateral in cross, then 1000 USDT and 0.01 BTC borrowed, all at `now`."""
    wallet.ok("deposit", "USDT", "1000", now=now)
    wallet.ok("transfer", "USDT", "1000", "--yes", now=now)
    wallet.ok("borrow", "USDT", "1000", "--yes", now=now)
    wallet.ok("borrow", "BTC", "0.01", "--yes", now=now)


def test_24_missed_hours_are_one_posting_per_loan_and_24_rows_each(wallet: Wallet) -> None:
    """Loans at 10:00; accrue at 10:30 the next day: the boundaries 11:00 … 10:00, 24 hours per loan."""
    with_loans(wallet, t("10:00:00"))

    result = wallet.ok("accrue", now=t("10:30:00", NEXT))

    # 24 × 0.01 = 0.24 USDT and 24 × 0.00000002 = 0.00000048 BTC; 2 loans × 24 hours = 48 charges
    assert result["hoursProcessed"] == 24
    assert result["charges"] == 48
    assert result["interest"] == {"BTC": "0.00000048", "USDT": "0.24000000"}
    entries = [
        entry
        for entry in wallet.ok("history", "--kind", "interest", now=t("10:31:00", NEXT))
        if entry["memo"].startswith("PERIODIC")
    ]
    # one entry for the whole catch-up, with one change per loan of 24 hours' interest
    assert [entry["memo"] for entry in entries] == [f"PERIODIC {t('11:00:00')} to {t('10:00:00', NEXT)}"]
    assert sorted((change["asset"], change["amount"]) for change in entries[0]["changes"]) == [
        ("BTC", "0.00000048"),
        ("USDT", "0.24000000"),
    ]
    listed = wallet.ok("interest", "--limit", "100", now=t("10:31:00", NEXT))
    # 48 PERIODIC rows + 2 ON_BORROW rows
    assert listed["total"] == 50
    periodic = [row for row in listed["rows"] if row["type"] == "PERIODIC"]
    assert len(periodic) == 48
    assert {row["txId"] for row in periodic} == {entries[0]["tranId"]}
    usdt_hours = [row["interestAccuredTime"] for row in periodic if row["asset"] == "USDT"]
    assert usdt_hours == [t(f"{hour:02d}:00:00", NEXT) for hour in range(10, -1, -1)] + [
        t(f"{hour:02d}:00:00") for hour in range(23, 10, -1)
    ]
    assert {(row["principal"], row["interest"], row["interestRate"]) for row in periodic if row["asset"] == "USDT"} == {
        ("1000.00000000", "0.01000000", "0.00024")
    }
    # the owed interest: ON_BORROW 0.01 + 0.24 = 0.25 USDT
    usdt = next(row for row in wallet.ok("status", now=t("10:32:00", NEXT))["userAssets"] if row["asset"] == "USDT")
    assert usdt["interest"] == "0.25000000"
    assert wallet.ok("audit", now=t("10:33:00", NEXT))["ok"] is True


def test_interest_pages_newest_first_across_the_derived_rows(wallet: Wallet) -> None:
    with_loans(wallet, t("10:00:00"))
    wallet.ok("accrue", now=t("10:30:00", NEXT))

    page = wallet.ok("interest", "--limit", "3", now=t("10:31:00", NEXT))
    # at each hour the two loans' rows, the later-charged loan (BTC, borrowed second) first, as one row per
    # hour was ordered by its id
    assert [(row["interestAccuredTime"], row["asset"]) for row in page["rows"]] == [
        (t("10:00:00", NEXT), "BTC"),
        (t("10:00:00", NEXT), "USDT"),
        (t("09:00:00", NEXT), "BTC"),
    ]
    assert page["total"] == 50
    # --since 08:00 on the 6th: the hours 08:00, 09:00 and 10:00, two loans each
    since = wallet.ok("interest", "--since", t("08:00:00", NEXT), "--limit", "100", now=t("10:31:00", NEXT))
    assert since["total"] == 6 and len(since["rows"]) == 6
    # --since 08:30: only 09:00 and 10:00 are at or after it; USDT only: 2 rows
    since = wallet.ok(
        "interest", "--asset", "USDT", "--since", t("08:30:00", NEXT), "--limit", "100", now=t("10:31:00", NEXT)
    )
    assert [row["interestAccuredTime"] for row in since["rows"]] == [t("10:00:00", NEXT), t("09:00:00", NEXT)]
    assert since["total"] == 2
    # the oldest rows: ON_BORROW at 10:00 on the 5th, BTC (borrowed second) first
    last = wallet.ok("interest", "--limit", "50", now=t("10:31:00", NEXT))["rows"][-3:]
    assert [(row["interestAccuredTime"], row["type"], row["asset"]) for row in last] == [
        (t("11:00:00"), "PERIODIC", "USDT"),
        (t("10:00:00"), "ON_BORROW", "BTC"),
        (t("10:00:00"), "ON_BORROW", "USDT"),
    ]


def test_a_rate_change_inside_a_catch_up_splits_it_into_two_runs(wallet: Wallet) -> None:
    """bob borrows 1000 USDT at 09:05; the rate doubles at 10:30; accrue at 09:30 the next day: 10:00 at
    0.00024 (0.01), then 11:00 … 09:00, 23 hours at 0.00048 (1000 × 0.00048 / 24 = 0.02): 0.01 + 0.46 = 0.47."""
    wallet.ok("deposit", "USDT", "100", now=t("09:00:00"))
    wallet.ok("accounts", "create", "bob", now=t("09:01:00"))
    wallet.ok("deposit", "USDT", "1000", now=t("09:02:00"), account="bob")
    wallet.ok("transfer", "USDT", "1000", "--yes", now=t("09:03:00"), account="bob")
    wallet.ok("borrow", "USDT", "1000", "--yes", now=t("09:05:00"), account="bob")
    rate = wallet.file.parent / "rate.toml"
    rate.write_text(DOUBLE_USDT_RATE, encoding="utf-8")
    wallet.ok("config", "apply", str(rate), "--yes", now=t("10:30:00"))

    result = wallet.ok("accrue", now=t("09:30:00", NEXT))

    assert (result["hoursProcessed"], result["charges"], result["interest"]) == (24, 24, {"USDT": "0.47000000"})
    rows = wallet.ok("interest", "--limit", "100", now=t("09:31:00", NEXT), account="bob")["rows"]
    assert len(rows) == 25
    assert (rows[0]["interestAccuredTime"], rows[0]["interest"], rows[0]["interestRate"]) == (
        t("09:00:00", NEXT),
        "0.02000000",
        "0.00048",
    )
    assert [(row["interestAccuredTime"], row["interest"], row["interestRate"]) for row in rows[-3:]] == [
        (t("11:00:00"), "0.02000000", "0.00048"),
        (t("10:00:00"), "0.01000000", "0.00024"),
        (t("09:05:00"), "0.01000000", "0.00024"),
    ]
    assert wallet.ok("audit", now=t("09:32:00", NEXT))["ok"] is True


def test_a_century_of_hours_is_charged_at_once_and_listed_from_the_newest(wallet: Wallet) -> None:
    """A 100 USDT loan at 2000-01-01T00:00Z, accrued at 2099-12-31T23:59:59Z: 876,599 boundaries of 0.001
    USDT = 876.599 USDT, written in batches of at most 250,000 hourly rows: 4 entries."""
    wallet.ok("deposit", "USDT", "10000", now="2000-01-01T00:00:00Z")
    wallet.ok("transfer", "USDT", "10000", "--yes", now="2000-01-01T00:00:00Z")
    wallet.ok("borrow", "USDT", "100", "--yes", now="2000-01-01T00:00:00Z")

    result = wallet.ok("accrue", now="2099-12-31T23:59:59Z")

    assert (result["hoursProcessed"], result["charges"]) == (876_599, 876_599)
    assert result["interest"] == {"USDT": "876.59900000"}
    page = wallet.ok("interest", "--limit", "2", now="2099-12-31T23:59:59Z")
    assert [row["interestAccuredTime"] for row in page["rows"]] == ["2099-12-31T23:00:00Z", "2099-12-31T22:00:00Z"]
    assert page["total"] == 876_600  # and the ON_BORROW row
    since = wallet.ok("interest", "--since", "2099-12-31T00:00:00Z", now="2099-12-31T23:59:59Z")
    assert since["total"] == 24
    entries = wallet.ok("history", "--kind", "interest", now="2099-12-31T23:59:59Z")
    assert len([entry for entry in entries if entry["memo"].startswith("PERIODIC")]) == 4
    assert wallet.ok("audit", now="2099-12-31T23:59:59Z")["ok"] is True
    # a second accrue has nothing left to charge
    assert wallet.ok("accrue", now="2099-12-31T23:59:59Z")["charges"] == 0


def test_audit_reports_two_charges_of_the_same_hour(wallet: Wallet) -> None:
    """A run of 24 hours and, written behind marginctl's back, a run of 2 hours inside it: audit names it."""
    if wallet.url is not None:
        pytest.skip("reads the SQLite file")
    with_loans(wallet, t("10:00:00"))
    wallet.ok("accrue", now=t("10:30:00", NEXT))
    with sqlite3.connect(wallet.file) as connection:
        connection.execute(
            "INSERT INTO interest_charges (entry_id, account_id, wallet, asset, charged_at, last_at, type, "
            "periodic_hour, hours, principal, daily_rate, interest) SELECT entry_id, account_id, wallet, asset, "
            "'2026-01-05T15:00:00.000000Z', '2026-01-05T16:00:00.000000Z', type, '2026-01-05T15:00:00.000000Z', 2, "
            "principal, daily_rate, interest FROM interest_charges WHERE type = 'PERIODIC' AND asset = 'USDT'"
        )

    result = wallet.run("audit", "--json", now=t("10:31:00", NEXT))

    audit = json.loads(result.out)
    assert result.code != 0 and audit["ok"] is False
    # the USDT loan (account 6: the wallet's system accounts come first) charged 15:00 and 16:00 twice
    assert audit["violations"] == [
        {
            "check": "interest_hours_unique",
            "where": "account 6 cross USDT 2026-01-05T15:00:00.000000Z",
            "detail": "charged again through 2026-01-05T16:00:00.000000Z",
        }
    ]


def downgrade(wallet: Wallet, revision: str) -> None:
    from alembic import command
    from alembic.config import Config as AlembicConfig

    from marginctl.resources import resource_path
    from marginctl.store.database import locate

    database = locate(wallet.target)
    alembic_config = AlembicConfig()
    alembic_config.set_main_option("script_location", str(resource_path("migrations")))
    engine = database.migration_engine()
    try:
        with engine.begin() as connection:
            alembic_config.attributes["connection"] = connection
            command.downgrade(alembic_config, revision)
    finally:
        engine.dispose()
        database.close()


def test_a_wallet_of_revision_0004_with_one_row_per_hour_upgrades_and_lists_the_same(wallet: Wallet) -> None:
    """Back to 0004 each run of hours becomes one row per hour again; the next command upgrades the wallet,
    and `interest`, `pnl`'s interest and the audit see the same charges."""
    if wallet.url is not None:
        pytest.skip("reads the SQLite file")
    with_loans(wallet, t("10:00:00"))
    wallet.ok("accrue", now=t("10:30:00", NEXT))
    before = wallet.ok("interest", "--limit", "100", now=t("10:31:00", NEXT))

    downgrade(wallet, "0004")
    with sqlite3.connect(wallet.file) as connection:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(interest_charges)")]
        (rows,) = connection.execute("SELECT COUNT(*) FROM interest_charges WHERE type = 'PERIODIC'").fetchone()
    assert "hours" not in columns and "last_at" not in columns
    assert rows == 48  # 2 loans × 24 hours

    assert wallet.ok("interest", "--limit", "100", now=t("10:31:00", NEXT)) == before
    assert wallet.ok("audit", now=t("10:32:00", NEXT))["ok"] is True
    # the upgraded wallet goes on charging in closed form: 6 more hours, 11:00 … 16:00, 2 × 6 = 12 charges
    assert wallet.ok("accrue", now=t("16:30:00", NEXT))["charges"] == 12
    assert wallet.ok("interest", now=t("16:31:00", NEXT))["total"] == 62
