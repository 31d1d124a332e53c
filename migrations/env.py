"""Alembic environment: marginctl passes the database URL in; nothing is read from alembic.ini."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, event, text

from marginctl.store.schema import metadata

url = context.config.get_main_option("sqlalchemy.url")
assert url, "marginctl sets sqlalchemy.url before it runs a migration"

engine = create_engine(url, connect_args={"timeout": 30} if url.startswith("sqlite") else {})

if engine.dialect.name == "sqlite":
    # The whole upgrade is one BEGIN IMMEDIATE transaction, so two first runs at once cannot both create
    # the tables: the second waits, then finds the wallet at head (SQLAlchemy's pysqlite recipe).
    @event.listens_for(engine, "connect")
    def _driver_transactions_off(dbapi_connection, connection_record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection):  # type: ignore[no-untyped-def]
        connection.exec_driver_sql("BEGIN IMMEDIATE")


with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        if engine.dialect.name == "postgresql":
            # The same writer lock marginctl takes: two first runs at once cannot both create the tables.
            connection.execute(text("SELECT pg_advisory_xact_lock(7301960)"))
        context.run_migrations()
engine.dispose()
