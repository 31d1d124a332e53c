"""Price history: the last price of each pair in each UTC hour, for `report` (issue 16).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

`prices` keeps only a pair's last price; `price_hours` keeps the last one of every hour it was recorded in
(`hour` the end H of the hour (H − 1 h, H], `at` the price's own time). An existing wallet starts its history
with the last price it holds: the hour of that price is the only one whose last price the wallet still knows.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from marginctl.store.schema import Amount

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TIME = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "price_hours",
        sa.Column("pair", sa.String(32), primary_key=True),
        sa.Column("hour", TIME, primary_key=True),
        sa.Column("price", Amount, nullable=False),
        sa.Column("at", TIME, nullable=False),
    )
    from marginctl.store.prices import hour_end_of

    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT pair, price, at FROM prices")).fetchall()
    for pair, price, at in rows:
        connection.execute(
            sa.text("INSERT INTO price_hours (pair, hour, price, at) VALUES (:pair, :hour, :price, :at)"),
            {"pair": pair, "hour": hour_end_of(str(at)), "price": price, "at": at},
        )


def downgrade() -> None:
    op.drop_table("price_hours")
