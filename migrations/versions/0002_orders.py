"""Orders: market, limit and stop-limit orders of margin wallets, with what each one holds locked.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from marginctl.store.schema import Amount

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TIME = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("client_order_id", sa.String(64)),
        sa.Column("wallet", sa.String(32), nullable=False),
        sa.Column("pair", sa.String(32), nullable=False),
        sa.Column("side", sa.String(4), nullable=False),
        sa.Column("type", sa.String(24), nullable=False),
        sa.Column("price", Amount),
        sa.Column("stop_price", Amount),
        sa.Column("triggered", sa.Boolean, nullable=False),
        sa.Column("orig_qty", Amount, nullable=False),
        sa.Column("executed_qty", Amount, nullable=False),
        sa.Column("quote_qty", Amount, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("side_effect", sa.String(16), nullable=False),
        sa.Column("locked_asset", sa.String(16)),
        sa.Column("locked_amount", Amount, nullable=False),
        sa.Column("borrowed_amount", Amount, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
    )
    op.create_index("ix_orders_open_pair", "orders", ["status", "pair", "id"])
    op.create_index("ix_orders_account", "orders", ["account_id", "id"])


def downgrade() -> None:
    op.drop_table("orders")
