"""Price history: the last price of each pair in each UTC hour, for `report` (issue 16).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

`prices` keeps only a pair's last price; `price_hours` keeps the last one of every hour it was recorded in
(`hour` the hour's start, `at` the price's own time). An existing wallet starts its history with the last
price it holds: the hour of that price is the only one whose last price the wallet still knows.
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
    # Stored times are fixed-width ("2026-01-05T10:20:00.000000Z"): the first 13 characters name the hour.
    op.execute(
        "INSERT INTO price_hours (pair, hour, price, at) "
        "SELECT pair, substr(at, 1, 13) || ':00:00.000000Z', price, at FROM prices"
    )


def downgrade() -> None:
    op.drop_table("price_hours")
