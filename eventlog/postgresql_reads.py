"""Whole-log reads on PostgreSQL straight through asyncpg, and the asyncpg connection under
a pooled SQLAlchemy one for every call that skips the adapter (the group append included).

Replay and verify are bounded by the client's cost per row; SQLAlchemy's result layer cost
about a third of verify's time, for values it hands over unchanged on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Literal

import asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection

from eventlog import clocks, schema


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
