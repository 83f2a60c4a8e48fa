"""Tables beside the log: the payment ledger (one row per disbursed payment) and the
notification outbox.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27

Frozen on purpose: it describes these tables as they were at revision 0002, so it does not
import activities.ledger or activities.outbox.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payment_ledger",
        sa.Column("idempotency_key", sa.String(160), primary_key=True),
        sa.Column("application_id", sa.String(120), nullable=False, index=True),
        sa.Column("payment_number", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("amount_cents", sa.BigInteger, nullable=False),
        sa.Column("reference", sa.String(64), nullable=False, unique=True),
        sa.Column("disbursed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "notification_outbox",
        sa.Column("message_id", sa.Uuid, primary_key=True),
        sa.Column("application_id", sa.String(120), nullable=False, index=True),
        sa.Column("recipient_role", sa.String(32), nullable=False),
        sa.Column("recipient", sa.String(254), nullable=False),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("notification_outbox")
    op.drop_table("payment_ledger")
