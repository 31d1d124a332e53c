"""The ledger: accounts, client-id requests, journal entries and postings, balances, prices, interest.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from marginctl.store.schema import Amount

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TIME = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("is_system", sa.Boolean, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("agreement_accepted_at", TIME),
        sa.Column("cooling_off_until", TIME),
    )
    op.create_table(
        "requests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("client_id", sa.String(200), nullable=False),
        sa.Column("command", sa.String(32), nullable=False),
        sa.Column("fingerprint", sa.Text, nullable=False),
        sa.Column("result", sa.Text, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.UniqueConstraint("account_id", "client_id", name="uq_requests_account_client"),
    )
    op.create_table(
        "entries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("request_id", sa.Integer, sa.ForeignKey("requests.id")),
        sa.Column("memo", sa.Text),
    )
    op.create_index("ix_entries_account_created", "entries", ["account_id", "created_at"])
    op.create_index("ix_entries_kind", "entries", ["kind"])
    op.create_table(
        "postings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("entry_id", sa.Integer, sa.ForeignKey("entries.id"), nullable=False),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("wallet", sa.String(32), nullable=False),
        sa.Column("asset", sa.String(16), nullable=False),
        sa.Column("bucket", sa.String(32), nullable=False),
        sa.Column("amount", Amount, nullable=False),
    )
    op.create_index("ix_postings_entry", "postings", ["entry_id"])
    op.create_table(
        "balances",
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), primary_key=True),
        sa.Column("wallet", sa.String(32), primary_key=True),
        sa.Column("asset", sa.String(16), primary_key=True),
        sa.Column("bucket", sa.String(32), primary_key=True),
        sa.Column("amount", Amount, nullable=False),
    )
    op.create_table(
        "prices",
        sa.Column("pair", sa.String(32), primary_key=True),
        sa.Column("price", Amount, nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
    )
    op.create_table(
        "interest_charges",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("entry_id", sa.Integer, sa.ForeignKey("entries.id"), nullable=False),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("wallet", sa.String(32), nullable=False),
        sa.Column("asset", sa.String(16), nullable=False),
        sa.Column("charged_at", TIME, nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("periodic_hour", TIME),
        sa.Column("principal", Amount, nullable=False),
        sa.Column("daily_rate", Amount, nullable=False),
        sa.Column("interest", Amount, nullable=False),
        sa.UniqueConstraint("account_id", "wallet", "asset", "periodic_hour", name="uq_interest_hour"),
    )
    op.create_table(
        "meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "meta",
        "interest_charges",
        "prices",
        "balances",
        "postings",
        "entries",
        "requests",
        "accounts",
    ):
        op.drop_table(table)
