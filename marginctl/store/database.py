"""Opening a wallet and running one transaction on it.

SQLite goes through the standard library's driver (importing SQLAlchemy costs ~200 ms, more than the
whole budget of `status --json`); PostgreSQL goes through SQLAlchemy Core. Both run the same SQL text
with `:name` parameters, so each rule's SQL is written once.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, Protocol

from marginctl.domain.errors import DatabaseBusy, DatabaseError
from marginctl.domain.money import to_text

sqlite3.register_adapter(Decimal, to_text)

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 10_000


class Row(Protocol):
    def __getitem__(self, key: str) -> Any: ...


class Transaction(Protocol):
    """What a store function needs: run SQL, inside one transaction that the caller owns."""

    dialect: str

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]: ...

    def executemany(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None: ...


@dataclass
class _SqliteTransaction:
    connection: sqlite3.Connection
    dialect: str = "sqlite"

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        return self.connection.execute(sql, params or {}).fetchall()

    def executemany(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            self.connection.executemany(sql, rows)


class _Row(tuple):  # type: ignore[type-arg]
    """A PostgreSQL row that reads like sqlite3.Row: by position, by column name, and unpacked."""

    __slots__ = ()
    names: ClassVar[dict[str, int]] = {}

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self.names[key])
        return tuple.__getitem__(self, key)


@dataclass
class _SqlAlchemyTransaction:
    connection: Any
    dialect: str = "postgresql"

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        from sqlalchemy import text

        result = self.connection.execute(text(sql), dict(params or {}))
        if not result.returns_rows:
            return []
        row_class = type("Row", (_Row,), {"__slots__": (), "names": {name: i for i, name in enumerate(result.keys())}})
        return [row_class(row) for row in result.all()]

    def executemany(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
        from sqlalchemy import text

        if rows:
            self.connection.execute(text(sql), [dict(row) for row in rows])


@dataclass
class Database:
    """One wallet. `shown` is the location safe to print (a URL's password is masked)."""

    shown: str
    dialect: str
    sqlalchemy_url: str = field(repr=False)  # may hold a password: never in a repr
    sqlite_path: Path | None = None
    _connection: sqlite3.Connection | None = field(default=None, repr=False)
    _engine: Any = field(default=None, repr=False)

    @contextmanager
    def transaction(self, write: bool) -> Iterator[Transaction]:
        """One unit of work; a SQLite write begins IMMEDIATE so writers queue and never lose updates."""
        if self.dialect == "sqlite":
            yield from self._sqlite_transaction(write)
        else:
            yield from self._postgresql_transaction(write)

    def _sqlite_transaction(self, write: bool) -> Iterator[Transaction]:
        connection = self._sqlite()
        try:
            connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        except sqlite3.OperationalError as error:
            raise _translate_sqlite_error(error, self.shown) from None
        try:
            yield _SqliteTransaction(connection)
        except sqlite3.Error as error:
            connection.execute("ROLLBACK")
            translated = _translate_sqlite_error(error, self.shown)
            if isinstance(translated, DatabaseError) and translated.message.startswith("cannot use"):
                raise  # an unexpected SQL error is a bug: let it surface as one
            raise translated from None
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        try:
            connection.execute("COMMIT")
        except sqlite3.OperationalError as error:
            connection.execute("ROLLBACK")
            raise _translate_sqlite_error(error, self.shown) from None

    def _postgresql_transaction(self, write: bool) -> Iterator[Transaction]:
        """Writers hold one transaction-level advisory lock, so they queue as SQLite's writers do.

        Every write also moves the wallet's clock row, so concurrent writers would conflict anyway; a
        queue is simpler and fairer than retries. Reads see one snapshot (REPEATABLE READ).
        """
        from sqlalchemy import exc, text

        try:
            with self._sqlalchemy_engine().connect() as connection:
                isolation = "READ COMMITTED" if write else "REPEATABLE READ"
                with connection.execution_options(isolation_level=isolation).begin():
                    if write:
                        connection.execute(text(f"SET LOCAL lock_timeout = '{BUSY_TIMEOUT_MS}ms'"))
                        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITER_LOCK})
                    yield _SqlAlchemyTransaction(connection, self.dialect)
        except exc.OperationalError as error:
            raise _translate_postgresql_error(error, self.shown) from None

    def _sqlite(self) -> sqlite3.Connection:
        if self._connection is None:
            assert self.sqlite_path is not None
            self._connection = _connect_sqlite(self.sqlite_path, self.shown)
        return self._connection

    def _sqlalchemy_engine(self) -> Any:
        if self._engine is None:
            from sqlalchemy import create_engine

            self._engine = create_engine(
                self.sqlalchemy_url, connect_args={"connect_timeout": 10}, hide_parameters=True
            )
        return self._engine

    def use_wal(self) -> None:
        """WAL lets readers run beside the writer; set only once the file is known to be a marginctl wallet."""
        if self.dialect != "sqlite":
            return
        connection = self._sqlite()
        try:
            if connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                connection.execute("PRAGMA journal_mode = WAL")
        except sqlite3.Error as error:
            raise _translate_sqlite_error(error, self.shown) from None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def _connect_sqlite(path: Path, shown: str) -> sqlite3.Connection:
    try:
        # isolation_level=None: the driver's implicit transactions are off; we BEGIN ourselves.
        connection = sqlite3.connect(
            f"file:{path}?mode=rw", uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000
        )
        connection.row_factory = sqlite3.Row
        connection.create_function("dec_add", 2, _decimal_add, deterministic=True)
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.Error as error:
        raise _translate_sqlite_error(error, shown) from None
    return connection


