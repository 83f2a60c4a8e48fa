"""How each notice was delivered: mailed by SMTP, or only written to the worker's log.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

Without ``GUICHET_SMTP_HOST`` a worker "delivers" a notice as a log line and marks it
delivered, so nothing told a notice mailed from one nobody received: a deployment whose
ConfigMap left the host empty lost every notice while ``guichet status`` said « every notice
delivered ». ``delivered_by`` says which: ``smtp`` or ``log``, set with ``delivered_at``
(NULL while the notice waits or once it is refused).

Rows delivered before this revision count as mailed (``smtp``): which of them were only
logged was never recorded, and a status failing on them for a day would accuse a mail server
that works. Workers of the earlier release, still running during a rolling update, leave the
column empty, which counts as mailed too. Frozen on purpose: it does not import activities.outbox.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("notification_outbox", sa.Column("delivered_by", sa.String(8), nullable=True))
    outbox = sa.table("notification_outbox", sa.column("delivered_at"), sa.column("delivered_by"))
    op.execute(
        outbox.update().where(outbox.c.delivered_at.is_not(None)).values(delivered_by="smtp")
    )


def downgrade() -> None:
    op.drop_column("notification_outbox", "delivered_by")
