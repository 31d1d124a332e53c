"""Where a wallet is (issue 12, items 4, 6 and 7): odd file names, URLs, reads that never create a wallet,
a full disk, a damaged wallet and a read-only folder. Each test says what a user sees."""

from __future__ import annotations

import os
import random
import sqlite3
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.test_corpus import file_modes_enforced
from tests.conftest import POSTGRES_URL, Result, Wallet, _admin, postgres_database_url, run_cli

NOW = "2026-01-05T10:00:00Z"
LATER = "2026-01-05T11:00:00Z"
NO_WALLET = "no wallet at {}; start one with: marginctl deposit USDT 1000"
#: With --db the hint names the same wallet, quoted for the shell.
NO_WALLET_AT = "no wallet at {0}; start one with: marginctl --db {0} deposit USDT 1000"
READ_COMMANDS = [
    ["status"],
    ["history"],
    ["interest"],
    ["orders"],
    ["price", "show"],
    ["audit"],
    ["accounts"],
]
#: Each one opened or created another file before (issue 12): `#` and `?` ended SQLite's URI, `%41` was `A`.
ODD_NAMES = [
    "real.db#paper",
    "new?x.db",
    "my#wallet.db",
    "a%2541.db",
    "100%.db",
    "wallet with spaces.db",
    "portefeuille-été.db",
    "o'neil.db",
    "a&b=c;d.db",
]


def free_usdt(target: str) -> str:
    """The spot wallet's free USDT, as `status --all --json` shows it."""
    result = run_cli(["--db", target, "--now", LATER, "status", "--all", "--json"])
    assert result.code == 0, result.err
    spot = next(document for document in result.json() if document["wallet"] == "spot")
    return str(next(row["free"] for row in spot["userAssets"] if row["asset"] == "USDT"))


def one_error_line(result: Result) -> str:
    assert "Traceback" not in result.err
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    return lines[0]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- item 4: any file name names exactly that file ----------------------------------------------------


@pytest.mark.parametrize("name", ODD_NAMES)
def test_money_lands_in_exactly_the_file_named(tmp_path: Path, name: str) -> None:
    folder = tmp_path / "wallets"
    folder.mkdir()
    wallet = folder / name

    result = run_cli(["--db", str(wallet), "--now", NOW, "deposit", "USDT", "1000", "--json"])

    assert result.code == 0, result.err
    assert os.listdir(folder) == [name]  # no stray `real.db`, `new`, `my` or `a%41.db`, and no -wal left
    assert mode(wallet) == 0o600
    assert free_usdt(str(wallet)) == "1000.00000000"
    assert os.listdir(folder) == [name]


@pytest.mark.parametrize("name", ["real.db#paper", "new?x.db", "a%2541.db"])
def test_a_relative_path_is_taken_literally_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_cli(["--db", name, "--now", NOW, "deposit", "USDT", "5", "--json"])
    assert result.code == 0, result.err
    assert [entry for entry in os.listdir(tmp_path) if not entry.startswith("xdg-")] == [name]


def test_a_percent_escape_in_a_plain_path_does_not_open_its_decoded_twin(tmp_path: Path) -> None:
    twin = tmp_path / "a%41.db"
    assert run_cli(["--db", str(twin), "--now", NOW, "deposit", "USDT", "5", "--json"]).code == 0

    result = run_cli(["--db", str(tmp_path / "a%2541.db"), "--now", NOW, "deposit", "USDT", "1000", "--json"])

    assert result.code == 0, result.err
    assert free_usdt(str(twin)) == "5.00000000"  # untouched
    assert free_usdt(str(tmp_path / "a%2541.db")) == "1000.00000000"


def test_a_sqlite_url_is_a_url_its_percent_escapes_are_decoded(tmp_path: Path) -> None:
    # sqlite:////tmp/…/a%2541.db is the file a%41.db; my%23wallet.db is my#wallet.db; caf%C3%A9 is café
    for escaped, name in (("a%2541.db", "a%41.db"), ("my%23wallet.db", "my#wallet.db"), ("caf%C3%A9.db", "café.db")):
        result = run_cli(["--db", f"sqlite:///{tmp_path}/{escaped}", "--now", NOW, "deposit", "USDT", "3", "--json"])
        assert result.code == 0, result.err
        assert free_usdt(str(tmp_path / name)) == "3.00000000"
    assert sorted(entry for entry in os.listdir(tmp_path) if not entry.startswith("xdg-")) == sorted(
        ["a%41.db", "my#wallet.db", "café.db"]
    )


