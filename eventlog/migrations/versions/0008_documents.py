"""The documents attached to files, by the SHA-256 of their bytes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

The file's ``DocumentAttached`` event holds each document's hash, inside the hash chain; this
table holds the bytes, keyed by that hash. Like the events, a stored document is evidence: no
row is ever changed or deleted (triggers refuse it). Frozen on purpose: it does not import
eventlog.documents.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TABLE = "eventlog_documents"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("size_bytes", sa.Integer, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        # eventlog_refuse_change() was created with the log (0001).
        op.execute(
            f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION eventlog_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
            "FOR EACH STATEMENT EXECUTE FUNCTION eventlog_refuse_change()"
        )
        return
    for operation in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {TABLE}_no_{operation.lower()} BEFORE {operation} ON {TABLE} "
            f"BEGIN SELECT RAISE(ABORT, 'the documents of the event log are kept as they were "
            f"attached: {operation} on {TABLE} is refused'); END"
        )


def downgrade() -> None:
    raise RuntimeError("the event log is evidence: its migrations are never downgraded")
