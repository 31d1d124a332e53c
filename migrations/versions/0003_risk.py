"""Risk engine: how far each loan's hourly interest has been charged, and margin-call/liquidation events.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TIME = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "loan_accruals",
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), primary_key=True),
        sa.Column("wallet", sa.String(32), primary_key=True),
        sa.Column("asset", sa.String(16), primary_key=True),
        sa.Column("accrued_through", TIME, nullable=False),
    )
    op.create_table(
        "risk_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("wallet", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("margin_level", sa.Text),
        sa.Column("entry_id", sa.Integer, sa.ForeignKey("entries.id")),
        sa.Column("detail", sa.Text),
    )
    op.create_index("ix_risk_events_wallet", "risk_events", ["account_id", "wallet", "kind", "at"])


def downgrade() -> None:
    op.drop_table("risk_events")
    op.drop_table("loan_accruals")
