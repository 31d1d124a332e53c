"""Rules that belong to the wallet (issue 13 item 7): stored at creation, used by every command, a differing
config refused, changed only by `config apply`, each interest hour charged at the rate in force in it.

Default rates (config.example.toml): USDT daily 0.00024 → hourly 1000 × 0.00024 / 24 = 0.01 per 1000.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Wallet

DAY = "2026-01-05"
FIVE_X = "[margin]\nleverage = 5\n"
DOUBLE_USDT_RATE = '[assets.USDT]\ndaily_interest_rate = "0.00048"\n'


def at(clock: str) -> str:
    return f"{DAY}T{clock}Z"


def write(wallet: Wallet, name: str, toml: str) -> Path:
    path = wallet.file.parent / name
    path.write_text(toml, encoding="utf-8")
    return path


def created_at_5x(wallet: Wallet) -> None:
    """A 5x wallet (margin call 1.16) holding 1000 USDT in cross, with 4000 USDT borrowed at 10:05.

    Level after the borrow: (1000 + 4000) / (4000 + 0.16 ON_BORROW) = 5000 / 4000.16 = 1.24994… — above 5x's
    margin call 1.16, below 3x's 1.3. ON_BORROW: 4000 × 0.00024 / 24 = 0.04 per hour.
    """
    wallet.with_config(FIVE_X)
    wallet.ok("deposit", "USDT", "1000", now=at("10:00:00"))
    wallet.ok("transfer", "USDT", "1000", "--yes", now=at("10:01:00"))
    wallet.ok("borrow", "USDT", "4000", "--yes", now=at("10:05:00"))
    wallet.config = None


def test_accrue_from_a_cron_line_without_config_risk_checks_at_the_wallets_5x_levels(
    wallet: Wallet, tmp_path: Path
) -> None:
    if wallet.url is not None:
        pytest.skip("the cron line names a SQLite file")
    created_at_5x(wallet)
    marginctl = Path(sys.executable).with_name("marginctl")
    # As cron runs it: no environment but PATH (and HOME), no --config.
    line = f"{marginctl} --db {wallet.file} --now {at('12:30:00')} accrue --json"
    completed = subprocess.run(
        ["env", "-i", "PATH=/usr/bin:/bin", f"HOME={tmp_path}", "sh", "-c", line],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    document = __import__("json").loads(completed.stdout)
    # 11:00 and 12:00: 2 × 0.04 = 0.08; level 5000 / (4000 + 0.04 + 0.08) = 1.24996… > 1.16: no margin call
    # (at 3x levels, 1.24996 ≤ 1.3 would be one).
    assert document["interest"] == {"USDT": "0.08000000"}
    assert document["marginCalls"] == []
    status = wallet.ok("status", now=at("12:31:00"))
    assert (status["mode"], status["marginCallLevel"], status["marginLevelStatus"]) == ("cross-5x", "1.16", "NORMAL")


def test_a_command_without_config_uses_the_stored_rules(wallet: Wallet) -> None:
    created_at_5x(wallet)
    status = wallet.ok("status", now=at("10:10:00"))
    assert (status["mode"], status["marginCallLevel"], status["initialLevel"]) == ("cross-5x", "1.16", "1.25000000")


def test_a_config_whose_rules_differ_is_refused_naming_the_first_difference(wallet: Wallet) -> None:
    created_at_5x(wallet)
    three = write(wallet, "three.toml", "[margin]\nleverage = 3\n")
    before = wallet.fingerprint() if wallet.url is None else None
    wallet.config = three
    result = wallet.run("deposit", "USDT", "5", now=at("10:20:00"))
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        "error: the config's margin.leverage is 3 but this wallet's rules say 5; "
        f"run: marginctl config apply {three} to change the wallet's rules\n"
    )
    assert wallet.run("deposit", "USDT", "5", "--json", now=at("10:20:00")).error()["code"] == "rules_differ"
    if before is not None:
        assert wallet.fingerprint() == before


def test_the_same_rules_in_another_file_are_accepted(wallet: Wallet) -> None:
    created_at_5x(wallet)
    # 1.16 is 5x's default margin-call level: the same rules, written out.
    wallet.config = write(wallet, "same.toml", '[margin]\nleverage = 5\nmargin_call_level = "1.16"\n')
    assert wallet.ok("deposit", "USDT", "5", now=at("10:20:00"))["amount"] == "5.00000000"


def test_config_apply_without_yes_or_a_terminal_needs_confirmation(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "100", now=at("10:00:00"))
    path = write(wallet, "rate.toml", DOUBLE_USDT_RATE)
    result = wallet.run("config", "apply", str(path), "--json", now=at("10:30:00"))
    assert (result.code, result.error()["code"]) == (3, "confirmation_required")
    assert wallet.ok("rates", "--asset", "USDT", now=at("10:31:00")) == [
        {"asset": "USDT", "dailyInterestRate": "0.00024", "timestamp": "2026-01-05T10:00:00Z"}
    ]


def test_config_apply_shows_each_change_and_records_it(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "100", now=at("10:00:00"))
    path = write(wallet, "rules.toml", FIVE_X + DOUBLE_USDT_RATE)
    result = wallet.run("config", "apply", str(path), "--yes", now=at("10:30:00"))
    assert result.code == 0, result.err
    assert result.out == (
        "  margin.leverage: 3 → 5\n"
        "  margin.margin_call_level: 1.3 → 1.16\n"
        "  assets.USDT.daily_interest_rate: 0.00024 → 0.00048\n"
        "The wallet's rules changed, effective 2026-01-05T10:30:00Z.\n"
    )
    assert wallet.ok("status", now=at("10:31:00"))["mode"] == "cross-5x"


def test_config_apply_asks_on_a_terminal_and_no_changes_nothing(wallet: Wallet) -> None:
    from tests.conftest import run_cli

    wallet.ok("deposit", "USDT", "100", now=at("10:00:00"))
    path = write(wallet, "rules.toml", FIVE_X)
    args = ["--db", wallet.target, "--now", at("10:30:00"), "config", "apply", str(path)]
    result = run_cli(args, stdin="n\n", terminal=True)
    assert result.code == 3
    assert "margin.leverage: 3 → 5" in result.out
    assert wallet.ok("status", now=at("10:31:00"))["mode"] == "cross-3x"
    assert run_cli(args, stdin="y\n", terminal=True).code == 0
    assert wallet.ok("status", now=at("10:31:00"))["mode"] == "cross-5x"


def test_config_apply_with_the_wallets_own_rules_has_nothing_to_change(wallet: Wallet) -> None:
    created_at_5x(wallet)
    path = write(wallet, "five.toml", FIVE_X)
    result = wallet.run("config", "apply", str(path), now=at("10:30:00"))
    assert (result.code, result.out) == (0, "Nothing to change: the wallet's rules already are the file's.\n")
    assert wallet.ok("config", "apply", str(path), now=at("10:30:00"))["changed"] is False


@pytest.mark.parametrize(
    ("toml", "reason"),
    [
        ("[assets.USDT]\ndecimals = 6\n", "assets.USDT.decimals cannot change (8 → 6)"),
        ('valuation_asset = "BUSD"\n', "valuation_asset cannot change (USDT → BUSD)"),
    ],
)
def test_config_apply_refuses_a_change_that_would_make_the_wallet_inconsistent(
    wallet: Wallet, toml: str, reason: str
) -> None:
    wallet.ok("deposit", "USDT", "100", now=at("10:00:00"))
    path = write(wallet, "bad.toml", toml)
    result = wallet.run("config", "apply", str(path), "--yes", "--json", now=at("10:30:00"))
    assert (result.code, result.error()["code"]) == (3, "rules_change_refused")
    assert reason in result.error()["message"]
    assert wallet.ok("status", now=at("10:31:00"))["mode"] == "cross-3x"


def test_an_invalid_file_is_the_configs_own_error(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "100", now=at("10:00:00"))
    path = write(wallet, "bad.toml", "[margin]\nleverage = 4\n")
    result = wallet.run("config", "apply", str(path), "--yes", "--json", now=at("10:30:00"))
    assert (result.code, result.error()["code"]) == (2, "config_error")


def test_a_pair_added_by_config_apply_is_usable_without_config(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "100", now=at("10:00:00"))
    path = write(wallet, "bnb.toml", '[pairs."BNB/USDT"]\ntick_size = "0.1"\nstep_size = "0.001"\nprice = "600"\n')
    wallet.ok("config", "apply", str(path), "--yes", now=at("10:30:00"))
    # Without --config: the pair and its starting price 600 come from the wallet's rules.
    prices = {row["pair"]: row["price"] for row in wallet.ok("price", "show", now=at("10:31:00"))}
    assert prices["BNB/USDT"] == "600.0"
    assert wallet.ok("price", "set", "BNBUSDT", "610.5", now=at("10:32:00"))["price"] == "610.5"


def test_each_interest_hour_is_charged_at_the_rate_in_force_in_that_hour(wallet: Wallet) -> None:
    """bob borrows 1000 USDT at 09:05; the rate doubles at 10:30 (applied by main, so bob's hours wait for
    `accrue`): ON_BORROW 09:05 and PERIODIC 10:00 at 0.00024 (1000 × 0.00024 / 24 = 0.01), PERIODIC 11:00
    and 12:00 at 0.00048 (1000 × 0.00048 / 24 = 0.02)."""
    wallet.ok("deposit", "USDT", "100", now=at("09:00:00"))
    wallet.ok("accounts", "create", "bob", now=at("09:01:00"))
    wallet.ok("deposit", "USDT", "1000", now=at("09:02:00"), account="bob")
    wallet.ok("transfer", "USDT", "1000", "--yes", now=at("09:03:00"), account="bob")
    wallet.ok("borrow", "USDT", "1000", "--yes", now=at("09:05:00"), account="bob")
    wallet.ok("config", "apply", str(write(wallet, "rate.toml", DOUBLE_USDT_RATE)), "--yes", now=at("10:30:00"))

    accrued = wallet.ok("accrue", now=at("12:30:00"))
    # 10:00 0.01 + 11:00 0.02 + 12:00 0.02 = 0.05
    assert accrued["interest"] == {"USDT": "0.05000000"}
    rows = wallet.ok("interest", now=at("12:31:00"), account="bob")["rows"]
    assert [(row["interestAccuredTime"][11:16], row["interest"], row["interestRate"]) for row in rows] == [
        ("12:00", "0.02000000", "0.00048"),
        ("11:00", "0.02000000", "0.00048"),
        ("10:00", "0.01000000", "0.00024"),
        ("09:05", "0.01000000", "0.00024"),
    ]
    # 0.01 + 0.01 + 0.02 + 0.02 = 0.06 owed
    usdt = next(
        row for row in wallet.ok("status", now=at("12:32:00"), account="bob")["userAssets"] if row["asset"] == "USDT"
    )
    assert usdt["interest"] == "0.06000000"


def test_a_borrow_after_a_rate_change_is_charged_the_new_rate_at_once(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1000", now=at("10:00:00"))
    wallet.ok("transfer", "USDT", "1000", "--yes", now=at("10:01:00"))
    wallet.ok("config", "apply", str(write(wallet, "rate.toml", DOUBLE_USDT_RATE)), "--yes", now=at("10:30:00"))
    wallet.ok("borrow", "USDT", "1000", "--yes", now=at("10:40:00"))
    rows = wallet.ok("interest", now=at("10:41:00"))["rows"]
    # ON_BORROW: 1000 × 0.00048 / 24 = 0.02
    assert [(row["type"], row["interest"], row["interestRate"]) for row in rows] == [
        ("ON_BORROW", "0.02000000", "0.00048")
    ]


def test_rates_lists_each_change_newest_first_with_binances_fields(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "100", now=at("10:00:00"))
    wallet.ok("config", "apply", str(write(wallet, "rate.toml", DOUBLE_USDT_RATE)), "--yes", now=at("10:30:00"))
    assert wallet.ok("rates", "--asset", "usdt", now=at("11:00:00")) == [
        {"asset": "USDT", "dailyInterestRate": "0.00048", "timestamp": "2026-01-05T10:30:00Z"},
        {"asset": "USDT", "dailyInterestRate": "0.00024", "timestamp": "2026-01-05T10:00:00Z"},
    ]
    every = wallet.ok("rates", now=at("11:00:00"))
    # The creation lists each of the five assets once; the change adds USDT's new rate on top.
    assert [row["asset"] for row in every] == ["USDT", "BNB", "BTC", "BUSD", "ETH", "USDT"]
    assert {row["timestamp"] for row in every[1:]} == {"2026-01-05T10:00:00Z"}


def test_rates_table_fits_80_columns(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "100", now=at("10:00:00"))
    result = wallet.run("rates", "--asset", "BTC", now=at("11:00:00"))
    assert result.code == 0
    assert result.out.splitlines()[-1].split() == ["2026-01-05T10:00:00Z", "BTC", "0.000048"]
    assert max(len(line) for line in result.out.splitlines()) <= 80


def test_a_wallet_from_before_stored_rules_adopts_the_first_writers_config(wallet: Wallet) -> None:
    if wallet.url is not None:
        pytest.skip("edits the SQLite file to make a wallet from before stored rules")
    wallet.ok("deposit", "USDT", "100", now=at("10:00:00"))
    connection = sqlite3.connect(wallet.file)
    connection.execute("DELETE FROM wallet_rules")
    connection.commit()
    connection.close()
    wallet.with_config(FIVE_X)
    wallet.ok("deposit", "USDT", "1", now=at("11:00:00"))
    wallet.config = None
    assert wallet.ok("status", now=at("11:01:00"))["mode"] == "cross-5x"
    connection = sqlite3.connect(wallet.file)
    rows = connection.execute("SELECT effective_at, source FROM wallet_rules").fetchall()
    connection.close()
    # Effective since the wallet began (its first account, 10:00): those are the rules it ran with.
    assert [source for _, source in rows] == ["adopted"]
    assert rows[0][0].startswith("2026-01-05T10:00:00")
    assert os.path.exists(wallet.file)
