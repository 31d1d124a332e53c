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
    """Interest: compact catch-up rows (one per loan and run of hours).

    Every charge so far is one hour: `hours` 1, and its last hour is its own time.
    """
    with op.batch_alter_table("interest_charges") as batch:
        batch.add_column(sa.Column("hours", sa.Integer, nullable=False, server_default="1"))
        batch.add_column(sa.Column("last_at", TIME))
    op.execute("UPDATE interest_charges SET last_at = charged_at")
    with op.batch_alter_table("interest_charges") as batch:
        batch.alter_column("last_at", existing_type=TIME, nullable=False)


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
    """What `_interest` added, removed: each run of hours becomes one row per hour again."""
    from datetime import datetime, timedelta

    connection = op.get_bind()
    runs = connection.execute(
        sa.text(
            "SELECT entry_id, account_id, wallet, asset, type, periodic_hour, hours, principal, daily_rate, interest "
            "FROM interest_charges WHERE hours > 1"
        )
    ).all()
    rows = []
    for entry_id, account_id, wallet, asset, kind, first, hours, principal, daily_rate, interest in runs:
        start = datetime.fromisoformat(str(first))
        for index in range(1, int(hours)):
            hour = (start + timedelta(hours=index)).isoformat(timespec="microseconds")[:26] + "Z"
            rows.append(
                {
                    "entry_id": entry_id,
                    "account_id": account_id,
                    "wallet": wallet,
                    "asset": asset,
                    "type": kind,
                    "hour": hour,
                    "principal": principal,
                    "daily_rate": daily_rate,
                    "interest": interest,
                }
            )
    if rows:
        connection.execute(
            sa.text(
                "INSERT INTO interest_charges (entry_id, account_id, wallet, asset, charged_at, last_at, type, "
                "periodic_hour, hours, principal, daily_rate, interest) VALUES (:entry_id, :account_id, :wallet, "
                ":asset, :hour, :hour, :type, :hour, 1, :principal, :daily_rate, :interest)"
            ),
            rows,
        )
    with op.batch_alter_table("interest_charges") as batch:
        batch.drop_column("last_at")
        batch.drop_column("hours")


def _undo_price_keys() -> None:
    """What `_price_keys` added, removed."""
    op.drop_table("risk_reach")
    op.execute("DELETE FROM meta WHERE key IN ('reach_through', 'reach_rules')")
    op.drop_index("ix_orders_open_stop", "orders")
    op.drop_index("ix_orders_open_price", "orders")
