"""`audit`: clean on an honest wallet; each hand-made corruption reported with what and where, exit 5."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from tests.conftest import Wallet


def execute(path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Change or read the wallet behind marginctl's back."""
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute(sql, params).fetchall()
        connection.commit()
        return rows
    finally:
        connection.close()


def account_id(path: Path, name: str) -> int:
    return int(execute(path, "SELECT id FROM accounts WHERE name = ?", (name,))[0][0])


def used_wallet(wallet: Wallet) -> None:
    wallet.ok("accounts", "create", "bob", now="2026-01-05T09:00:00Z")
    wallet.ok("deposit", "USDT", "1000", now="2026-01-05T10:00:00Z")
    wallet.ok("deposit", "BTC", "0.5", now="2026-01-05T10:01:00Z")
    wallet.ok("withdraw", "USDT", "100", now="2026-01-05T10:02:00Z")
    wallet.ok("transfer", "USDT", "300", "--yes", now="2026-01-05T10:03:00Z")
    wallet.ok("transfer", "BTC", "0.1", "--to", "BTC/USDT", now="2026-01-05T10:04:00Z")
    wallet.ok("transfer", "USDT", "50", "--from", "cross", "--to", "spot", now="2026-01-05T10:05:00Z")
    wallet.ok("deposit", "ETH", "3", now="2026-01-05T10:06:00Z", account="bob")
    wallet.ok("price", "set", "BTC/USDT", "61000", now="2026-01-05T10:07:00Z")


def test_audit_is_clean_on_a_fresh_wallet(wallet: Wallet) -> None:
    wallet.ok("accrue", now="2026-01-05T09:00:00Z")  # reads never create a wallet (issue 12): a first write does
    result = wallet.run("audit", "--json", now="2026-01-05T10:00:00Z")
    assert result.code == 0
    report = result.json()
    assert report["ok"] is True
    assert report["violations"] == []
    assert all(check["ok"] for check in report["checks"])


def test_audit_is_clean_on_a_used_wallet(wallet: Wallet) -> None:
    used_wallet(wallet)
    result = wallet.run("audit", "--json", now="2026-01-05T11:00:00Z")
    assert result.code == 0
    assert result.json()["ok"] is True
    assert result.json()["violations"] == []


def test_audit_human_output_says_the_ledger_is_consistent(wallet: Wallet) -> None:
    used_wallet(wallet)
    result = wallet.run("audit", now="2026-01-05T11:00:00Z")
    assert result.code == 0
    assert "consistent" in result.out


def test_audit_reports_a_hand_corrupted_balance_row(wallet: Wallet) -> None:
    used_wallet(wallet)
    main = account_id(wallet.path, "main")
    # spot USDT free is 1000 − 100 − 300 + 50 = 650; the row is overwritten with 999
    execute(
        wallet.path,
        "UPDATE balances SET amount = '999' "
        "WHERE account_id = ? AND wallet = 'spot' AND asset = 'USDT' AND bucket = 'free'",
        (main,),
    )
    result = wallet.run("audit", "--json", now="2026-01-05T11:00:00Z")
    assert result.code == 5
    report = result.json()
    assert report["ok"] is False
    mismatches = [v for v in report["violations"] if v["check"] == "balances_match_postings"]
    assert len(mismatches) == 1
    assert mismatches[0]["where"] == "main spot USDT free"
    assert "999" in mismatches[0]["detail"]
    assert "650" in mismatches[0]["detail"]


def test_audit_human_output_lists_the_violation_and_exits_5(wallet: Wallet) -> None:
    used_wallet(wallet)
    main = account_id(wallet.path, "main")
    execute(
        wallet.path,
        "UPDATE balances SET amount = '999' "
        "WHERE account_id = ? AND wallet = 'spot' AND asset = 'USDT' AND bucket = 'free'",
        (main,),
    )
    result = wallet.run("audit", now="2026-01-05T11:00:00Z")
    assert result.code == 5
    assert "main spot USDT free" in result.out
    assert "999" in result.out


