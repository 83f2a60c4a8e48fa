"""Console accounts: who may sign in to the web console, with which role.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04

Passwords are stored as argon2id hashes only. A co-financer account names its funder, an
applicant account its commune (INSEE code). Frozen on purpose: it does not import
console.web.accounts.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_account",
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("funder", sa.String(60), nullable=True),
        sa.Column("insee", sa.String(5), nullable=True),
        sa.Column("display_name", sa.String(200), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("console_account")
