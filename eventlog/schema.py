"""SQLAlchemy Core description of the log's tables, as the code reads and writes them.

The database objects themselves (tables, triggers, the PostgreSQL append function) are
created by the Alembic migrations in ``eventlog/migrations``; this module must match them.

* ``eventlog_events``: one row per event. ``position`` is the primary key (global, gap-free);
  ``(stream_id, version)`` is unique and *is* the optimistic-concurrency check; ``event_id``
  is unique and makes retries idempotent. ``data`` is the canonical JSON text that was hashed,
  kept as text so the stored bytes are exactly the ones the chain vouches for.
* ``eventlog_head``: a single row (id = 1) holding the last position and hash. Appends lock
  it, which serialises them and gives positions in commit order.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

EVENTS = "eventlog_events"
HEAD = "eventlog_head"
APPEND_FUNCTION = "eventlog_append"
VERSION_TABLE = "eventlog_alembic_version"


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Timestamps stored in UTC and always read back timezone-aware.

    SQLite has no time zone type: SQLAlchemy would store and return naive values, so we
    normalise to UTC on the way in and attach UTC on the way out.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return as_utc(value)


def as_utc(value: datetime) -> datetime:
    """A stored timestamp as read, in UTC: a naive one is UTC already.

    asyncpg reads -infinity as a naive ``datetime.min``; SQLite has no time zones at all."""
    if value.tzinfo is UTC:  # asyncpg's timestamptz: nothing to do, on every row read
        return value
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = sa.MetaData()

events = sa.Table(
    EVENTS,
    metadata,
    sa.Column("position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column("stream_id", sa.String(255), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("event_id", sa.Uuid, nullable=False, unique=True),
    sa.Column("type", sa.String(255), nullable=False),
    sa.Column("schema_version", sa.Integer, nullable=False),
    sa.Column("occurred_at", UTCDateTime, nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.UniqueConstraint("stream_id", "version", name="eventlog_events_stream_version_key"),
)
opinion_requests = sa.Index(
    "eventlog_events_opinion_requests",
    events.c.position,
    postgresql_where=events.c.type == "OpinionRequested",
    sqlite_where=events.c.type == "OpinionRequested",
)
"""The experts' page reads these events only (migration 0010): partial, so no other append
pays for it."""

head = sa.Table(
    HEAD,
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)


GUARDED = ("eventlog_events", "eventlog_head", "eventlog_checkpoints", "eventlog_documents")
APPEND_ONLY_TRIGGERS = {
    "postgresql": tuple(
        f"{table}_{kind}" for table in GUARDED for kind in ("append_only", "no_truncate")
    ),
    "sqlite": (
        "eventlog_events_no_update",
        "eventlog_events_no_delete",
        "eventlog_head_no_delete",
        "eventlog_checkpoints_no_update",
        "eventlog_checkpoints_no_delete",
        "eventlog_documents_no_update",
        "eventlog_documents_no_delete",
    ),
}
"""The triggers migrations 0001, 0003 and 0008 create so that no row of the log is changed
or removed, by dialect: dropped or disabled, the database no longer refuses tampering (the
chain still reveals it)."""
