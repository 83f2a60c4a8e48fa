"""The event log's reads: a stream, the whole log, every stream in turn, a page of streams,
the first values of streams, the head.

:class:`LogReader` holds the engine and the upcasters; :class:`eventlog.event_log.EventLog`
builds on it (appends, schema, verification through ``eventlog.log_verifier``) and is the
class to use. Whole-log reads go by keyset pagination (:meth:`LogReader._rows`): bounded
memory, no connection held while the consumer works.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from eventlog import backends, clocks, postgresql_reads, schema
from eventlog.edge import translated
from eventlog.models import EventData, RecordedEvent
from eventlog.reading import DATA_COLUMNS, ROW_COLUMNS, event_data, recorded
from eventlog.upcasting import Upcasters

# Rows handed to a reader between two turns of the event loop (see _rows).
_SLICE = 200
_STREAMS_OF_POSTGRESQL = postgresql_reads.select_streams_postgresql(DATA_COLUMNS)
_events = schema.events


class LogReader:
    """The reads of an event log on PostgreSQL or SQLite, events upcast."""

    def __init__(self, engine: AsyncEngine, *, upcasters: Upcasters | None = None) -> None:
        self._engine = engine
        self._upcasters = upcasters or Upcasters()
        self._postgres = engine.dialect.name == "postgresql"

    async def stream_version(self, stream_id: str) -> int:
        """The stream's current version: its number of events, 0 when empty."""
        with translated(self._engine.url):
            async with self._engine.connect() as conn:
                return await backends.stream_version(conn, stream_id)

    async def read_stream(
        self,
        stream_id: str,
        *,
        up_to_position: int | None = None,
        until: datetime | None = None,
    ) -> list[RecordedEvent]:
        """The stream's events in version order, upcast.

        ``up_to_position`` keeps events at or before that global position (the log as it
        stood then); ``until`` keeps events whose ``occurred_at`` is at or before that
        moment (the business "as of" date, not the database's recording time).
        """
        if until is not None and until.utcoffset() is None:
            raise ValueError("until must be timezone-aware (e.g. datetime(..., tzinfo=UTC))")
        query = sa.select(_events).where(_events.c.stream_id == stream_id)
        if up_to_position is not None:
            query = query.where(_events.c.position <= up_to_position)
        if until is not None:
            query = query.where(_events.c.occurred_at <= until)
        with translated(self._engine.url):
            async with self._engine.connect() as conn:
                rows = (await conn.execute(query.order_by(_events.c.version))).all()
        return [self._recorded(row) for row in rows]

    async def read_all(
        self, from_position: int = 1, *, batch_size: int = 1000
    ) -> AsyncGenerator[RecordedEvent]:
        """Every event from ``from_position`` on, upcast, fetched ``batch_size`` at a time."""
        batches = self._rows(from_position, batch_size, ROW_COLUMNS)
        async with contextlib.aclosing(batches):
            async for rows in batches:
                for row in rows:
                    yield self._recorded(row)

    async def read_streams(self, *, batch_size: int = 1000) -> AsyncIterator[list[RecordedEvent]]:
        """Every stream's events, one stream at a time: streams in id order (as
        ``stream_ids``), each stream's events in version order, upcast.

        For work over the whole log that needs a stream's events together (folding every
        file to its state): only the stream at hand is held, not one entry per stream, so
        memory stays that of one stream and two batches however long the log is.
        """
        stream: list[RecordedEvent] = []
        batches = self._rows(None, batch_size, ROW_COLUMNS, order="stream")
        async with contextlib.aclosing(batches):
            async for rows in batches:
                for row in rows:
                    record = self._recorded(row)
                    if stream and record.stream_id != stream[0].stream_id:
                        yield stream
                        stream = []
                    stream.append(record)
        if stream:
            yield stream

    async def read_streams_data(
        self, *, batch_size: int = 1000
    ) -> AsyncIterator[tuple[str, list[EventData]]]:
        """Each stream's id and its events' positions, business dates and data (upcast), in
        the order of ``read_streams``: what folding every file needs, at about two thirds of
        the cost of whole records (``EventData``)."""
        stream_id: str | None = None
        stream: list[EventData] = []
        batches = self._rows(None, batch_size, DATA_COLUMNS, order="stream")
        async with contextlib.aclosing(batches):
            async for rows in batches:
                for row in rows:
                    if row[1] != stream_id:
                        if stream_id is not None:
                            yield stream_id, stream
                        stream_id, stream = row[1], []
                    stream.append(event_data(row, self._upcasters))
        if stream_id is not None:
            yield stream_id, stream

    async def read_streams_of(self, stream_ids: Sequence[str]) -> dict[str, list[EventData]]:
        """These streams' events as ``read_streams_data`` gives them (positions, business
        dates and data, upcast), each stream in version order, in one read: what folding a
        page of files needs. A stream without events is left out."""
        if not stream_ids:
            return {}
        query = (
            sa.select(*(_events.c[name] for name in DATA_COLUMNS))
            .where(_events.c.stream_id.in_(list(stream_ids)))
            .order_by(_events.c.stream_id, _events.c.version)
        )
        with translated(self._engine.url):
            async with self._engine.connect() as conn:
                rows: Sequence[Sequence[Any]]
                if self._postgres:  # past SQLAlchemy's result layer, as the whole-log reads
                    rows = await postgresql_reads.fetch_rows_postgresql(
                        conn, _STREAMS_OF_POSTGRESQL, list(stream_ids)
                    )
                else:
                    rows = (await conn.execute(query)).all()
        streams: dict[str, list[EventData]] = {}
        for row in rows:
            streams.setdefault(row[1], []).append(event_data(row, self._upcasters))
        return streams

    async def first_texts(self, stream_ids: Sequence[str], path: Sequence[str]) -> dict[str, str]:
        """The value at ``path`` in the data of each of these streams' first event, as text,
        read in one query without fetching the rest of each event (a file's submission holds
        its programme's whole snapshot): what a listing shows of each file, such as its title.

        As stored: no upcaster runs. A stream without a first event, or without a value at
        ``path``, is left out."""
        if not stream_ids:
            return {}
        query = self._first_values(path).where(_events.c.stream_id.in_(list(stream_ids)))
        with translated(self._engine.url):
            async with self._engine.connect() as conn:
                rows = (await conn.execute(query)).all()
        return {stream_id: text for _, stream_id, text in rows if text is not None}

    async def first_texts_after(
        self, position: int, path: Sequence[str]
    ) -> list[tuple[int, str, str]]:
        """(position, stream id, value at ``path``) of each stream whose first event lies
        after ``position``, in log order: what an index of the streams' first values (a search
        by title) reads to catch up, the log being append-only. As ``first_texts`` reads."""
        query = self._first_values(path).where(_events.c.position > position)
        with translated(self._engine.url):
            async with self._engine.connect() as conn:
                rows = (await conn.execute(query.order_by(_events.c.position))).all()
        return [(row[0], row[1], row[2]) for row in rows if row[2] is not None]

    def _first_values(self, path: Sequence[str]) -> sa.Select[int, str, str | None]:
        # SQLite reads JSON from text as it is; PostgreSQL needs the text cast to json.
        as_json = sa.cast if self._engine.dialect.name == "postgresql" else sa.type_coerce
        value = as_json(_events.c.data, sa.JSON)[tuple(path)].as_string()
        return sa.select(_events.c.position, _events.c.stream_id, value).where(
            _events.c.version == 1
        )

    async def _rows(
        self,
        start: int | None,
        batch_size: int,
        columns: Sequence[str],
        *,
        occurred_at_as_text: bool = False,
        order: postgresql_reads.RowOrder = "position",
    ) -> AsyncGenerator[Sequence[Any]]:
        """Slices of batches of rows (``columns`` named, position first), in position order
        from position ``start`` on, or in stream order (stream id, then version; ``start``
        None: from the first stream).

        ``occurred_at_as_text``: on PostgreSQL, that column comes as the server's rendering of
        its canonical text (``postgresql_reads.CANONICAL_OCCURRED_AT``); elsewhere as a datetime."""
        # Keyset pagination, one short read per batch: memory stays bounded (two batches) and
        # no connection is held while the consumer works on a batch, but for the read of the
        # next one, started as soon as a batch arrives so the database works while Python does.
        # The batch is handed over in slices, and the event loop runs between them: a consumer
        # working through a whole batch would otherwise stall the read ahead until it is done.
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        by_stream = order == "stream"
        key = sa.tuple_(_events.c.stream_id, _events.c.version) if by_stream else _events.c.position
        ordering = (_events.c.stream_id, _events.c.version) if by_stream else (_events.c.position,)
        derived = clocks.sqlite_columns()  # the SQLite read only: PostgreSQL's is raw_query
        selected = (
            sa.select(*(derived[n] if n in derived else _events.c[n] for n in columns))
            .order_by(*ordering)
            .limit(batch_size)
        )
        raw_query = postgresql_reads.select_rows_postgresql(
            columns, batch_size, occurred_at_as_text=occurred_at_as_text, order=order
        )

        def after(row: Sequence[Any]) -> tuple[Any, ...]:
            """The cursor of the batch that follows ``row``."""
            if by_stream:
                return (row[columns.index("stream_id")], row[columns.index("version")])
            return (row[0] + 1,)

        async def fetch(cursor: tuple[Any, ...]) -> Sequence[Any]:
            with translated(self._engine.url):
                async with self._engine.connect() as conn:
                    if self._postgres:
                        return await postgresql_reads.fetch_rows_postgresql(
                            conn, raw_query, *cursor
                        )
                    where = key > sa.tuple_(*cursor) if by_stream else key >= cursor[0]
                    return (await conn.execute(selected.where(where))).all()

        # Versions start at 1: every row of any stream comes after ("", 0).
        rows = await fetch(("", 0) if by_stream else (start,))
        following: asyncio.Task[Sequence[Any]] | None = None
        try:
            while rows:
                if len(rows) == batch_size:
                    following = asyncio.ensure_future(fetch(after(rows[-1])))
                for start in range(0, len(rows), _SLICE):
                    await asyncio.sleep(0)
                    yield rows[start : start + _SLICE]
                pending, following = following, None
                rows = await pending if pending is not None else ()
        finally:
            if following is not None:
                # The consumer stopped early: let the read in flight hand its connection back
                # (cancelling it mid-query would cost the connection); its rows are not wanted.
                with contextlib.suppress(Exception):
                    await following

    async def head(self) -> tuple[int, str]:
        """The last position and its hash; ``(0, GENESIS)`` for an empty log."""
        with translated(self._engine.url):
            async with self._engine.connect() as conn:
                row = (
                    await conn.execute(sa.select(schema.head.c.position, schema.head.c.hash))
                ).one()
        return int(row.position), str(row.hash)

    async def stream_ids(self) -> list[str]:
        """Every stream id that has at least one event, sorted."""
        query = sa.select(_events.c.stream_id).distinct().order_by(_events.c.stream_id)
        with translated(self._engine.url):
            async with self._engine.connect() as conn:
                return list((await conn.execute(query)).scalars())

    def _recorded(self, row: Sequence[Any]) -> RecordedEvent:
        # Every column of the table, in its order (eventlog.reading.ROW_COLUMNS).
        return recorded(row, self._upcasters)
