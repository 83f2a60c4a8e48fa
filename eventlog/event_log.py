"""The event log: open it, migrate it, append with optimistic concurrency, close it.

One :class:`EventLog` wraps one SQLAlchemy async engine, chosen by URL:
``sqlite+aiosqlite:///path/to/log.db`` (the embedded default) or
``postgresql+asyncpg://user@host/db`` (production). Its reads are those of
``eventlog.log_reader``, its verification that of ``eventlog.log_verifier``. See
``eventlog.canonical`` for the exact bytes hashed and ``eventlog.backends`` for how appends
are serialised.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Self

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from eventlog import backends, privileges, schema
from eventlog.appending import PendingAppend, PreparedEvent, prepare_batch, resolve_existing
from eventlog.edge import masked, sqlstate, translated
from eventlog.errors import ConcurrencyError, EventLogError
from eventlog.group_commit import GroupCommitter, WriteGroup
from eventlog.log_verifier import LogVerifier
from eventlog.migrating import (
    Upgrade,
    current_revision,
    one_upgrade_at_a_time,
    upgrade_to_head,
)
from eventlog.models import AppendResult, NewEvent
from eventlog.upcasting import Upcasters

# Unique violation (a concurrent writer took the version, or the event id exists) and a
# serialization failure: both lead to the rejection analysis.
_REJECTED_SQLSTATES = {"23505", "40001"}
_events = schema.events


class EventLog(LogVerifier):
    """An append-only, hash-chained event log on PostgreSQL or SQLite."""

    def __init__(self, engine: AsyncEngine, *, upcasters: Upcasters | None = None) -> None:
        """Wrap an engine made by :meth:`from_url` (which also configures SQLite)."""
        super().__init__(engine, upcasters=upcasters)
        self._writer = engine.execution_options(**{backends.WRITE_OPTION: True})
        # PostgreSQL appends are one statement each, their own transaction: no BEGIN/COMMIT.
        self._appender = backends.single_statements(self._writer)
        self._group = GroupCommitter(self._group_writer)

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

    async def grant_app_role(self, role: str) -> None:
        """PostgreSQL: let ``role`` read and append only (see ``privileges``); run as owner."""
        if not self._postgres:
            raise EventLogError("roles and privileges exist only on a PostgreSQL event log")
        with translated(self._engine.url):
            async with self._engine.begin() as conn:
                await privileges.grant_app_role_postgresql(conn, role)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()
