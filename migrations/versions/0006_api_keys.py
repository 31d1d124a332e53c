"""API keys: who may call `marginctl serve` (issue 15).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

An HMAC key keeps its secret (the server must recompute each signature, so it cannot keep a hash); an
Ed25519 key keeps only the public key. On SQLite the wallet file is the owner's alone (0600 in a 0700
folder); on PostgreSQL only the role that owns the tables can read them (nothing is granted to PUBLIC).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TIME = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("api_key", sa.String(64), nullable=False, unique=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("key_type", sa.String(16), nullable=False),
        sa.Column("permissions", sa.String(16), nullable=False),
        sa.Column("secret", sa.Text),
        sa.Column("public_key", sa.Text),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("revoked_at", TIME),
    )
    op.create_index("ix_api_keys_account", "api_keys", ["account_id", "id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("REVOKE ALL ON api_keys FROM PUBLIC")


def downgrade() -> None:
    op.drop_index("ix_api_keys_account", "api_keys")
    op.drop_table("api_keys")