@pytest.mark.parametrize("url", ["sqlite:///{dir}/x.db?mode=ro", "sqlite:///{dir}/real.db#paper", "sqlite://host/x.db"])
def test_a_sqlite_url_with_a_query_a_fragment_or_a_host_is_refused(tmp_path: Path, url: str) -> None:
    result = run_cli(["--db", url.format(dir=tmp_path), "--now", NOW, "deposit", "USDT", "1", "--json"])
    assert result.code == 2
    assert result.error()["code"] == "database_error"
    assert [entry for entry in os.listdir(tmp_path) if not entry.startswith("xdg-")] == []


@pytest.mark.parametrize("scheme", ["SQLITE", "Sqlite"])
def test_a_url_scheme_is_read_in_any_case(tmp_path: Path, scheme: str) -> None:
    result = run_cli(["--db", f"{scheme}:///{tmp_path}/w.db", "--now", NOW, "deposit", "USDT", "2", "--json"])
    assert result.code == 0, result.err
    assert free_usdt(str(tmp_path / "w.db")) == "2.00000000"


# --- item 7: reads never create a wallet ----------------------------------------------------------------


@pytest.mark.parametrize("command", READ_COMMANDS, ids=" ".join)
def test_a_read_of_a_missing_wallet_says_so_and_creates_nothing(tmp_path: Path, command: list[str]) -> None:
    target = tmp_path / "typo.db"
    for extra in ([], ["--json"]):
        result = run_cli(["--db", str(target), *command, *extra])
        assert result.code == 2, result.err
        line = one_error_line(result)
        if extra:
            assert result.error() == {"code": "no_wallet", "message": NO_WALLET_AT.format(target)}
        else:
            assert line == "error: " + NO_WALLET_AT.format(target)
    assert [entry for entry in os.listdir(tmp_path) if not entry.startswith("xdg-")] == []


def test_a_command_with_bad_arguments_creates_no_wallet(tmp_path: Path) -> None:
    """A write command checks its arguments before it opens the wallet: a typo leaves no file behind."""
    target = tmp_path / "new.db"
    for command in (
        ["deposit", "USDT", "abc"],
        ["deposit", "UDST", "1"],
        ["trade", "buy", "BTC/USDT", "-1"],
        ["price", "set", "BTC/USDT", "61000", "--at", "2099-01-01T00:00:00Z"],  # time_in_future
        ["accrue", "--until", "2099-01-01T00:00:00Z"],
    ):
        result = run_cli(["--db", str(target), "--now", NOW, *command, "--json"])
        assert result.code == 2, result.err
    assert [entry for entry in os.listdir(tmp_path) if not entry.startswith("xdg-")] == []


def test_a_read_of_the_default_wallet_creates_neither_file_nor_folder(tmp_path: Path) -> None:
    # conftest points XDG_DATA_HOME at tmp_path / "xdg-data"
    result = run_cli(["status", "--json"])
    assert result.code == 2
    assert result.error() == {
        "code": "no_wallet",
        "message": NO_WALLET.format(tmp_path / "xdg-data" / "marginctl" / "wallet.db"),
    }
    assert not (tmp_path / "xdg-data").exists()
    # the first write creates it, 0600 in a 0700 folder, and then reads find it
    assert run_cli(["--now", NOW, "deposit", "USDT", "1000", "--json"]).code == 0
    assert mode(tmp_path / "xdg-data" / "marginctl") == 0o700
    assert mode(tmp_path / "xdg-data" / "marginctl" / "wallet.db") == 0o600
    assert run_cli(["--now", LATER, "status", "--json"]).code == 0


def test_a_read_does_not_turn_an_empty_file_into_a_wallet_but_a_write_does(tmp_path: Path) -> None:
    target = tmp_path / "empty.db"
    target.touch()
    result = run_cli(["--db", str(target), "status", "--json"])
    assert result.code == 2
    assert result.error()["code"] == "no_wallet"
    assert target.stat().st_size == 0
    assert run_cli(["--db", str(target), "--now", NOW, "deposit", "USDT", "7", "--json"]).code == 0
    assert free_usdt(str(target)) == "7.00000000"


