"""The schema check every command pays (one query) and the Alembic upgrade only a new or old wallet pays."""

from __future__ import annotations

from typing import Any

from marginctl.domain.errors import DatabaseError
from marginctl.store.database import Database, Transaction, prepare_sqlite_file

#: The newest schema revision this code knows; a test checks it equals Alembic's head.
SCHEMA_REVISION = "0008"
KNOWN_REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008")


def current_revision(database: Database) -> str | None:
    """The wallet's Alembic revision, or None for an empty database."""
    try:
        with database.transaction(write=False) as tx:
            rows = tx.execute("SELECT version_num FROM alembic_version")
            return str(rows[0]["version_num"]) if rows else None
    except Exception as error:
        if "no such table" not in str(error) and "does not exist" not in str(error):
            raise
    with database.transaction(write=False) as tx:
        if _has_foreign_tables(tx, database.dialect):
            raise DatabaseError(f"{database.shown} is not a marginctl wallet (it holds other tables)")
    return None


def _has_foreign_tables(tx: Transaction, dialect: str) -> bool:
    sql = (
        "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'"
        if dialect == "sqlite"
        else "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = current_schema()"
    )
    return bool(tx.execute(sql)[0]["n"])


def ensure_schema(database: Database, create: bool = True) -> bool:
    """Bring the wallet to this code's schema. True when the wallet was just created.

    Without `create` (a read-only command) a missing file, a 0-byte file or a database without marginctl's
    tables is `no_wallet`, and nothing is created; an older wallet is still upgraded.
    """
    if database.dialect == "sqlite":
        prepare_sqlite_file(database, create)
    revision = current_revision(database)
    if revision is None and not create:
        raise database.no_wallet()
    if revision == SCHEMA_REVISION:
        database.use_wal()
        return False
    if revision is not None and revision not in KNOWN_REVISIONS:
        raise DatabaseError(
            f"{database.shown} has schema revision {revision}, newer than this marginctl knows "
            f"({SCHEMA_REVISION}); upgrade marginctl"
        )
    if database.read_only:
        raise DatabaseError(
            f"the wallet {database.shown} has schema revision {revision} and needs an upgrade to "
            f"{SCHEMA_REVISION}, which needs its folder to be writable"
        )
    upgrade(database)
    database.use_wal()
    return revision is None


def upgrade(database: Database) -> None:
    """Run Alembic (imported only here: a no-op upgrade costs ~400 ms, the check above ~1 ms)."""
    from alembic import command
    from alembic.config import Config as AlembicConfig
    from sqlalchemy import exc

    from marginctl.resources import resource_path

    database.close()
    alembic_config = AlembicConfig()
    alembic_config.set_main_option("script_location", str(resource_path("migrations")))
    engine = database.migration_engine()
    try:
        # Alembic runs on a connection marginctl opened (its cookbook's connection sharing): no URL is
        # parsed again, so the migrations write exactly the wallet the commands use.
        with engine.begin() as connection:
            alembic_config.attributes["connection"] = connection
            command.upgrade(alembic_config, "head")
    except exc.DBAPIError as error:
        raise _upgrade_error(database, error) from None
    finally:
        engine.dispose()
        database.close()


def _upgrade_error(database: Database, error: Any) -> Exception:
    """The driver's own failure, as the commands would report it (a full disk is `disk_full`)."""
    import sqlite3

    from marginctl.store.database import _translate_sqlite_error

    original = getattr(error, "orig", None)
    if isinstance(original, sqlite3.Error):
        translated = _translate_sqlite_error(original, database.shown)
        if translated is not None:
            return translated
        return DatabaseError(f"cannot upgrade the wallet {database.shown}: {original}")
    return database.postgresql_error(error)