#: The key of PostgreSQL's writer lock (pg_advisory_xact_lock): "marginctl" as a number.
WRITER_LOCK = 7_301_960


class TransactionConflict(Exception):
    """PostgreSQL aborted the transaction (serialization failure or deadlock); running it again is safe."""


def _translate_postgresql_error(error: Any, shown: str) -> Exception:
    """Never the driver's text verbatim: it may name the server; the URL shown is masked."""
    state = getattr(getattr(error, "orig", None), "sqlstate", None)
    if state in ("40001", "40P01"):
        return TransactionConflict(str(state))
    if state == "55P03":
        return DatabaseBusy(f"the wallet {shown} is busy (another marginctl is writing); try again")
    first_line = str(getattr(error, "orig", error)).strip().splitlines()[0] if str(error).strip() else "unknown error"
    return DatabaseError(f"cannot use the wallet {shown}: {first_line}")


def _decimal_add(left: str, right: str) -> str:
    """SQLite stores amounts as exact decimal text; this adds two of them exactly."""
    return to_text(Decimal(left) + Decimal(right))


def _translate_sqlite_error(error: sqlite3.Error, shown: str) -> Exception:
    message = str(error)
    if "locked" in message or "busy" in message:
        return DatabaseBusy(f"the wallet {shown} is busy (another marginctl is writing); try again")
    if "not a database" in message or "malformed" in message:
        return DatabaseError(f"{shown} is not a marginctl wallet (not a SQLite database)")
    if "readonly" in message or "read-only" in message:
        return DatabaseError(f"the wallet {shown} is read-only")
    return DatabaseError(f"cannot use the wallet {shown}: {message}")


def mask_url(url: str) -> str:
    """A URL as it may be printed: never with its password."""
    scheme, separator, rest = url.partition("://")
    if not separator or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in credentials else url


def default_wallet_path() -> Path:
    from platformdirs import user_data_path

    return user_data_path("marginctl") / "wallet.db"


def locate(target: str | None) -> Database:
    """Resolve `--db`: nothing (the default file), a plain path (SQLite) or a SQLAlchemy URL."""
    if target is None or target == "":
        path = default_wallet_path()
        _ensure_private_folder(path.parent)
        return _sqlite_database(path)
    if "://" in target:
        scheme = target.split("://", 1)[0].lower()
        if scheme.startswith("sqlite"):
            raw_path = target.split("://", 1)[1].lstrip("/") if target.startswith("sqlite:///") else ""
            if not raw_path or raw_path.startswith(":memory:"):
                raise DatabaseError("an in-memory or empty SQLite URL cannot hold a wallet; give a file")
            path = Path("/" + raw_path) if target.startswith("sqlite:////") else Path(raw_path)
            return _sqlite_database(path)
        if scheme.startswith("postgresql"):
            return Database(shown=mask_url(target), dialect="postgresql", sqlalchemy_url=target)
        raise DatabaseError(f"unsupported database URL scheme {scheme!r}: use sqlite:/// or postgresql+psycopg://")
    return _sqlite_database(Path(target))


def _ensure_private_folder(folder: Path) -> None:
    """The default wallet's folder is created 0700: balances are nobody else's business."""
    if not folder.exists():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)


def _sqlite_database(path: Path) -> Database:
    path = path.expanduser()
    return Database(shown=str(path), dialect="sqlite", sqlalchemy_url=f"sqlite:///{path.resolve()}", sqlite_path=path)


def prepare_sqlite_file(database: Database) -> bool:
    """Check the wallet file before touching it; create it 0600 when missing. True when it is new."""
    path = database.sqlite_path
    assert path is not None
    try:
        return _prepare_file(path)
    except OSError as error:  # a name too long, a folder we may not list, …
        raise DatabaseError(f"cannot use {str(path)[:80]} as a wallet: {error.strerror}") from None


def _prepare_file(path: Path) -> bool:
    if path.is_dir():
        raise DatabaseError(f"{path} is a folder, not a wallet file")
    if not path.parent.is_dir():
        raise DatabaseError(f"the folder {path.parent} does not exist")
    if path.exists():
        try:
            with path.open("rb") as handle:
                header = handle.read(len(SQLITE_HEADER))
        except OSError as error:
            raise DatabaseError(f"cannot read {path}: {error.strerror}") from None
        if header and header != SQLITE_HEADER:
            raise DatabaseError(f"{path} is not a marginctl wallet (not a SQLite database)")
        return not header
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise DatabaseError(f"cannot create a wallet in {path.parent}: permission denied")
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return False
    except OSError as error:
        raise DatabaseError(f"cannot create {path}: {error.strerror}") from None
    os.close(descriptor)
    return True
