"""AUTO_BORROW_REPAY: an order's side effect takes up to 32 characters (issue 15).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

Binance's AUTO_BORROW_REPAY is 17 characters, one more than the column held. PostgreSQL widens a VARCHAR
without rewriting the table; SQLite never enforces a VARCHAR's length, so its file needs no change (a
batch copy of a wallet's orders would cost minutes on a big one for nothing).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(
            "orders", "side_effect", type_=sa.String(32), existing_type=sa.String(16), existing_nullable=False
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(
            "orders", "side_effect", type_=sa.String(16), existing_type=sa.String(32), existing_nullable=False
        )
