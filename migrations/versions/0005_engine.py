"""One engine: what the set-based reads need (issue 14).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

Each part below belongs to one piece of the engine; an empty part adds nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TIME = sa.String(32)


def upgrade() -> None:
    _interest()
    _price_keys()


def _interest() -> None:
    """Interest: compact catch-up rows (one per loan and run of hours)."""


def _price_keys() -> None:
    """Prices: numeric keys for resting orders and per-wallet trigger prices."""
    open_only = sa.text("status = 'NEW'")
    op.create_index(
        "ix_orders_open_price",
        "orders",
        ["pair", "side", sa.text("CAST(price AS DOUBLE PRECISION)")],
        sqlite_where=open_only,
        postgresql_where=open_only,
    )
    op.create_index(
        "ix_orders_open_stop",
        "orders",
        ["pair", "side", "type", sa.text("CAST(stop_price AS DOUBLE PRECISION)")],
        sqlite_where=open_only,
        postgresql_where=open_only,
    )
    op.create_table(
        "risk_reach",
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), primary_key=True),
        sa.Column("wallet", sa.String(32), primary_key=True),
        sa.Column("asset", sa.String(16)),
        sa.Column("at_or_below", sa.Float),
        sa.Column("at_or_above", sa.Float),
        sa.Column("always", sa.Boolean, nullable=False),
    )
    op.create_index("ix_risk_reach_below", "risk_reach", ["asset", "at_or_below"])
    op.create_index("ix_risk_reach_above", "risk_reach", ["asset", "at_or_above"])
    op.create_index("ix_risk_reach_always", "risk_reach", ["always"])
    # Nothing to backfill: with no `reach_through` in meta the first risk check builds every row (a watermark
    # left by an earlier downgrade would claim an empty table is up to date).
    op.execute("DELETE FROM meta WHERE key IN ('reach_through', 'reach_rules')")


def downgrade() -> None:
    _undo_price_keys()
    _undo_interest()


def _undo_interest() -> None:
    """What `_interest` added, removed."""


def _undo_price_keys() -> None:
    """What `_price_keys` added, removed."""
    op.drop_table("risk_reach")
    op.execute("DELETE FROM meta WHERE key IN ('reach_through', 'reach_rules')")
    op.drop_index("ix_orders_open_stop", "orders")
    op.drop_index("ix_orders_open_price", "orders")
