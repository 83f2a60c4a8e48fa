"""Departments: the sector of a caseworker's or supervisor's account, and the department of
each notice, so that a pool's mail goes to that department's service.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06

A préfecture or a DDT instructs the files of its department (DETR, DSIL): its people read
and act on those files only, and the notices meant for a pool (the caseworkers of a file
nobody holds yet) reach that department's service when the directory names one. Account
codes are kept comma-separated (``01,38``); none means the whole programme, as every account
had before. Frozen on purpose: it imports neither console.web.accounts nor activities.outbox.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("console_account", sa.Column("departments", sa.String(400), nullable=True))
    op.add_column("notification_outbox", sa.Column("department", sa.String(3), nullable=True))


def downgrade() -> None:
    op.drop_column("notification_outbox", "department")
    op.drop_column("console_account", "departments")
