"""An index of the opinion requests: an expert's page finds the files asked of them without
reading the whole log.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06

``/avis`` lists the files where an opinion was asked of the expert signed in: the
``OpinionRequested`` events of the log. Without an index each load read every event of every
file (a sequential scan, growing with the log). The index is partial: only those events are in
it, so the appends of every other event pay nothing for it, and it stays a few pages for the
programme's lifetime. PostgreSQL and SQLite both have partial indexes.

Frozen on purpose: it does not import eventlog.schema.
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

INDEX = "eventlog_events_opinion_requests"


def upgrade() -> None:
    op.execute(
        f"CREATE INDEX {INDEX} ON eventlog_events (position) WHERE type = 'OpinionRequested'"
    )


def downgrade() -> None:
    op.execute(f"DROP INDEX {INDEX}")
