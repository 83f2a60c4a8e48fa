"""What differs between PostgreSQL and SQLite: connection setup, the append, privileges.

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
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Literal

import asyncpg
import sqlalchemy as sa
from sqlalchemy.engine import Connection as SyncConnection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from eventlog import clocks, schema
from eventlog.appending import PendingAppend, PreparedEvent
from eventlog.canonical import chain_hash
from eventlog.models import AppendResult

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


@asynccontextmanager
async def driver_of(conn: AsyncConnection) -> AsyncIterator[asyncpg.Connection]:
    """The asyncpg connection under a pooled SQLAlchemy one, for calls that skip the adapter.

    Errors raised inside are asyncpg's. A connection found dead is dropped from the pool here,
    since SQLAlchemy did not see it fail, and reported as ``ConnectionDoesNotExistError``
    (which ``eventlog.edge`` turns into ``EventLogUnavailable``).
    """
    driver = (await conn.get_raw_connection()).driver_connection
    assert driver is not None, "a pooled connection always has its asyncpg connection"
    try:
        yield driver
    except Exception as error:
        if driver.is_closed():
            await conn.invalidate()
            raise asyncpg.ConnectionDoesNotExistError(f"connection lost: {error}") from error
        raise


# ``occurred_at`` as the canonical form writes it (``eventlog.canonical.format_timestamp``),
# rendered by the server: formatting a timestamp in Python cost verify a third of its time per
# row. asyncpg writes and reads the first and last microseconds Python knows (years 1 and 9999)
# as -infinity and infinity, so those are rendered as the datetimes asyncpg maps them to.
# ``to_char`` writes a year before Christ as the same digits as the year after, so those come
# back NULL, and a year after 9999 in five digits: neither ever matches a canonical body.
CANONICAL_OCCURRED_AT = (
    "CASE WHEN occurred_at = 'infinity' THEN '9999-12-31T23:59:59.999999Z' "
    "WHEN occurred_at = '-infinity' THEN '0001-01-01T00:00:00.000000Z' "
    "WHEN occurred_at >= '0001-01-01 00:00:00+00' THEN "
    "to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') END"
)


RowOrder = Literal["position", "stream"]
"""Whole-log reads go in position order, or stream by stream (stream id, then version)."""


def select_rows_postgresql(
    columns: Sequence[str],
    limit: int,
    *,
    occurred_at_as_text: bool = False,
    order: RowOrder = "position",
) -> str:
    """The keyset read of ``columns`` of the log's rows in ``order``: from position ``$1`` on,
    or after stream ``$1``'s version ``$2``; ``occurred_at`` as its canonical text when asked
    (see ``CANONICAL_OCCURRED_AT``), and the clocks' columns of ``eventlog.clocks``."""
    listed = _listed(columns, occurred_at_as_text=occurred_at_as_text)
    if order == "stream":
        # A row comparison: PostgreSQL walks the (stream_id, version) unique index.
        where, ordering = '("stream_id", "version") > ($1, $2)', '"stream_id", "version"'
    else:
        where, ordering = '"position" >= $1', '"position"'
    return (
        f"SELECT {listed} FROM {schema.EVENTS} WHERE {where} "  # noqa: S608
        f"ORDER BY {ordering} LIMIT {int(limit)}"
    )


def select_streams_postgresql(columns: Sequence[str]) -> str:
    """The read of ``columns`` of every row of the streams named in ``$1`` (a text array),
    stream by stream in version order: a page of files' events at once, for
    :func:`fetch_rows_postgresql`."""
    return (
        f"SELECT {_listed(columns)} FROM {schema.EVENTS} "  # noqa: S608
        'WHERE "stream_id" = ANY($1::text[]) ORDER BY "stream_id", "version"'
    )


def _listed(columns: Sequence[str], *, occurred_at_as_text: bool = False) -> str:
    # Only the table's own column names or the clocks' (KeyError for any other) go in.
    return ", ".join(
        CANONICAL_OCCURRED_AT
        if name == "occurred_at" and occurred_at_as_text
        else clocks.POSTGRESQL.get(name) or f'"{schema.events.c[name].name}"'
        for name in columns
    )


async def fetch_rows_postgresql(
    conn: AsyncConnection, query: str, *cursor: Any
) -> list[asyncpg.Record]:
    """Run a :func:`select_rows_postgresql` or :func:`select_streams_postgresql` query on
    asyncpg directly.

    Whole-log reads (replay, verify) are bounded by the client's cost per row: SQLAlchemy's
    result layer cost about a third of verify's time, for values it hands over unchanged on
    PostgreSQL (``UTCDateTime`` returns asyncpg's UTC timestamps as they are).
    """
    async with driver_of(conn) as driver:
        rows: list[asyncpg.Record] = await driver.fetch(query, *cursor)
    return rows


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


# The tables beside the log, and what the application may do to each. None of the records may
# be emptied or rewritten: the ledger and checkpoints are append-only evidence; outbox rows are
# marked delivered (UPDATE); console accounts change password (UPDATE). No DELETE, no TRUNCATE,
# but on the sign-in throttle's counters: counts of failed attempts, forgotten after a day.
APP_TABLES: dict[str, str] = {
    schema.VERSION_TABLE: "SELECT",
    "payment_ledger": "SELECT, INSERT",
    "notification_outbox": "SELECT, INSERT, UPDATE",
    "eventlog_checkpoints": "SELECT, INSERT",
    "eventlog_documents": "SELECT, INSERT",
    "console_account": "SELECT, INSERT, UPDATE",
    "console_sign_in_failure": "SELECT, INSERT, UPDATE, DELETE",
}
# The group append, and the one-stream append that a worker of the previous release still
# calls during a rolling upgrade.
APPEND_FUNCTIONS = (
    "eventlog_append_group(text[], integer[], integer[], integer[], uuid[], text[], integer[], "
    "timestamptz[], text[], text[], text[])",
    "eventlog_append(text, integer, uuid[], text[], integer[], timestamptz[], text[], text[], "
    "text[])",
)
APP_SEQUENCES = ("eventlog_checkpoints_id_seq",)


async def grant_app_role_postgresql(conn: AsyncConnection, role: str) -> None:
    """Let ``role`` read and append the log, and run the worker and console, in this schema.

    On the log the role gets SELECT and EXECUTE on the append functions (which run as the
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
        *(f"GRANT EXECUTE ON FUNCTION {function} TO {name}" for function in APPEND_FUNCTIONS),
    ]
    for table, privileges in APP_TABLES.items():
        statements += [
            f"REVOKE ALL ON {quote(table)} FROM {name}",
            f"GRANT {privileges} ON {quote(table)} TO {name}",
        ]
    statements += [f"GRANT USAGE ON SEQUENCE {quote(seq)} TO {name}" for seq in APP_SEQUENCES]
    for statement in statements:
        await conn.execute(sa.text(statement))
