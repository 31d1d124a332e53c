"""Fidelity round 2: one row per fill (Binance's trades), OCO order lists, and the rules a wallet keeps.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from marginctl.store.schema import Amount

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TIME = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "order_lists",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("list_client_order_id", sa.String(64)),
        sa.Column("wallet", sa.String(32), nullable=False),
        sa.Column("pair", sa.String(32), nullable=False),
        sa.Column("contingency_type", sa.String(16), nullable=False),
        sa.Column("list_status_type", sa.String(16), nullable=False),
        sa.Column("list_order_status", sa.String(16), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
    )
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("order_list_id", sa.Integer))
        batch.create_foreign_key("fk_orders_order_list", "order_lists", ["order_list_id"], ["id"])
    op.create_table(
        "trades",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id"), nullable=False),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("wallet", sa.String(32), nullable=False),
        sa.Column("pair", sa.String(32), nullable=False),
        sa.Column("side", sa.String(4), nullable=False),
        sa.Column("price", Amount, nullable=False),
        sa.Column("qty", Amount, nullable=False),
        sa.Column("quote_qty", Amount, nullable=False),
        sa.Column("commission", Amount, nullable=False),
        sa.Column("commission_asset", sa.String(16), nullable=False),
        sa.Column("is_maker", sa.Boolean, nullable=False),
        sa.Column("quote_price", Amount),
        sa.Column("entry_id", sa.Integer, sa.ForeignKey("entries.id"), nullable=False),
        sa.Column("at", TIME, nullable=False),
    )
    op.create_index("ix_trades_account", "trades", ["account_id", "wallet", "id"])
    op.create_index("ix_trades_order", "trades", ["order_id"])
    op.create_table(
        "wallet_rules",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("effective_at", TIME, nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("wallet_rules")
    op.drop_table("trades")
    with op.batch_alter_table("orders") as batch:
        batch.drop_constraint("fk_orders_order_list", type_="foreignkey")
        batch.drop_column("order_list_id")
    op.drop_table("order_lists")
