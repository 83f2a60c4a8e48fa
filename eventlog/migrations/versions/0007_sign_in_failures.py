"""Failed console sign-ins, counted in the database so every console replica sees them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05

One row per key (``account:NAME`` or ``address:IP``): how many failures in a row and when the
last one happened. The console's throttle reads them before checking a password; a success
deletes the account's row; rows a day old are deleted as new failures come. Frozen on
purpose: it does not import console.web.throttle.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_sign_in_failure",
        sa.Column("key", sa.String(300), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "console_sign_in_failure_last_failed_at", "console_sign_in_failure", ["last_failed_at"]
    )


def downgrade() -> None:
    op.drop_table("console_sign_in_failure")