def test_audit_reports_an_unbalanced_entry(wallet: Wallet) -> None:
    used_wallet(wallet)
    main = account_id(wallet.path, "main")
    deposit_id = int(
        execute(wallet.path, "SELECT id FROM entries WHERE account_id = ? AND kind = 'deposit' ORDER BY id", (main,))[
            0
        ][0]
    )
    # a stray +5 USDT posting with no counterpart: the entry's USDT postings now sum to +5
    execute(
        wallet.path,
        "INSERT INTO postings (entry_id, account_id, wallet, asset, bucket, amount) "
        "VALUES (?, ?, 'spot', 'USDT', 'free', '5')",
        (deposit_id, main),
    )
    result = wallet.run("audit", "--json", now="2026-01-05T11:00:00Z")
    assert result.code == 5
    report = result.json()
    assert report["ok"] is False
    unbalanced = [v for v in report["violations"] if v["check"] == "entries_balance"]
    assert len(unbalanced) == 1
    assert unbalanced[0]["where"] == f"entry {deposit_id}"
    assert "USDT" in unbalanced[0]["detail"]
    assert "5" in unbalanced[0]["detail"]
    # and the stored balance (650) no longer equals its postings (650 + 5 = 655)
    mismatches = [v for v in report["violations"] if v["check"] == "balances_match_postings"]
    assert [v["where"] for v in mismatches] == ["main spot USDT free"]
    assert "655" in mismatches[0]["detail"]


def test_audit_reports_a_negative_free_balance_written_by_hand(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "10", now="2026-01-05T10:00:00Z")
    main = account_id(wallet.path, "main")
    deposit_id = int(execute(wallet.path, "SELECT id FROM entries WHERE account_id = ?", (main,))[0][0])
    external = account_id(wallet.path, "external")
    # a balanced pair of postings that takes main's spot USDT from 10 to 10 − 25 = −15
    execute(
        wallet.path,
        "INSERT INTO postings (entry_id, account_id, wallet, asset, bucket, amount) VALUES "
        "(?, ?, 'spot', 'USDT', 'free', '-25'), (?, ?, 'spot', 'USDT', 'free', '25')",
        (deposit_id, main, deposit_id, external),
    )
    execute(
        wallet.path,
        "UPDATE balances SET amount = '-15' WHERE account_id = ? AND wallet = 'spot' AND asset = 'USDT' "
        "AND bucket = 'free'",
        (main,),
    )
    # external paid the pool's 100000000 and the insurance fund's 1000000 USDT seed and the 10 deposit:
    # −100000000 − 1000000 − 10 = −101000010; with the +25 posting: −101000010 + 25 = −100999985
    execute(
        wallet.path,
        "UPDATE balances SET amount = '-100999985' WHERE account_id = ? AND wallet = 'spot' AND asset = 'USDT' "
        "AND bucket = 'free'",
        (external,),
    )
    result = wallet.run("audit", "--json", now="2026-01-05T11:00:00Z")
    assert result.code == 5
    report = result.json()
    negative = [v for v in report["violations"] if v["check"] == "no_negative_balance"]
    assert [v["where"] for v in negative] == ["main spot USDT free"]
    assert "-15" in negative[0]["detail"]
    # balanced and materialized consistently: only the negative balance is wrong
    assert {v["check"] for v in report["violations"]} == {"no_negative_balance"}


def test_audit_reports_a_balance_row_that_is_not_a_number(wallet: Wallet) -> None:
    """A corrupted row is exactly what audit exists to find: it must be reported, not crash audit."""
    wallet.ok("deposit", "USDT", "10", now="2026-01-05T10:00:00Z")
    main = account_id(wallet.path, "main")
    execute(
        wallet.path,
        "UPDATE balances SET amount = 'abc' WHERE account_id = ? AND wallet = 'spot' AND asset = 'USDT'",
        (main,),
    )
    result = wallet.run("audit", "--json", now="2026-01-05T11:00:00Z")
    assert result.code == 5, (result.code, result.err)
    report = result.json()
    assert any(v["where"] == "main spot USDT free" for v in report["violations"])


def test_audit_does_not_change_the_wallet(wallet: Wallet) -> None:
    used_wallet(wallet)
    before = execute(wallet.path, "SELECT count(*) FROM entries")[0][0]
    wallet.ok("audit", now="2026-01-05T11:00:00Z")
    assert execute(wallet.path, "SELECT count(*) FROM entries")[0][0] == before
