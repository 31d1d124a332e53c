"""Opening a wallet and running one transaction on it.

SQLite goes through the standard library's driver and PostgreSQL through psycopg 3 directly: importing
SQLAlchemy costs ~200 ms, more than a whole command, so it is imported only to create or upgrade a wallet
(Alembic). Both run the same SQL text with `:name` parameters (converted once per text to psycopg's
`%(name)s`), so each rule's SQL is written once.

A PostgreSQL transaction runs in psycopg's pipeline mode: statements whose results nobody reads yet
(`send`, `executemany`) are queued and go to the server with the next one whose rows are read, and
`execute_batch` reads several results in one round trip. A write command so costs one round trip to load
and one to write and commit (`round_trips` counts them).
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, Protocol
from urllib.parse import quote, unquote, unquote_to_bytes, urlsplit

from marginctl.domain.errors import DatabaseBusy, DatabaseError, DiskFull, MarginctlError, NoWallet
from marginctl.domain.money import to_text
from marginctl.domain.secrets import mask_secrets

sqlite3.register_adapter(Decimal, to_text)

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 10_000


class Row(Protocol):
    def __getitem__(self, key: str) -> Any: ...


Statement = tuple[str, Mapping[str, Any]]


class Transaction(Protocol):
    """What a store function needs: run SQL, inside one transaction that the caller owns.

    `execute` returns the rows (on PostgreSQL it waits for them: one round trip with whatever was queued
    before); `send` and `executemany` run statements whose rows are not read (queued on PostgreSQL until
    the next read or the commit); `execute_batch` returns the rows of several statements in one round trip.
    `cache` is the transaction's memory for the store (what it loaded and has since kept up to date).
    """

    dialect: str
    cache: dict[str, Any]

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]: ...

    def executemany(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None: ...

    def send(self, sql: str, params: Mapping[str, Any] | None = None) -> None: ...

    def execute_batch(self, statements: Sequence[Statement]) -> list[list[Row]]: ...


#: Ids bound per `IN (…)` list: well under SQLite's limit of variables.
IDS_PER_QUERY = 400


def id_lists(ids: Sequence[int]) -> Iterator[tuple[str, dict[str, Any]]]:
    """`ids` (each once, in order) as `IN` lists of at most IDS_PER_QUERY: the placeholders' text and their
    parameters. Only generated placeholder names go into SQL text; every id is a bound parameter."""
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), IDS_PER_QUERY):
        chunk = unique[start : start + IDS_PER_QUERY]
        yield ", ".join(f":i{index}" for index in range(len(chunk))), {f"i{index}": v for index, v in enumerate(chunk)}


class _SqliteTransaction:
    dialect = "sqlite"

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.cache: dict[str, Any] = {}

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        return self.connection.execute(sql, params or {}).fetchall()

    def executemany(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            self.connection.executemany(sql, rows)

    def send(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        self.connection.execute(sql, params or {})

    def execute_batch(self, statements: Sequence[Statement]) -> list[list[Row]]:
        return [self.connection.execute(sql, params).fetchall() for sql, params in statements]


class _Row(tuple):  # type: ignore[type-arg]
    """A PostgreSQL row that reads like sqlite3.Row: by position, by column name, and unpacked."""

    __slots__ = ()
    names: ClassVar[dict[str, int]] = {}

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self.names[key])
        return tuple.__getitem__(self, key)


#: `:name` as SQLAlchemy's text() reads it: not after a colon, a word character or a backslash (so `::`
#: casts stay), and not followed by a colon.
_NAMED = re.compile(r"(?<![:\w\\]):(\w+)(?!:)")
_PYFORMAT: dict[str, str] = {}


def pyformat(sql: str) -> str:
    """`:name` → `%(name)s` and a literal `%` → `%%`, once per SQL text (the texts are few and constant)."""
    converted = _PYFORMAT.get(sql)
    if converted is None:
        converted = _PYFORMAT[sql] = _NAMED.sub(r"%(\1)s", sql.replace("%", "%%"))
    return converted


class _PostgresqlTransaction:
    """One PostgreSQL transaction in pipeline mode; `round_trips` counts the waits for the server."""

    dialect = "postgresql"

    def __init__(self, connection: Any, pipeline: Any) -> None:
        self.connection = connection
        self.pipeline = pipeline
        self.cache: dict[str, Any] = {}
        self.queued = 0

    def _cursor(self, sql: str, params: Mapping[str, Any] | None) -> Any:
        cursor = self.connection.cursor()
        cursor.execute(pyformat(sql), dict(params or {}), prepare=False)
        self.queued += 1
        return cursor

    def _rows(self, cursor: Any) -> list[Row]:
        if cursor.description is None:
            return []
        row_class = _row_class(tuple(column.name for column in cursor.description))
        return [row_class(row) for row in cursor.fetchall()]

    def _sync(self) -> None:
        if self.queued:
            self.queued = 0
            self.pipeline.sync()
            _COUNTER.round_trips += 1

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        cursor = self._cursor(sql, params)
        self._sync()
        return self._rows(cursor)

    def execute_batch(self, statements: Sequence[Statement]) -> list[list[Row]]:
        cursors = [self._cursor(sql, params) for sql, params in statements]
        self._sync()
        return [self._rows(cursor) for cursor in cursors]

    def send(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        self._cursor(sql, params)

    def executemany(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            self.connection.cursor().executemany(pyformat(sql), [dict(row) for row in rows])
            self.queued += 1

    def commit(self) -> None:
        """COMMIT goes with everything still queued: one round trip."""
        self.connection.execute("COMMIT", prepare=False)
        self.queued += 1
        self._sync()


class RoundTrips:
    """Waits for the PostgreSQL server since the process began (the connection's own handshake excluded)."""

    round_trips = 0


_COUNTER = RoundTrips()


def round_trips() -> int:
    return _COUNTER.round_trips


_ROW_CLASSES: dict[tuple[str, ...], type[_Row]] = {}


def _row_class(names: tuple[str, ...]) -> type[_Row]:
    row_class = _ROW_CLASSES.get(names)
    if row_class is None:
        row_class = _ROW_CLASSES[names] = type(
            "Row", (_Row,), {"__slots__": (), "names": {name: i for i, name in enumerate(names)}}
        )
    return row_class


@dataclass(repr=False)
class PostgresqlTarget:
    """A PostgreSQL URL, parsed once by `locate`; psycopg and SQLAlchemy get these parts, never the user's text."""

    username: str | None
    password: str | None
    host: str | None
    port: int | None
    database: str | None
    query: dict[str, str]

    def url(self) -> Any:
        from sqlalchemy.engine import URL

        return URL.create(
            "postgresql+psycopg",
            username=self.username,
            password=self.password,
            host=self.host,
            port=self.port,
            database=self.database,
            query=self.query,
        )

    def connect_arguments(self) -> dict[str, Any]:
        """psycopg's keywords; the URL's query options are libpq's own (sslmode, …), passed as they are."""
        given = {
            "user": self.username,
            "password": self.password,
            "host": self.host,
            "port": self.port,
            "dbname": self.database,
        }
        present = {key: value for key, value in given.items() if value is not None}
        return {"connect_timeout": 10, **present, **self.query}


@dataclass
class Database:
    """One wallet. `shown` is the location safe to print (a URL's password is masked)."""

    shown: str
    dialect: str
    sqlite_path: Path | None = None
    postgresql: PostgresqlTarget | None = field(default=None, repr=False)  # may hold a password: never in a repr
    #: The default wallet: its folder is created (0700) by the first write.
    is_default: bool = False
    #: This process created the file (0600) and removes it again if the wallet cannot be set up in it.
    created_file: bool = False
    #: Opened immutable and read-only: the wallet's folder is read-only, so no one can be writing it.
    read_only: bool = False
    _connection: sqlite3.Connection | None = field(default=None, repr=False)
    _engine: Any = field(default=None, repr=False)
    _postgresql_connection: Any = field(default=None, repr=False)
    _pipeline: Any = field(default=None, repr=False)

    @contextmanager
    def transaction(self, write: bool) -> Iterator[Transaction]:
        """One unit of work; a SQLite write begins IMMEDIATE so writers queue and never lose updates."""
        if self.dialect == "sqlite":
            yield from self._sqlite_transaction(write)
        else:
            yield from self._postgresql_transaction(write)

    def _sqlite_transaction(self, write: bool) -> Iterator[Transaction]:
        connection = self._sqlite()
        if write and self.read_only:
            raise self._read_only_folder()
        try:
            connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        except sqlite3.Error as error:
            raise self._sqlite_error(error) from None
        try:
            yield _SqliteTransaction(connection)
            connection.execute("COMMIT")
        except sqlite3.Error as error:
            _rollback(connection)
            translated = _translate_sqlite_error(error, self.shown)
            if translated is None:
                raise  # an unexpected SQL error is a bug: let it surface as one
            raise translated from None
        except BaseException:
            _rollback(connection)
            raise

    def _postgresql_transaction(self, write: bool) -> Iterator[Transaction]:
        """Writers hold one transaction-level advisory lock, so they queue as SQLite's writers do.

        Every write also moves the wallet's clock row, so concurrent writers would conflict anyway; a
        queue is simpler and fairer than retries. Reads see one snapshot (REPEATABLE READ). The BEGIN,
        the lock and the first statements go to the server together (pipeline mode).
        """
        psycopg = _psycopg()
        connection, pipeline = self.postgresql_connection()
        try:
            isolation = "READ COMMITTED" if write else "REPEATABLE READ"
            tx = _PostgresqlTransaction(connection, pipeline)
            tx.send(f"BEGIN ISOLATION LEVEL {isolation}")
            if write:
                tx.send(f"SET LOCAL lock_timeout = '{BUSY_TIMEOUT_MS}ms'")
                tx.send("SELECT pg_advisory_xact_lock(:key)", {"key": WRITER_LOCK})
            try:
                yield tx
                tx.commit()
            except BaseException:
                self._rollback_postgresql(connection, pipeline)
                raise
        except psycopg.OperationalError as error:
            self._close_postgresql_if_broken()
            raise self.postgresql_error(error) from None

    def _rollback_postgresql(self, connection: Any, pipeline: Any) -> None:
        """Abandon the transaction; a connection the server dropped is closed (the next one reconnects)."""
        import psycopg

        try:
            connection.execute("ROLLBACK", prepare=False)
            pipeline.sync()
        except psycopg.Error:
            with suppress(psycopg.Error):
                connection.close()

    def _close_postgresql_if_broken(self) -> None:
        connection = self._postgresql_connection
        if connection is not None and (connection.closed or connection.info.transaction_status != 0):
            with suppress(Exception):
                connection.close()
            self._postgresql_connection = None

    def read_batch(self, statements: Sequence[Statement]) -> list[list[Row]]:
        """Several reads in one round trip; on PostgreSQL each its own statement (no BEGIN, no COMMIT)."""
        if self.dialect == "sqlite":
            with self.transaction(write=False) as tx:
                return tx.execute_batch(statements)
        psycopg = _psycopg()
        connection, pipeline = self.postgresql_connection()
        try:
            return _PostgresqlTransaction(connection, pipeline).execute_batch(statements)
        except psycopg.OperationalError as error:
            self._close_postgresql_if_broken()
            raise self.postgresql_error(error) from None

    def postgresql_connection(self) -> tuple[Any, Any]:
        """The command's one connection, in pipeline mode for its whole life (autocommit: marginctl says
        BEGIN itself); failing to connect at all (refused, bad option, unknown database) is one clear line."""
        connection = self._postgresql_connection
        if connection is not None and not connection.closed:
            return connection, self._pipeline
        assert self.postgresql is not None
        psycopg = _psycopg()
        try:
            connection = psycopg.connect(autocommit=True, **self.postgresql.connect_arguments())
            # In pipeline mode for the connection's whole life: leaving it costs a round trip. Entered
            # as `Connection.pipeline()` does, without its generator (closed after the connection, at the
            # process's end, that one warns on stderr).
            pipeline = psycopg.Pipeline(connection)
            connection._pipeline = pipeline
            pipeline.__enter__()
        except psycopg.Error as error:
            raise self.postgresql_error(error) from None
        self._postgresql_connection, self._pipeline = connection, pipeline
        return connection, pipeline

    def postgresql_error(self, error: Any) -> Exception:
        return _translate_postgresql_error(error, self.shown)

    def _sqlite(self) -> sqlite3.Connection:
        if self._connection is None:
            assert self.sqlite_path is not None
            connection = self._open_probed()
            connection.row_factory = sqlite3.Row
            self._connection = connection
        return self._connection

    def _open_probed(self) -> sqlite3.Connection:
        """Open the file and read it once; a wallet in a read-only folder is opened immutable for reading.

        SQLite's WAL mode needs `-shm` beside the file even to read. In a folder no one can write, no one
        can be writing the wallet either (a writer needs `-wal` there), so reading it as immutable is exact,
        unless a `-wal` from before is still there: that one holds commits, and reading without it would not be.
        """
        assert self.sqlite_path is not None
        try:
            return _connect_sqlite(self.sqlite_path, self.read_only)
        except sqlite3.Error as error:
            if getattr(error, "sqlite_errorname", "") != "SQLITE_READONLY_DIRECTORY" or self.read_only:
                raise self._sqlite_error(error) from None
            if self.sqlite_path.with_name(self.sqlite_path.name + "-wal").exists():
                raise DatabaseError(
                    f"cannot read the wallet {self.shown}: its folder is read-only and it has a -wal file "
                    "SQLite must open for writing; make the folder writable"
                ) from None
            self.read_only = True
            return self._open_probed()

    def _read_only_folder(self) -> DatabaseError:
        assert self.sqlite_path is not None
        name = self.sqlite_path.name
        return DatabaseError(
            f"cannot write the wallet {self.shown}: its folder is read-only "
            f"(SQLite needs to create {name}-wal and {name}-shm beside it)"
        )

    def _sqlite_error(self, error: sqlite3.Error) -> MarginctlError:
        if getattr(error, "sqlite_errorname", "") == "SQLITE_READONLY_DIRECTORY":
            return self._read_only_folder()
        return _sqlite_failure(error, self.shown)

    def sqlalchemy_engine(self) -> Any:
        """The PostgreSQL engine Alembic runs on (the commands use psycopg directly)."""
        if self._engine is None:
            assert self.postgresql is not None
            _psycopg()  # SQLAlchemy's dialect imports it; a missing extra is said plainly here
            from sqlalchemy import create_engine

            self._engine = create_engine(
                self.postgresql.url(), connect_args={"connect_timeout": 10}, hide_parameters=True
            )
        return self._engine

    def migration_engine(self) -> Any:
        """The engine Alembic runs on: for SQLite, connections made by `open_sqlite`, the same door as ours."""
        if self.dialect != "sqlite":
            return self.sqlalchemy_engine()
        from sqlalchemy import create_engine, event
        from sqlalchemy.pool import NullPool

        path = self.sqlite_path
        assert path is not None
        engine = create_engine("sqlite://", creator=lambda: open_sqlite(path, shown=self.shown), poolclass=NullPool)

        @event.listens_for(engine, "begin")
        def _begin_immediate(connection: Any) -> None:
            # One BEGIN IMMEDIATE for the whole upgrade: two first runs at once cannot both create the tables.
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine

    def use_wal(self) -> None:
        """WAL lets readers run beside the writer; set only once the file is known to be a marginctl wallet."""
        if self.dialect != "sqlite" or self.read_only:
            return
        connection = self._sqlite()
        try:
            if connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                connection.execute("PRAGMA journal_mode = WAL")
        except sqlite3.Error as error:
            raise self._sqlite_error(error) from None

    def no_wallet(self) -> NoWallet:
        """A read found no wallet; the hint names the same wallet (the first write creates it)."""
        import shlex

        option = "" if self.is_default else f"--db {shlex.quote(self.shown)} "
        return NoWallet(f"no wallet at {self.shown}; start one with: marginctl {option}deposit USDT 1000")

    def discard_new_file(self) -> None:
        """Remove a wallet file this process created and could not set up: no empty or half-made file stays."""
        self.close()
        if not self.created_file or self.sqlite_path is None:
            return
        for suffix in ("", "-wal", "-shm", "-journal"):
            with suppress(OSError):  # gone already, or the original failure is the one to report
                self.sqlite_path.with_name(self.sqlite_path.name + suffix).unlink()
        self.created_file = False

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        if self._postgresql_connection is not None:
            with suppress(Exception):  # closing a connection the server already dropped
                self._postgresql_connection.close()
            self._postgresql_connection = None


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise DatabaseError(
            "PostgreSQL support is not installed; install it with: pip install 'marginctl[postgres]'"
        ) from None
    return psycopg


def _rollback(connection: sqlite3.Connection) -> None:
    """Roll back what is still open: SQLite itself already rolled back after some errors (a full disk)."""
    if connection.in_transaction:
        with suppress(sqlite3.Error):  # the error that led here is the one to report
            connection.execute("ROLLBACK")


def sqlite_uri(path: Path, immutable: bool = False) -> str:
    """A `file:` URI naming exactly `path`: every byte but letters, digits, `/` and `_.-~` is percent-escaped.

    Without the escapes SQLite reads `#` and `?` as the URI's end and `%41` as `A` (issue 12).
    """
    escaped = quote(os.fsencode(path.absolute()), safe="/")
    return f"file://{escaped}?mode=ro&immutable=1" if immutable else f"file://{escaped}?mode=rw"


def open_sqlite(path: Path, immutable: bool = False, shown: str | None = None) -> sqlite3.Connection:
    """The one way marginctl opens a wallet file: its commands and its migrations both connect here."""
    try:
        return _connect_sqlite(path, immutable)
    except sqlite3.Error as error:
        raise _sqlite_failure(error, shown or str(path)) from None


def _connect_sqlite(path: Path, immutable: bool) -> sqlite3.Connection:
    # isolation_level=None: the driver's implicit transactions are off; we BEGIN ourselves.
    connection = sqlite3.connect(
        sqlite_uri(path, immutable), uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000
    )
    try:
        connection.create_function("dec_add", 2, _decimal_add, deterministic=True)
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("PRAGMA synchronous = NORMAL")
        # Read the file once now, so a file SQLite cannot read fails here, in one place.
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except BaseException:
        connection.close()
        raise
    return connection


#: The key of PostgreSQL's writer lock (pg_advisory_xact_lock): "marginctl" as a number.
WRITER_LOCK = 7_301_960


class TransactionConflict(Exception):
    """PostgreSQL aborted the transaction (serialization failure or deadlock); running it again is safe."""


def _translate_postgresql_error(error: Any, shown: str) -> Exception:
    """Never the driver's text verbatim: it may name the server; the URL shown is masked.

    `error` is psycopg's, or SQLAlchemy's wrapping one (`orig`) from a migration."""
    original = getattr(error, "orig", None) or error
    state = getattr(original, "sqlstate", None)
    if state in ("40001", "40P01"):
        return TransactionConflict(str(state))
    if state == "55P03":
        return DatabaseBusy(f"the wallet {shown} is busy (another marginctl is writing); try again")
    if state == "53100":
        return _disk_full(shown)
    lines = str(original).strip().splitlines()
    return DatabaseError(f"cannot use the wallet {shown}: {mask_secrets(lines[0]) if lines else 'unknown error'}")


def _decimal_add(left: str, right: str) -> str:
    """SQLite stores amounts as exact decimal text; this adds two of them exactly."""
    return to_text(Decimal(left) + Decimal(right))


def _disk_full(shown: str) -> DiskFull:
    return DiskFull(f"the disk holding the wallet {shown} is full; nothing was changed: free some space and try again")


def _sqlite_failure(error: sqlite3.Error, shown: str) -> MarginctlError:
    """A SQLite failure while opening or beginning: always the user's problem, said in one line."""
    return _translate_sqlite_error(error, shown) or DatabaseError(f"cannot use the wallet {shown}: {error}")


def _translate_sqlite_error(error: sqlite3.Error, shown: str) -> MarginctlError | None:
    """What a user should read for a SQLite failure; None for an error that can only be a bug."""
    name = getattr(error, "sqlite_errorname", "") or ""
    message = str(error)
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in message or "busy" in message:
        return DatabaseBusy(f"the wallet {shown} is busy (another marginctl is writing); try again")
    if name == "SQLITE_FULL" or "disk is full" in message:
        return _disk_full(shown)
    if name == "SQLITE_NOTADB" or "not a database" in message:
        return DatabaseError(f"{shown} is not a marginctl wallet (not a SQLite database)")
    if name.startswith("SQLITE_CORRUPT") or "malformed" in message:
        return DatabaseError(f"the wallet {shown} is damaged ({message}); restore it from a backup")
    if name.startswith("SQLITE_READONLY") or "readonly" in message or "read-only" in message:
        return DatabaseError(f"the wallet {shown} is read-only")
    if name.startswith(("SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_PERM", "SQLITE_AUTH")):
        return DatabaseError(f"cannot use the wallet {shown}: {message}")
    return None


def default_wallet_path() -> Path:
    from marginctl.folders import user_folder

    return user_folder("data") / "wallet.db"


_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
SQLITE_SCHEMES = ("sqlite", "sqlite+pysqlite")
#: libpq's URI schemes and SQLAlchemy's name for psycopg 3; all of them connect through psycopg 3.
POSTGRESQL_SCHEMES = ("postgresql+psycopg", "postgresql", "postgres")
#: libpq's connection keywords (PostgreSQL 16): a --db made only of `keyword=value` pairs of these is a conninfo.
_CONNINFO_KEYWORDS = frozenset(
    {
        "host",
        "hostaddr",
        "port",
        "dbname",
        "user",
        "password",
        "passfile",
        "require_auth",
        "channel_binding",
        "connect_timeout",
        "client_encoding",
        "options",
        "application_name",
        "fallback_application_name",
        "keepalives",
        "keepalives_idle",
        "keepalives_interval",
        "keepalives_count",
        "tcp_user_timeout",
        "replication",
        "gssencmode",
        "sslmode",
        "requiressl",
        "sslcompression",
        "sslcert",
        "sslkey",
        "sslpassword",
        "sslcertmode",
        "sslrootcert",
        "sslcrl",
        "sslcrldir",
        "sslsni",
        "requirepeer",
        "ssl_min_protocol_version",
        "ssl_max_protocol_version",
        "krbsrvname",
        "gsslib",
        "gssdelegation",
        "service",
        "target_session_attrs",
        "load_balance_hosts",
    }
)
_CONNINFO_PAIR = re.compile(r"\s*([A-Za-z_]+)\s*=\s*(?:'(?:[^'\\]|\\.)*'|[^\s']*)\s*")
_URL_HINT = "use sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DBNAME"


def locate(target: str | None) -> Database:
    """Resolve `--db`: nothing (the default file), a plain path (SQLite, taken literally) or a URL.

    A URL is read as a URL: its scheme in any case, its percent-escapes decoded (`sqlite:///a%2541.db` is the
    file `a%41.db`). A plain path is every byte as typed, `#`, `?` and `%` included; only a leading `~/` is
    expanded. Nothing is created here: the first write creates the wallet.
    """
    if target is None or target == "":
        path = default_wallet_path()
        return Database(shown=str(path), dialect="sqlite", sqlite_path=path, is_default=True)
    scheme_match = _SCHEME.match(target)
    if scheme_match is None:
        if _is_conninfo(target):
            raise DatabaseError(
                "--db takes a file path or a URL, not a libpq connection string (keyword=value): "
                "give postgresql+psycopg://USER@HOST:PORT/DBNAME and the password in PGPASSWORD or ~/.pgpass "
                "(a file of such a name can be given as ./NAME)"
            )
        return _sqlite_database(_plain_path(target))
    scheme = scheme_match.group(1).lower()
    if scheme in SQLITE_SCHEMES:
        return _sqlite_database(_sqlite_url_path(target))
    if scheme in POSTGRESQL_SCHEMES:
        return _postgresql_database(target)
    if scheme.startswith(("postgresql+", "postgres+")):
        driver = scheme.partition("+")[2]
        raise DatabaseError(f"unsupported PostgreSQL driver {driver!r}: marginctl uses psycopg 3; {_URL_HINT}")
    raise DatabaseError(f"unsupported database URL scheme {scheme!r}: {_URL_HINT}")


def _is_conninfo(target: str) -> bool:
    if "=" not in target:
        return False
    position, keywords = 0, []
    while position < len(target):
        match = _CONNINFO_PAIR.match(target, position)
        if match is None or match.end() == position:
            return False
        keywords.append(match.group(1).lower())
        position = match.end()
    return bool(keywords) and all(keyword in _CONNINFO_KEYWORDS for keyword in keywords)


def _plain_path(target: str) -> Path:
    if target == "~" or target.startswith("~/"):
        return Path(target).expanduser()
    return Path(target)


def _sqlite_url_path(target: str) -> Path:
    """`sqlite:///relative/file.db` or `sqlite:////absolute/file.db` (SQLAlchemy's form), percent-decoded."""
    try:
        parts = urlsplit(target)
    except ValueError:
        raise DatabaseError(
            f"{target[:80]} is not a valid SQLite URL: write sqlite:///relative.db or sqlite:////absolute.db"
        ) from None
    if parts.netloc:
        raise DatabaseError("a SQLite URL has no host: write sqlite:///relative.db or sqlite:////absolute.db")
    if parts.query or parts.fragment or "?" in target or "#" in target:
        raise DatabaseError(
            "a SQLite URL cannot carry ?options or a #fragment: write ? as %3F and # as %23 in the file name, "
            "or give the file's plain path"
        )
    raw = parts.path[1:] if parts.path.startswith("/") else parts.path
    name = unquote_to_bytes(raw)
    if not name or name.startswith(b":memory:"):
        raise DatabaseError("an in-memory or empty SQLite URL cannot hold a wallet; give a file")
    if b"\x00" in name:
        raise DatabaseError("a file name cannot hold a NUL byte (%00)")
    return Path(os.fsdecode(name))


def _postgresql_database(target: str) -> Database:
    if any(character.isspace() for character in target):
        # not echoed: the part of a password after a space would be shown
        raise DatabaseError("a database URL cannot contain spaces; write a space in a name or password as %20")
    shown = mask_secrets(target)
    try:
        parts = urlsplit(target)
        parts.hostname  # noqa: B018 (parsed here, so a malformed host is refused here)
    except ValueError:
        raise DatabaseError(f"{shown} is not a valid database URL ({_URL_HINT})") from None
    if parts.fragment:
        raise DatabaseError(f"a PostgreSQL URL cannot carry a #fragment (write # as %23): {shown}")
    try:
        port = parts.port
    except ValueError:
        raise DatabaseError(f"the port of the database URL {shown} is not a number from 0 to 65535") from None
    query: dict[str, str] = {}
    for item in parts.query.split("&") if parts.query else []:
        key, _, value = item.partition("=")
        if not key:
            raise DatabaseError(f"the database URL {shown} has an empty option in its query")
        query[unquote(key)] = unquote(value)
    target_parts = PostgresqlTarget(
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        host=unquote(parts.hostname) if parts.hostname else None,
        port=port,
        database=unquote(parts.path[1:]) if len(parts.path) > 1 else None,
        query=query,
    )
    return Database(shown=shown, dialect="postgresql", postgresql=target_parts)


def _ensure_private_folder(folder: Path) -> None:
    """The default wallet's folder is created 0700: balances are nobody else's business."""
    if not folder.exists():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)


