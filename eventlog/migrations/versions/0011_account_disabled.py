"""Disabled accounts: a person who left signs in no more, and their name stays.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

A caseworker or a payment officer who leaves the service must lose the console at once.
Deleting the account would leave the log's events naming an actor no account explains (and
free the name for someone else); ``disabled_at`` keeps it, refused at sign-in and on every
request of a session already open. Frozen on purpose: it does not import console.web.accounts.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "console_account", sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("console_account", "disabled_at")
