"""Shared fixtures: a fresh wallet file per test, and the CLI run in-process the way a user runs it."""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from marginctl.cli import main


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def error(self) -> dict[str, str]:
        return json.loads(self.err)["error"]


class _Input(io.StringIO):
    """What the user types; `terminal` says whether marginctl sees a terminal (and may ask questions)."""

    def __init__(self, typed: str, terminal: bool) -> None:
        super().__init__(typed)
        self.terminal = terminal

    def isatty(self) -> bool:
        return self.terminal


def run_cli(args: list[str], stdin: str | io.TextIOBase = "", terminal: bool = False) -> Result:
    """Run `marginctl ARGS` in this process: exit code, stdout and stderr as a user would see them.

    `stdin` is what the user types, or a stream of its own (one that raises KeyboardInterrupt: Ctrl-C).
    """
    out, err = io.StringIO(), io.StringIO()
    old_argv, old_stdin = sys.argv, sys.stdin
    sys.argv = ["marginctl", *args]
    sys.stdin = _Input(stdin, terminal) if isinstance(stdin, str) else stdin
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main()
            except SystemExit as stop:
                code = stop.code if isinstance(stop.code, int) else 1
    finally:
        sys.argv, sys.stdin = old_argv, old_stdin
    return Result(code, out.getvalue(), err.getvalue())


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's config or wallet, or inherits MARGINCTL_* settings."""
    for name in ("MARGINCTL_DB", "MARGINCTL_CONFIG", "MARGINCTL_ACCOUNT", "MARGINCTL_NOW", "MARGINCTL_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


#: Set by .ci/run's second pass: the suite then runs every wallet on this PostgreSQL server.
POSTGRES_URL = os.environ.get("MARGINCTL_TEST_POSTGRES_URL")
TEMPLATE = "marginctl_template"


def _admin() -> Any:
    import psycopg

    assert POSTGRES_URL is not None
    return psycopg.connect(POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)


def postgres_database_url(template: str | None = TEMPLATE) -> str:
    """A fresh database on the test server: by default cloned from a migrated (not seeded) template, so
    Alembic runs once; with `template=None` an empty one."""
    assert POSTGRES_URL is not None
    base, _, _ = POSTGRES_URL.rpartition("/")
    name = f"w_{uuid.uuid4().hex[:16]}"
    with _admin() as connection:
        connection.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return f"{base}/{name}"


def asset_row(document: dict[str, Any], asset: str) -> dict[str, Any]:
    """One asset's row of a `status --json` document."""
    return next(row for row in document["userAssets"] if row["asset"] == asset)


@dataclass
class Wallet:
    """A fresh wallet; `run` invokes marginctl on it with `--db` (and `--config` when set).

    On the PostgreSQL pass the wallet is a database and `path` skips the test: it checks the SQLite file.
    """

    file: Path
    config: Path | None = None
    url: str | None = None

    @property
    def path(self) -> Path:
        if self.url is not None:
            pytest.skip("checks the SQLite wallet file itself")
        return self.file

    @property
    def target(self) -> str:
        return self.url if self.url is not None else str(self.file)

    def run(self, *args: str, now: str | None = None, stdin: str = "", account: str | None = None) -> Result:
        options = ["--db", self.target]
        if self.config is not None:
            options += ["--config", str(self.config)]
        if account is not None:
            options += ["--account", account]
        if now is not None:
            options += ["--now", now]
        return run_cli([*options, *args], stdin=stdin)

    def ok(self, *args: str, now: str | None = None, account: str | None = None) -> Any:
        """Run with --json, require exit 0, return the parsed document."""
        result = self.run(*args, "--json", now=now, account=account)
        assert result.code == 0, (result.code, result.err)
        return result.json()

    def fingerprint(self, suffixes: tuple[str, ...] = ("", "-wal", "-shm", "-journal")) -> str:
        """The wallet file's bytes and its sidecars', to prove a refusal changed nothing."""
        import hashlib

        digest = hashlib.sha256()
        for suffix in suffixes:
            path = self.path.with_name(self.path.name + suffix)
            digest.update(suffix.encode())
            digest.update(path.read_bytes() if path.exists() else b"<absent>")
        return digest.hexdigest()

    def with_config(self, toml: str) -> Wallet:
        self.config = self.file.parent / "config.toml"
        self.config.write_text(toml, encoding="utf-8")
        return self


def new_wallet(file: Path) -> Wallet:
    """A wallet on this pass's engine (a SQLite file, or a fresh PostgreSQL database)."""
    return Wallet(file, url=postgres_database_url() if POSTGRES_URL else None)


@pytest.fixture(scope="session", autouse=True)
def _postgres_template() -> Iterator[None]:
    """Migrate one template database for the whole PostgreSQL pass."""
    if POSTGRES_URL is None:
        yield
        return
    from marginctl.store.database import locate
    from marginctl.store.migrate import ensure_schema

    base, _, _ = POSTGRES_URL.rpartition("/")
    with _admin() as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}"')
        connection.execute(f'CREATE DATABASE "{TEMPLATE}"')
    database = locate(f"{base}/{TEMPLATE}")
    ensure_schema(database)
    database.close()
    yield


@pytest.fixture
def wallet(tmp_path: Path) -> Wallet:
    return new_wallet(tmp_path / "wallet.db")


@pytest.fixture
def make_wallet(tmp_path: Path) -> Callable[[str], Wallet]:
    def make(name: str) -> Wallet:
        return new_wallet(tmp_path / f"{name}.db")

    return make