@pytest.mark.skipif(POSTGRES_URL is None, reason="needs the PostgreSQL pass")
def test_a_read_of_an_empty_postgresql_database_is_no_wallet_and_creates_no_tables() -> None:
    url = postgres_database_url(template=None)
    name = url.rpartition("/")[2]
    try:
        result = run_cli(["--db", url, "status", "--json"])
        assert result.code == 2
        assert result.error()["code"] == "no_wallet"
        import psycopg

        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
            count = connection.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
            ).fetchone()
        assert count == (0,)
        # the first write creates the wallet there
        assert run_cli(["--db", url, "--now", NOW, "deposit", "USDT", "1", "--json"]).code == 0
        assert run_cli(["--db", url, "--now", LATER, "status", "--json"]).code == 0
    finally:
        with _admin() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- item 6: clear errors instead of exit 1 -------------------------------------------------------------


def test_a_postgresql_url_without_psycopg_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # `import psycopg` now fails as if it were not installed
    result = run_cli(["--db", "postgresql+psycopg://alice@127.0.0.1:5432/wallet", "status"])
    assert result.code == 2
    assert one_error_line(result) == (
        "error: PostgreSQL support is not installed; install it with: pip install 'marginctl[postgres]'"
    )


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("postgresql+psycopg://alice@127.0.0.1:54x2/wallet", "is not a number"),
        ("postgresql+psycopg://alice@127.0.0.1:99999/wallet", "is not a number"),
        ("postgresql+foo://alice@127.0.0.1/wallet", "unsupported PostgreSQL driver 'foo'"),
        ("postgresql+psycopg2://alice@127.0.0.1/wallet", "unsupported PostgreSQL driver 'psycopg2'"),
        ("mysql://alice@127.0.0.1/wallet", "unsupported database URL scheme 'mysql'"),
        ("postgresql://alice@[::1/wallet", "is not a valid database URL"),
        ("sqlite://[x/a.db", "is not a valid SQLite URL"),
    ],
)
def test_a_url_typo_is_one_line_exit_2(url: str, says: str) -> None:
    for extra in ([], ["--json"]):
        result = run_cli(["--db", url, "status", *extra])
        assert result.code == 2, result.err
        assert says in one_error_line(result)


def test_an_upper_case_postgresql_scheme_is_read_as_postgresql(tmp_path: Path) -> None:
    # Accepted like the lower-case one: it fails only at connecting (nothing listens on port 1).
    pytest.importorskip("psycopg")
    result = run_cli(["--db", "PostgreSQL+psycopg://alice@127.0.0.1:1/wallet", "status", "--json"])
    assert result.code == 2
    assert result.error()["code"] == "database_error"
    assert "Connection refused" in result.error()["message"] or "connect" in result.error()["message"]
    assert "unsupported" not in result.error()["message"]


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, bool]]:
    """While `switch["full"]`, every wallet connection may not grow the file: SQLite fails with SQLITE_FULL.

    `PRAGMA max_page_count` (set to the file's size, or to 1 for a new file) stands in for a full disk; it
    needs no tmpfs mount, which CI may refuse to root in a container.
    """
    from marginctl.store import database

    real_connect = database._connect_sqlite
    switch = {"full": False}

    def connect_on_a_full_disk(path: Path, immutable: bool) -> sqlite3.Connection:
        connection = real_connect(path, immutable)
        if switch["full"]:
            pages = connection.execute("PRAGMA page_count").fetchone()[0]
            connection.execute(f"PRAGMA max_page_count = {max(pages, 1)}")
        return connection

    monkeypatch.setattr(database, "_connect_sqlite", connect_on_a_full_disk)
    yield switch


