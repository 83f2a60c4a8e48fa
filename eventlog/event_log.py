"""The event log: append with optimistic concurrency, read streams and the whole log, verify.

One :class:`EventLog` wraps one SQLAlchemy async engine, chosen by URL:
``sqlite+aiosqlite:///path/to/log.db`` (the embedded default) or
``postgresql+asyncpg://user@host/db`` (production). See ``eventlog.canonical`` for the exact
bytes hashed and ``eventlog.backends`` for how appends are serialised.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, Self

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from eventlog import backends, clocks, schema
from eventlog.appending import PendingAppend, PreparedEvent, prepare_batch, resolve_existing
from eventlog.edge import masked, sqlstate, translated
from eventlog.errors import ConcurrencyError, EventLogError
from eventlog.group_commit import GroupCommitter, WriteGroup
from eventlog.migrating import (
    Upgrade,
    current_revision,
    one_upgrade_at_a_time,
    upgrade_to_head,
)
from eventlog.models import AppendResult, EventData, NewEvent, RecordedEvent, VerifyReport
from eventlog.reading import DATA_COLUMNS, ROW_COLUMNS, event_data, recorded
from eventlog.upcasting import Upcasters
from eventlog.verification import (
    FROM_GENESIS,
    VERIFIED_COLUMNS,
    ChainStart,
    Progress,
    verify_rows,
    verify_stream_rows,
)

# Unique violation (a concurrent writer took the version, or the event id exists) and a
# serialization failure: both lead to the rejection analysis.
_REJECTED_SQLSTATES = {"23505", "40001"}
# Rows per read while verifying: a few hundred kilobytes, few enough round trips not to count.
# Not more: on a table never analyzed (autovacuum off, a fresh restore), PostgreSQL guesses
# that a third of a few thousand rows match `position >= $1`, and for a larger LIMIT it sorted
# the whole table on every read (5,000 on a 38,000-row log: verify took twice as long).
_VERIFY_BATCH = 1000
# Rows handed to a reader between two turns of the event loop (see _rows).
_SLICE = 200
_STREAMS_OF_POSTGRESQL = backends.select_streams_postgresql(DATA_COLUMNS)
_events = schema.events


class EventLog:
    """An append-only, hash-chained event log on PostgreSQL or SQLite."""

    def __init__(self, engine: AsyncEngine, *, upcasters: Upcasters | None = None) -> None:
        """Wrap an engine made by :meth:`from_url` (which also configures SQLite)."""
        self._engine = engine
        self._writer = engine.execution_options(**{backends.WRITE_OPTION: True})
        # PostgreSQL appends are one statement each, their own transaction: no BEGIN/COMMIT.
        self._appender = backends.single_statements(self._writer)
        self._group = GroupCommitter(self._group_writer)
        self._upcasters = upcasters or Upcasters()
        self._postgres = engine.dialect.name == "postgresql"

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        search_path: str | None = None,
        upcasters: Upcasters | None = None,
        **engine_kwargs: Any,
    ) -> Self:
        """Open a log by URL; ``search_path`` puts a PostgreSQL log in that schema."""
        parsed = sa.make_url(url)
        backend = parsed.get_backend_name()
        if backend not in ("postgresql", "sqlite"):
            raise EventLogError(
                f"unsupported event log URL {masked(url)!r}: use postgresql or sqlite"
            )
        if search_path is not None:
            if backend != "postgresql":
                raise EventLogError("search_path only applies to a PostgreSQL event log")
            connect_args = engine_kwargs.setdefault("connect_args", {})
            connect_args.setdefault("server_settings", {})["search_path"] = search_path
        engine = create_async_engine(parsed, **engine_kwargs)
        if backend == "sqlite":
            backends.configure_sqlite(engine)
        return cls(engine, upcasters=upcasters)

    @property
    def engine(self) -> AsyncEngine:
        """The engine, for the tables that live beside the log (payment ledger, outbox)."""
        return self._engine

    async def migrate(self) -> Upgrade:
        """Create or upgrade the schema, triggers and functions (Alembic ``upgrade head``);
        the revision before and after."""
        with translated(self._engine.url):
            async with one_upgrade_at_a_time(), self._writer.begin() as conn:
                if self._postgres:
                    # Two processes starting at once must not both create the tables.
                    await conn.execute(sa.text("SELECT pg_advisory_xact_lock(4242424242)"))
                return await conn.run_sync(upgrade_to_head)

    async def revision(self) -> str | None:
        """The schema's revision in the database, None when the log's tables were never
        created there (``eventlog.migrating.latest_revision`` is what ``migrate`` leads to)."""
        with translated(self._engine.url):
            async with self._engine.connect() as conn:
                return await conn.run_sync(current_revision)

    async def missing_guards(self) -> tuple[str, ...]:
        """The append-only triggers (``schema.APPEND_ONLY_TRIGGERS``) that are not in place:
        dropped, or disabled on PostgreSQL. None missing: the database refuses to change or
        remove a row of the log to anyone but a superuser who switches them off."""
        if self._postgres:
            query = sa.text(
                "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal "
                "AND t.tgenabled <> 'D'"
            )
        else:
            query = sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        with translated(self._engine.url):
            async with self._engine.connect() as conn:
                present = set((await conn.execute(query)).scalars())
        expected = schema.APPEND_ONLY_TRIGGERS["postgresql" if self._postgres else "sqlite"]
        return tuple(name for name in expected if name not in present)

    async def close(self) -> None:
        """Finish the appends in flight, then close every pooled connection."""
        await self._group.wait_idle()
        await self._engine.dispose()

    async def append(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent]
    ) -> AppendResult:
        """Append a batch atomically if the stream is at ``expected_version``.

        Concurrent appends are written together (``eventlog.group_commit``); each batch still
        stands or falls alone. Retrying a recorded batch (same event ids, same content)
        returns the original result; raises ConcurrencyError, EventIdConflict, MalformedEvent
        or EventLogUnavailable.
        """
        batch = prepare_batch(stream_id, expected_version, events)
        with translated(self._engine.url):
            result = await self._group.submit(PendingAppend(stream_id, expected_version, batch))
            if result is not None:
                return result
            return await self._explain_rejection(stream_id, expected_version, batch)

    @asynccontextmanager
    async def _group_writer(self) -> AsyncIterator[WriteGroup]:
        """One connection that writes groups: autocommit on PostgreSQL (the function call is
        its own transaction), one ``BEGIN IMMEDIATE`` transaction per group on SQLite."""
        async with self._appender.connect() as conn:

            async def write(group: Sequence[PendingAppend]) -> list[AppendResult | None]:
                try:
                    if self._postgres:
                        return await backends.append_group_postgresql(conn, group)
                    async with conn.begin():
                        return await backends.append_group_sqlite(conn, group)
                except (sa.exc.DBAPIError, asyncpg.PostgresError) as error:
                    # A lone batch refused by a constraint (a concurrent writer outside this
                    # process took the version or the id): the caller explains it. In a group,
                    # the committer writes each batch alone to find which one it was.
                    refused = isinstance(
                        error, sa.exc.IntegrityError | asyncpg.IntegrityConstraintViolationError
                    ) or (sqlstate(error) in _REJECTED_SQLSTATES)
                    if refused and len(group) == 1:
                        return [None]
                    raise

            yield write

    async def _explain_rejection(
        self, stream_id: str, expected: int, batch: Sequence[PreparedEvent]
    ) -> AppendResult:
        """A refused batch is a retry (same ids), a conflict (ids reused) or a race."""
        ids = [item.event.event_id for item in batch]
        async with self._engine.connect() as conn:
            rows = (await conn.execute(sa.select(_events).where(_events.c.event_id.in_(ids)))).all()
            stored = {row.event_id: row for row in rows}
            original = resolve_existing(stream_id, batch, stored)
            if original is not None:
                return original
            actual = await backends.stream_version(conn, stream_id)
        raise ConcurrencyError(stream_id, expected, actual)

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
                    rows = await backends.fetch_rows_postgresql(
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
        order: backends.RowOrder = "position",
    ) -> AsyncGenerator[Sequence[Any]]:
        """Slices of batches of rows (``columns`` named, position first), in position order
        from position ``start`` on, or in stream order (stream id, then version; ``start``
        None: from the first stream).

        ``occurred_at_as_text``: on PostgreSQL, that column comes as the server's rendering of
        its canonical text (``backends.CANONICAL_OCCURRED_AT``); elsewhere as a datetime."""
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
        raw_query = backends.select_rows_postgresql(
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
                        return await backends.fetch_rows_postgresql(conn, raw_query, *cursor)
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

    async def verify(
        self,
        *,
        progress: Progress | None = None,
        clock_tolerance: timedelta = clocks.DEFAULT_TOLERANCE,
        after: tuple[int, str] | None = None,
    ) -> VerifyReport:
        """Recompute the whole chain from stored data; name the first bad position if any.
        Beside it, check the rows' ``recorded_at`` for sense (``eventlog.clocks``), which is
        no fault of the chain: ``VerifyReport.clocks``.

        ``after=(position, hash)``: take the rows up to ``position`` as sound without reading
        them (a signed checkpoint vouches for them) and recompute only those after it, chained
        from ``hash``, each stream's versions going on from the last it had there. The row at
        ``position`` must hold that hash, else that position is the fault found.

        ``progress(checked, total)`` is called after each event, for long verifications.
        """
        head = await self.head()
        if after is None:
            start = FROM_GENESIS
            with translated(self._engine.url):
                async with self._engine.connect() as conn:
                    count = sa.select(sa.func.count()).select_from(_events)
                    total = int((await conn.execute(count)).scalar_one())
        else:
            found = await self._chain_start(*after)
            if isinstance(found, str):
                return VerifyReport(
                    ok=False,
                    checked=0,
                    head_position=head[0],
                    first_bad_position=after[0],
                    problem=found,
                )
            # Counting the rows would read the whole table's index: the head says how many.
            start, total = found, max(head[0] - after[0], 0)
        columns = (*VERIFIED_COLUMNS, *clocks.COLUMNS)
        rows = self._rows(start.position + 1, _VERIFY_BATCH, columns, occurred_at_as_text=True)
        async with contextlib.aclosing(rows) as batches:
            return await verify_rows(batches, head, total, progress, clock_tolerance, start)

    async def _chain_start(self, position: int, hash_: str) -> ChainStart | str:
        """Where a verification after ``position`` starts: that row's ``recorded_at``, and
        the last version at or before it of each stream that has rows after it (one query);
        or why it cannot start there (no row, or another hash)."""
        recorded = clocks.recorded_epoch(postgres=self._postgres)
        at = sa.select(_events.c.hash, recorded).where(_events.c.position == position)
        with translated(self._engine.url):
            async with self._engine.connect() as conn:
                row = (await conn.execute(at)).first()
                if row is None or row[0] != hash_:
                    what = "no row there" if row is None else "another hash is stored there"
                    return (
                        f"position {position}: {what}, not the one verification was to start "
                        f"from (the log rewritten or cut at or before position {position}?)"
                    )
                versions = await backends.versions_reached(conn, position)
        return ChainStart(position, hash_, versions, float(row[1]))

    async def verify_stream(self, stream_id: str) -> VerifyReport:
        """Check one stream's events where they sit in the chain, at the cost of reading
        them and their neighbours (``verification.verify_stream_rows`` says what that proves).

        For a page about one file: the whole chain's verification grows with the log.
        """
        head = await self.head()
        in_log = _events.c.position <= head[0]  # appends made meanwhile are not judged
        columns = [_events.c[name] for name in VERIFIED_COLUMNS]
        with translated(self._engine.url):
            async with self._engine.connect() as conn:
                rows = (
                    await conn.execute(
                        sa.select(*columns)
                        .where(_events.c.stream_id == stream_id, in_log)
                        .order_by(_events.c.version)
                    )
                ).all()
                last = rows[-1][0] if rows else head[0]
                # Only rows after the stream's last one: the one place where a row of this
                # stream could go missing without breaking its versions or its links.
                after = (
                    await conn.execute(
                        sa.select(sa.func.count()).where(_events.c.position > last, in_log)
                    )
                ).scalar_one()
                around = {p + step for (p, *_) in rows for step in (-1, 1)}
                links = {
                    position: (prev_hash, hash_)
                    for position, prev_hash, hash_ in (
                        await conn.execute(
                            sa.select(
                                _events.c.position, _events.c.prev_hash, _events.c.hash
                            ).where(_events.c.position.in_(sorted(around)), in_log)
                        )
                    ).all()
                }
        return verify_stream_rows([tuple(row) for row in rows], links, head, int(after))

    async def stream_ids(self) -> list[str]:
        """Every stream id that has at least one event, sorted."""
        query = sa.select(_events.c.stream_id).distinct().order_by(_events.c.stream_id)
        with translated(self._engine.url):
            async with self._engine.connect() as conn:
                return list((await conn.execute(query)).scalars())

    async def grant_app_role(self, role: str) -> None:
        """PostgreSQL: let ``role`` read and append only (see ``backends``); run as owner."""
        if not self._postgres:
            raise EventLogError("roles and privileges exist only on a PostgreSQL event log")
        with translated(self._engine.url):
            async with self._engine.begin() as conn:
                await backends.grant_app_role_postgresql(conn, role)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    def _recorded(self, row: Sequence[Any]) -> RecordedEvent:
        # Every column of the table, in its order (eventlog.reading.ROW_COLUMNS).
        return recorded(row, self._upcasters)
