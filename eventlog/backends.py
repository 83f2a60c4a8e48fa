"""What differs between PostgreSQL and SQLite: connection setup, the append, privileges.

Both appends serialise writers so positions are gap-free and in commit order:

* PostgreSQL: one call of the ``eventlog_append`` function (created by the migration) per
  batch. It locks the head row ``FOR UPDATE``, checks the stream version, hashes with the
  built-in ``sha256()`` and inserts every row: lock, hash and insert in one round trip.
* SQLite: the write transaction starts with ``BEGIN IMMEDIATE`` (one writer at a time for the
  whole database); the hashes are computed in Python inside that transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection as SyncConnection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from eventlog import schema
from eventlog.appending import PreparedEvent
from eventlog.canonical import chain_hash
from eventlog.models import AppendResult

WRITE_OPTION = "eventlog_write"
SQLITE_BUSY_TIMEOUT_MS = 30_000


class VersionMismatch(Exception):
    """Internal: the stream is not at the expected version (becomes ConcurrencyError)."""


def configure_sqlite(engine: AsyncEngine) -> None:
    """Take over transaction control so writes can start with ``BEGIN IMMEDIATE``."""

    @sa.event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Stop the driver from issuing its own deferred BEGIN; the "begin" hook does it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # WAL lets readers proceed while one writer appends; the busy timeout makes writers
        # queue instead of failing at once with "database is locked".
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @sa.event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: SyncConnection) -> None:
        # A deferred BEGIN would take the write lock only at the first INSERT, after we read
        # the head: two writers could then read the same head. IMMEDIATE locks up front.
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


async def append_sqlite(
    conn: AsyncConnection, stream_id: str, expected: int, batch: Sequence[PreparedEvent]
) -> AppendResult:
    """Append inside the caller's ``BEGIN IMMEDIATE`` transaction."""
    head = (await conn.execute(sa.select(schema.head.c.position, schema.head.c.hash))).one()
    actual = await stream_version(conn, stream_id)
    if actual != expected:
        raise VersionMismatch
    position, prev_hash = head.position, head.hash
    recorded_at = datetime.now(UTC)
    rows = []
    for item in batch:
        position += 1
        digest = chain_hash(prev_hash, item.body.at(position))
        rows.append(
            {
                "position": position,
                "stream_id": stream_id,
                "version": item.version,
                "event_id": item.event.event_id,
                "type": item.event.type,
                "schema_version": item.event.schema_version,
                "occurred_at": item.event.occurred_at,
                "recorded_at": recorded_at,
                "data": item.data_json,
                "prev_hash": prev_hash,
                "hash": digest,
            }
        )
        prev_hash = digest
    await conn.execute(sa.insert(schema.events), rows)
    await conn.execute(
        sa.update(schema.head)
        .where(schema.head.c.id == 1)
        .values(position=position, hash=prev_hash)
    )
    return AppendResult(
        stream_id=stream_id,
        first_position=head.position + 1,
        last_position=position,
        version=expected + len(batch),
    )


_PG_APPEND = sa.text(
    "SELECT first_position, last_position, stream_version FROM eventlog_append("
    ":stream_id, :expected, CAST(:event_ids AS uuid[]), CAST(:types AS text[]), "
    "CAST(:schema_versions AS integer[]), CAST(:occurred_at AS timestamptz[]), "
    "CAST(:data AS text[]), CAST(:heads AS text[]), CAST(:tails AS text[]))"
)


async def append_postgresql(
    conn: AsyncConnection, stream_id: str, expected: int, batch: Sequence[PreparedEvent]
) -> AppendResult:
    """Append with one call of ``eventlog_append``: lock, check, hash and insert server-side."""
    row = (
        await conn.execute(
            _PG_APPEND,
            {
                "stream_id": stream_id,
                "expected": expected,
                "event_ids": [item.event.event_id for item in batch],
                "types": [item.event.type for item in batch],
                "schema_versions": [item.event.schema_version for item in batch],
                "occurred_at": [item.event.occurred_at for item in batch],
                "data": [item.data_json for item in batch],
                "heads": [item.body.head for item in batch],
                "tails": [item.body.tail for item in batch],
            },
        )
    ).one()
    return AppendResult(
        stream_id=stream_id,
        first_position=row.first_position,
        last_position=row.last_position,
        version=row.stream_version,
    )


async def stream_version(conn: AsyncConnection, stream_id: str) -> int:
    """The stream's last version, 0 when it has no events."""
    query = sa.select(sa.func.coalesce(sa.func.max(schema.events.c.version), 0)).where(
        schema.events.c.stream_id == stream_id
    )
    return int((await conn.execute(query)).scalar_one())


# The tables beside the log, and what the application may do to each. None of them may be
# emptied or rewritten: the ledger and checkpoints are append-only evidence; outbox rows are
# marked delivered (UPDATE); console accounts change password (UPDATE). No DELETE, no TRUNCATE.
APP_TABLES: dict[str, str] = {
    schema.VERSION_TABLE: "SELECT",
    "payment_ledger": "SELECT, INSERT",
    "notification_outbox": "SELECT, INSERT, UPDATE",
    "eventlog_checkpoints": "SELECT, INSERT",
    "console_account": "SELECT, INSERT, UPDATE",
}
APP_SEQUENCES = ("eventlog_checkpoints_id_seq",)


async def grant_app_role_postgresql(conn: AsyncConnection, role: str) -> None:
    """Let ``role`` read and append the log, and run the worker and console, in this schema.

    On the log the role gets SELECT and EXECUTE on ``eventlog_append`` (which runs as the
    owner, SECURITY DEFINER), and no INSERT, UPDATE, DELETE or TRUNCATE: even with the
    triggers disabled it cannot change history, nor append outside the chain. On the tables
    beside the log it gets what ``APP_TABLES`` lists, never DELETE or TRUNCATE.
    """
    quote = conn.dialect.identifier_preparer.quote
    name = quote(role)
    schema_name = (await conn.execute(sa.text("SELECT current_schema()"))).scalar_one()
    tables = f"{schema.EVENTS}, {schema.HEAD}"
    statements = [
        f"REVOKE ALL ON {tables} FROM {name}",
        f"GRANT USAGE ON SCHEMA {quote(schema_name)} TO {name}",
        f"GRANT SELECT ON {tables} TO {name}",
        f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {tables} FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION eventlog_append(text, integer, uuid[], text[], integer[], "
        f"timestamptz[], text[], text[], text[]) TO {name}",
    ]
    for table, privileges in APP_TABLES.items():
        statements += [
            f"REVOKE ALL ON {quote(table)} FROM {name}",
            f"GRANT {privileges} ON {quote(table)} TO {name}",
        ]
    statements += [f"GRANT USAGE ON SEQUENCE {quote(seq)} TO {name}" for seq in APP_SEQUENCES]
    for statement in statements:
        await conn.execute(sa.text(statement))