def test_a_full_disk_during_a_write_is_disk_full_and_a_retry_applies_once(
    wallet: Wallet, full_disk: dict[str, bool]
) -> None:
    path = wallet.path
    wallet.ok("deposit", "USDT", "1000", now=NOW)
    full_disk["full"] = True
    # Each deposit adds rows; once a table's last page is full the next one needs a new page, which the
    # full disk refuses. A bounded number of deposits reaches that point (a 4 KiB page holds few requests).
    failed: Result | None = None
    total = 1000
    for attempt in range(400):
        client_id = f"retry-{attempt:03d}-" + "x" * 50
        result = wallet.run("deposit", "USDT", "1", "--client-id", client_id, "--json", now=LATER)
        if result.code == 0:
            total += 1
            continue
        failed = result
        break
    assert failed is not None, "400 deposits never filled a page"
    assert failed.code == 3
    assert failed.error()["code"] == "disk_full"
    assert "full" in failed.error()["message"]
    # 1000 + one per deposit that succeeded: nothing of the failed one
    assert free_usdt(str(path)) == f"{total}.00000000"
    # space is freed: the same client id applies once, and once only
    full_disk["full"] = False
    assert wallet.ok("deposit", "USDT", "1", "--client-id", client_id, now=LATER)["free"] == f"{total + 1}.00000000"
    assert wallet.ok("deposit", "USDT", "1", "--client-id", client_id, now=LATER)["free"] == f"{total + 1}.00000000"
    assert free_usdt(str(path)) == f"{total + 1}.00000000"
    assert wallet.ok("audit", now=LATER)["ok"] is True


def test_a_new_wallet_on_a_full_disk_is_one_line_and_leaves_no_file(tmp_path: Path, full_disk: dict[str, bool]) -> None:
    full_disk["full"] = True
    folder = tmp_path / "wallets"
    folder.mkdir()
    for extra in ([], ["--json"]):
        result = run_cli(["--db", str(folder / "new.db"), "--now", NOW, "deposit", "USDT", "1", *extra])
        assert result.code == 3, result.err
        line = one_error_line(result)
        assert "full" in line and "sqlalche.me" not in line
        assert os.listdir(folder) == []


@pytest.mark.parametrize(
    "content",
    [random.Random(12).randbytes(8192), b"SQLite format 3\x00" + random.Random(13).randbytes(8192)],
    ids=["random-bytes", "sqlite-header-then-random-bytes"],
)
@pytest.mark.parametrize("command", [["status"], ["deposit", "USDT", "1"]], ids=" ".join)
def test_a_corrupt_wallet_is_one_line_exit_2_and_untouched(tmp_path: Path, content: bytes, command: list[str]) -> None:
    target = tmp_path / "wallet.db"
    target.write_bytes(content)
    for extra in ([], ["--json"]):
        result = run_cli(["--db", str(target), "--now", NOW, *command, *extra])
        assert result.code == 2, result.err
        one_error_line(result)
    assert target.read_bytes() == content
    assert [entry for entry in os.listdir(tmp_path) if not entry.startswith("xdg-")] == ["wallet.db"]


@pytest.mark.parametrize("garbage", ["garbage", "", "2026-13-45T99:00:00Z"])
@pytest.mark.parametrize("command", [["status"], ["deposit", "USDT", "1"]], ids=" ".join)
def test_a_bad_meta_row_is_one_line_naming_it(wallet: Wallet, garbage: str, command: list[str]) -> None:
    wallet.ok("deposit", "USDT", "5", now=NOW)
    connection = sqlite3.connect(wallet.path)
    connection.execute("UPDATE meta SET value = ? WHERE key = 'last_event_at'", (garbage,))
    connection.commit()
    connection.close()
    for extra in ([], ["--json"]):
        result = wallet.run(*command, *extra, now=LATER)
        assert result.code == 2, result.err
        assert "last_event_at" in one_error_line(result)


def test_a_wallet_in_a_read_only_folder_can_be_read_and_a_write_says_why(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    target = folder / "wallet.db"
    assert run_cli(["--db", str(target), "--now", NOW, "deposit", "USDT", "1000", "--json"]).code == 0
    assert os.listdir(folder) == ["wallet.db"]
    probe = tmp_path / "probe"
    probe.touch(mode=0o444)
    folder.chmod(0o555)
    try:
        with file_modes_enforced(probe):
            status = run_cli(["--db", str(target), "--now", LATER, "status", "--all", "--json"])
            history = run_cli(["--db", str(target), "--now", LATER, "history", "--json"])
            write = run_cli(["--db", str(target), "--now", LATER, "deposit", "USDT", "1"])
    finally:
        folder.chmod(0o755)
    assert status.code == 0, status.err
    spot = next(document for document in status.json() if document["wallet"] == "spot")
    assert next(row["free"] for row in spot["userAssets"] if row["asset"] == "USDT") == "1000.00000000"
    assert history.code == 0, history.err
    assert write.code == 2
    assert "read-only" in one_error_line(write)
    assert os.listdir(folder) == ["wallet.db"]
    assert free_usdt(str(target)) == "1000.00000000"
