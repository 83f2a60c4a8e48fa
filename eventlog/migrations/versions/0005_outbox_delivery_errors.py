"""The outbox records delivery failures: a notice refused for good is not retried forever.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05

``failed_at`` marks a notice refused for good (5xx, unknown recipient); ``last_error`` keeps
the last refusal or deferral (addresses masked). Frozen on purpose: it does not import
activities.outbox.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "notification_outbox", sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("notification_outbox", sa.Column("last_error", sa.Text, nullable=True))


def downgrade() -> None:
    op.drop_column("notification_outbox", "last_error")
    op.drop_column("notification_outbox", "failed_at")
