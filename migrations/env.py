"""Alembic environment: marginctl passes in the connection it opened; nothing is read from alembic.ini or a URL.

`marginctl.store.migrate.upgrade` begins the transaction (BEGIN IMMEDIATE on SQLite), so two first runs at
once cannot both create the tables: the second waits, then finds the wallet at head.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from marginctl.store.schema import metadata

connection = context.config.attributes.get("connection")
assert connection is not None, "marginctl passes its open connection in config.attributes['connection']"

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    if connection.dialect.name == "postgresql":
        # The same writer lock marginctl takes: two first runs at once cannot both create the tables.
        connection.execute(text("SELECT pg_advisory_xact_lock(7301960)"))
    context.run_migrations()