def _sqlite_database(path: Path) -> Database:
    return Database(shown=str(path), dialect="sqlite", sqlite_path=path)


def prepare_sqlite_file(database: Database, create: bool) -> None:
    """Check the wallet file before SQLite touches it; with `create`, make it 0600 when missing or empty.

    Without `create` (a read) a missing or 0-byte file is `no_wallet`: reads never make a wallet.
    """
    path = database.sqlite_path
    assert path is not None
    try:
        _prepare_file(database, path, create)
    except OSError as error:  # a name too long, a folder we may not list, …
        raise DatabaseError(f"cannot use {str(path)[:80]} as a wallet: {error.strerror}") from None


def _prepare_file(database: Database, path: Path, create: bool) -> None:
    if path.is_dir():
        raise DatabaseError(f"{path} is a folder, not a wallet file")
    if database.is_default and not path.exists():
        if not create:
            raise database.no_wallet()
        _ensure_private_folder(path.parent)
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
        if not header and not create:
            raise database.no_wallet()
        return
    if not create:
        raise database.no_wallet()
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise DatabaseError(f"cannot create a wallet in {path.parent}: permission denied")
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    except OSError as error:
        raise DatabaseError(f"cannot create {path}: {error.strerror}") from None
    os.close(descriptor)
    database.created_file = True
