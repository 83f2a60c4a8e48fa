"""Sessions an account ends: signing out, a password reset or a new role end its open ones.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07

The console's session cookie is stateless (signed, 12 hours): signing out only gave that
browser a new cookie, and a copied cookie stayed valid after the sign-out, after an operator
reset the password (``guichet user add … --replace``) or changed the role. ``sessions_valid_after``
is the moment before which no session of the account counts any more: the console compares
each cookie's issue time with it on every request. NULL (every account before this
revision): its sessions end only by age, as before. Frozen on purpose: it does not import
console.web.accounts.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "console_account",
        sa.Column("sessions_valid_after", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("console_account", "sessions_valid_after")
