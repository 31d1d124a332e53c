"""Storage: exact amounts, the wallet file's permissions and pragmas, the schema revision, bad databases."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select

from marginctl.resources import resource_path
from marginctl.store.migrate import SCHEMA_REVISION
from marginctl.store.schema import Amount
from tests.conftest import Wallet, run_cli

EXACT_AMOUNTS = ["0.1", "0.000000000000000001", "123456789012345.12345678"]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def query(path: Path, sql: str) -> list[tuple[object, ...]]:
    connection = sqlite3.connect(path)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


# --- exact amounts -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", EXACT_AMOUNTS)
def test_amount_column_round_trips_exactly_through_sqlalchemy_on_sqlite(tmp_path: Path, text: str) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'amounts.db'}")
    metadata = MetaData()
    amounts = Table("amounts", metadata, Column("id", Integer, primary_key=True), Column("amount", Amount))
    metadata.create_all(engine)
    original = Decimal(text)
    with engine.begin() as connection:
        connection.execute(insert(amounts).values(id=1, amount=original))
    with engine.connect() as connection:
        read_back = connection.execute(select(amounts.c.amount).where(amounts.c.id == 1)).scalar_one()
    engine.dispose()
    assert isinstance(read_back, Decimal)
    assert read_back == original
    assert str(read_back) == str(original)
    # stored as the plain decimal text, not a float and not exponent notation
    assert query(tmp_path / "amounts.db", "SELECT typeof(amount), amount FROM amounts") == [("text", text)]


def test_ten_deposits_of_0_1_make_exactly_1(wallet: Wallet) -> None:
    for minute in range(10):
        wallet.ok("deposit", "USDT", "0.1", now=f"2026-01-05T10:{minute:02d}:00Z")
    documents = wallet.ok("status", "--all", now="2026-01-05T10:10:00Z")
    spot = next(document for document in documents if document["wallet"] == "spot")
    # 10 × 0.1 = 1 exactly (a float sum gives 0.9999999999999999)
    assert next(row["free"] for row in spot["userAssets"] if row["asset"] == "USDT") == "1.00000000"
    stored = query(
        wallet.path,
        "SELECT b.amount FROM balances b JOIN accounts a ON a.id = b.account_id "
        "WHERE a.name = 'main' AND b.wallet = 'spot' AND b.asset = 'USDT' AND b.bucket = 'free'",
    )
    assert Decimal(str(stored[0][0])) == Decimal(1)


def test_wallet_stores_every_amount_as_text(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "0.1", now="2026-01-05T10:00:00Z")
    wallet.ok("transfer", "USDT", "0.05", "--yes", now="2026-01-05T10:01:00Z")
    types = {row[0] for row in query(wallet.path, "SELECT typeof(amount) FROM postings")}
    types |= {row[0] for row in query(wallet.path, "SELECT typeof(amount) FROM balances")}
    assert types == {"text"}


# --- the wallet file -----------------------------------------------------------------------------------


def test_a_new_wallet_file_is_private_to_its_owner(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1", now="2026-01-05T10:00:00Z")
    assert stat.S_IMODE(wallet.path.stat().st_mode) == 0o600


def test_default_wallet_is_created_0600_in_a_0700_marginctl_folder(tmp_path: Path) -> None:
    # conftest points XDG_DATA_HOME at tmp_path / "xdg-data"
    result = run_cli(["--now", "2026-01-05T10:00:00Z", "deposit", "USDT", "1", "--json"])
    assert result.code == 0, result.err
    folder = tmp_path / "xdg-data" / "marginctl"
    assert folder.is_dir()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    database = folder / "wallet.db"
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    # the same default wallet is found again: 1 + 1 = 2
    again = run_cli(["--now", "2026-01-05T10:01:00Z", "deposit", "USDT", "1", "--json"])
    assert again.json()["free"] == "2.00000000"


def test_wallet_uses_wal_journal_mode(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1", now="2026-01-05T10:00:00Z")
    assert query(wallet.path, "PRAGMA journal_mode") == [("wal",)]


def test_schema_revision_constant_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(str(resource_path("migrations")))
    assert scripts.get_heads() == [SCHEMA_REVISION]
    assert scripts.get_current_head() == SCHEMA_REVISION


def test_a_new_wallet_is_at_the_head_revision(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1", now="2026-01-05T10:00:00Z")
    assert query(wallet.path, "SELECT version_num FROM alembic_version") == [(SCHEMA_REVISION,)]


def test_db_accepts_a_sqlite_url(tmp_path: Path) -> None:
    path = tmp_path / "by-url.db"
    result = run_cli(["--db", f"sqlite:///{path}", "--now", "2026-01-05T10:00:00Z", "deposit", "BTC", "1", "--json"])
    assert result.code == 0, result.err
    assert path.exists()
    assert query(path, "SELECT count(*) FROM entries WHERE kind = 'deposit'") == [(1,)]


# --- bad databases: exit 2, nothing touched --------------------------------------------------------------


def test_db_in_a_missing_folder_is_a_usage_error_and_creates_nothing(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "wallet.db"
    result = run_cli(["--db", str(target), "status"])
    assert result.code == 2
    assert result.err.startswith("error:")
    assert len(result.err.strip().splitlines()) == 1
    assert "Traceback" not in result.err
    assert not (tmp_path / "missing").exists()


def test_db_that_is_not_sqlite_is_a_usage_error_and_left_untouched(tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("these are my notes, not a wallet\n", encoding="utf-8")
    before = sha256(target)
    result = run_cli(["--db", str(target), "status", "--json"])
    assert result.code == 2
    assert result.error()["code"] == "database_error"
    assert "Traceback" not in result.err
    assert sha256(target) == before
    # no -wal or -shm companion files were created next to it
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith("notes.txt")] == ["notes.txt"]


def test_db_that_is_not_sqlite_is_untouched_by_a_write_command(tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("x" * 5000, encoding="utf-8")
    before = sha256(target)
    result = run_cli(["--db", str(target), "--now", "2026-01-05T10:00:00Z", "deposit", "USDT", "1"])
    assert result.code == 2
    assert result.err.startswith("error:")
    assert sha256(target) == before


def test_wallet_from_a_newer_schema_revision_is_refused_and_untouched(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1", now="2026-01-05T10:00:00Z")
    connection = sqlite3.connect(wallet.path)
    connection.execute("UPDATE alembic_version SET version_num = '9999'")
    connection.commit()
    connection.close()
    before = sha256(wallet.path)
    result = wallet.run("status", "--json", now="2026-01-05T10:01:00Z")
    assert result.code == 2
    assert result.error()["code"] == "database_error"
    assert "9999" in result.error()["message"]
    assert sha256(wallet.path) == before
    # a write is refused the same way
    write = wallet.run("deposit", "USDT", "1", now="2026-01-05T10:02:00Z")
    assert write.code == 2
    assert write.err.startswith("error:")
    assert sha256(wallet.path) == before
    assert query(wallet.path, "SELECT version_num FROM alembic_version") == [("9999",)]


def test_sqlite_database_of_another_program_is_refused_and_untouched(tmp_path: Path) -> None:
    target = tmp_path / "other.db"
    connection = sqlite3.connect(target)
    connection.execute("CREATE TABLE recipes (name TEXT)")
    connection.execute("INSERT INTO recipes VALUES ('bread')")
    connection.commit()
    connection.close()
    before = sha256(target)
    result = run_cli(["--db", str(target), "status"])
    assert result.code == 2
    assert result.err.startswith("error:")
    assert sha256(target) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any folder")
def test_db_in_an_unwritable_folder_is_a_usage_error(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o500)
    try:
        result = run_cli(["--db", str(folder / "wallet.db"), "status"])
        assert result.code == 2
        assert result.err.startswith("error:")
        assert "Traceback" not in result.err
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o700)
