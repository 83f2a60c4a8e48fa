"""What differs between PostgreSQL and SQLite: connection setup and the append (the role's
privileges are ``eventlog.privileges``; the raw reads ``eventlog.postgresql_reads``).

Both appends serialise writers so positions are gap-free and in commit order:

* PostgreSQL: one call of the ``eventlog_append_group`` function (migration 0006) per group of
  batches (see ``eventlog.group_commit``). It locks the head row ``FOR UPDATE``, then for each
  batch checks the stream version, hashes with the built-in ``sha256()`` and inserts every row:
  lock, hash and insert in one round trip, in one autocommit statement.
* SQLite: the write transaction starts with ``BEGIN IMMEDIATE`` (one writer at a time for the
  whole database); the hashes are computed in Python inside that transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection as SyncConnection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from eventlog import schema
from eventlog.appending import PendingAppend, PreparedEvent
from eventlog.canonical import chain_hash
from eventlog.models import AppendResult
from eventlog.postgresql_reads import driver_of

WRITE_OPTION = "eventlog_write"
SQLITE_BUSY_TIMEOUT_MS = 30_000
WAL_SWITCH_ATTEMPTS = 3


def single_statements(engine: AsyncEngine) -> AsyncEngine:
    """The engine for work done in one statement: on PostgreSQL in autocommit, where each
    statement is its own transaction and ``begin()`` sends nothing, saving the BEGIN and the
    COMMIT (or ROLLBACK) round trips around it; on SQLite the engine as it is, whose "begin"
    hook takes the locks a write needs.

    Only for blocks of one statement: in autocommit, two statements are two transactions.
    """
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return engine


def configure_sqlite(engine: AsyncEngine) -> None:
    """Take over transaction control so writes can start with ``BEGIN IMMEDIATE``."""

    @sa.event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Stop the driver from issuing its own deferred BEGIN; the "begin" hook does it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # The busy timeout makes a connection queue behind another's lock instead of failing
        # at once with "database is locked"; it comes first so that the switch to WAL waits too.
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        switch_to_wal(cursor)
        cursor.close()

    @sa.event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: SyncConnection) -> None:
        # A deferred BEGIN would take the write lock only at the first INSERT, after we read
        # the head: two writers could then read the same head. IMMEDIATE locks up front.
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def switch_to_wal(cursor: Any) -> None:
    """Put the database in WAL mode, which lets readers proceed while one writer appends.

    The switch needs the file's exclusive lock. When two connections try it at the same moment
    (two processes opening a new log), each holds a shared lock the other must wait for, so
    SQLite refuses one of them at once, busy timeout or not; tried again, that one waits for
    the other's switch under the busy timeout like any other lock, and finds WAL in place.
    """
    for attempt in range(1, WAL_SWITCH_ATTEMPTS + 1):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode != sqlite3.SQLITE_BUSY or attempt == WAL_SWITCH_ATTEMPTS:
                raise


async def append_group_sqlite(
    conn: AsyncConnection, group: Sequence[PendingAppend]
) -> list[AppendResult | None]:
    """Append each batch of the group inside the caller's ``BEGIN IMMEDIATE`` transaction.

    A batch whose stream is not at its expected version, or whose event ids are already
    recorded, is refused (None) and the others still go in. Each batch is inserted before the
    next is checked, so two batches of one group see each other.
    """
    head = (await conn.execute(sa.select(schema.head.c.position, schema.head.c.hash))).one()
    position, prev_hash = head.position, head.hash
    recorded_at = datetime.now(UTC)
    outcomes: list[AppendResult | None] = []
    for pending in group:
        if not await _accepts(conn, pending):
            outcomes.append(None)
            continue
        first, rows = position + 1, []
        for item in pending.batch:
            position += 1
            digest = chain_hash(prev_hash, item.body.at(position))
            rows.append(_row(pending.stream_id, item, position, prev_hash, digest, recorded_at))
            prev_hash = digest
        await conn.execute(sa.insert(schema.events), rows)
        outcomes.append(_result(pending, first, position))
    if position != head.position:
        await conn.execute(
            sa.update(schema.head)
            .where(schema.head.c.id == 1)
            .values(position=position, hash=prev_hash)
        )
    return outcomes


async def _accepts(conn: AsyncConnection, pending: PendingAppend) -> bool:
    if await stream_version(conn, pending.stream_id) != pending.expected_version:
        return False
    ids = [item.event.event_id for item in pending.batch]
    query = sa.select(schema.events.c.position).where(schema.events.c.event_id.in_(ids))
    return (await conn.execute(query.limit(1))).first() is None


def _row(
    stream_id: str,
    item: PreparedEvent,
    position: int,
    prev_hash: str,
    digest: str,
    recorded_at: datetime,
) -> dict[str, Any]:
    return {
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


def _result(pending: PendingAppend, first: int, last: int) -> AppendResult:
    return AppendResult(
        stream_id=pending.stream_id,
        first_position=first,
        last_position=last,
        version=pending.expected_version + len(pending.batch),
    )


_PG_APPEND_GROUP = (
    "SELECT batch, refused, first_position, last_position FROM eventlog_append_group("
    "$1::text[], $2::integer[], $3::integer[], $4::integer[], $5::uuid[], $6::text[], "
    "$7::integer[], $8::timestamptz[], $9::text[], $10::text[], $11::text[])"
)


async def append_group_postgresql(
    conn: AsyncConnection, group: Sequence[PendingAppend]
) -> list[AppendResult | None]:
    """Append the whole group with one call of ``eventlog_append_group`` (one statement).

    The function locks the head, then checks, hashes and inserts batch by batch server-side;
    run on an autocommit connection, the call is its own transaction: one round trip and one
    WAL flush for every batch of the group. Refused batches come back as None.

    The call goes to asyncpg directly: through SQLAlchemy's adapter it cost 0.2 to 0.6 ms more
    per call, as much as the database's own work for a small group, and the appends are
    serialised. Errors are asyncpg's (see :func:`driver_of`).
    """
    items = [(number, item) for number, pending in enumerate(group, 1) for item in pending.batch]
    async with driver_of(conn) as driver:
        rows = await driver.fetch(
            _PG_APPEND_GROUP,
            [pending.stream_id for pending in group],
            [pending.expected_version for pending in group],
            [len(pending.batch) for pending in group],
            [number for number, _ in items],
            [item.event.event_id for _, item in items],
            [item.event.type for _, item in items],
            [item.event.schema_version for _, item in items],
            [item.event.occurred_at for _, item in items],
            [item.data_json for _, item in items],
            [item.body.head for _, item in items],
            [item.body.tail for _, item in items],
        )
    outcomes: list[AppendResult | None] = [None] * len(group)
    for batch, refused, first, last in rows:
        if not refused:
            outcomes[batch - 1] = _result(group[batch - 1], first, last)
    return outcomes


# Per stream with rows after the position, its last version at or before it: the unique
# (stream_id, version) index walked backwards from the stream's last version, a few rows each.
# The streams come from the rows after the position (the primary key's range); on SQLite,
# NOT INDEXED keeps them there (the rowid is no index), where the planner would otherwise
# walk the whole (stream_id, version) index to have them distinct without sorting.
_VERSIONS_REACHED = (
    "SELECT later.stream_id, (SELECT max(earlier.version) FROM {events} AS earlier "
    "WHERE earlier.stream_id = later.stream_id AND earlier.position <= :position) "
    "FROM (SELECT DISTINCT stream_id FROM {events}{hint} WHERE position > :position) AS later"
)


async def versions_reached(conn: AsyncConnection, position: int) -> dict[str, int]:
    """The version each stream had reached at ``position``, for the streams that have rows
    after it and had some by then: what a verification that starts after ``position``
    needs, in one query rather than a read of the log up to there."""
    hint = " NOT INDEXED" if conn.dialect.name == "sqlite" else ""
    query = sa.text(_VERSIONS_REACHED.format(events=schema.EVENTS, hint=hint))
    rows = (await conn.execute(query, {"position": position})).all()
    return {str(stream): int(version) for stream, version in rows if version is not None}


async def stream_version(conn: AsyncConnection, stream_id: str) -> int:
    """The stream's last version, 0 when it has no events."""
    query = sa.select(sa.func.coalesce(sa.func.max(schema.events.c.version), 0)).where(
        schema.events.c.stream_id == stream_id
    )
    return int((await conn.execute(query)).scalar_one())
