"""Helpers shared by the event log contract suite: events to append and raw database access.

Raw SQL goes around the log on purpose: tests play the intruder.
"""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import sqlalchemy as sa
from hypothesis import strategies as st

from eventlog import EventLog, NewEvent, RecordedEvent
from eventlog.canonical import canonical_event
from eventlog.migrating import latest_revision

BASE_TIME = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
HEAD_REVISION = latest_revision()

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    max_leaves=10,
)
"""Any JSON value (no NaN): what an event's data may hold."""


def new_event(n: int = 0, *, type_: str = "AmountSet", days: int = 0, **data: Any) -> NewEvent:
    """A fresh event with a random id; ``days`` moves occurred_at after BASE_TIME."""
    return NewEvent(
        event_id=uuid.uuid4(),
        type=type_,
        data={"n": n, **data},
        occurred_at=BASE_TIME + timedelta(days=days),
    )


@dataclass
class Backend:
    """One database under test, with raw access for playing the intruder."""

    kind: str
    url: str
    search_path: str | None = None

    def open(self, **kwargs: Any) -> EventLog:
        """A new EventLog (its own connection pool) on this database."""
        return EventLog.from_url(self.url, search_path=self.search_path, **kwargs)

    @property
    def dsn(self) -> str:
        return self.url.replace("postgresql+asyncpg://", "postgresql://")

    async def execute(self, *statements: str) -> None:
        """Run raw SQL as the database owner, triggers active."""
        if self.kind == "sqlite":
            with sqlite3.connect(self.url.removeprefix("sqlite+aiosqlite:///")) as conn:
                for statement in statements:
                    conn.execute(statement)
            return
        conn = await asyncpg.connect(self.dsn, server_settings={"search_path": self.search_path})
        try:
            async with conn.transaction():
                for statement in statements:
                    await conn.execute(statement)
        finally:
            await conn.close()

    async def kill_pooled_connection(self, log: EventLog) -> None:
        """PostgreSQL: end the server side of the connection ``log`` keeps in its pool (a pool
        of one), as a restart or an administrator would, without the pool noticing."""
        async with log.engine.connect() as conn:
            pid = (await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one()
        killer = await asyncpg.connect(self.dsn)
        try:
            assert await killer.fetchval("SELECT pg_terminate_backend($1)", pid)
        finally:
            await killer.close()

    async def tamper(self, *statements: str) -> None:
        """Run raw SQL with the append-only triggers out of the way."""
        if self.kind == "postgresql":
            # Replica mode skips ordinary triggers; only a superuser may set it.
            await self.execute("SET LOCAL session_replication_role = replica", *statements)
            return
        path = self.url.removeprefix("sqlite+aiosqlite:///")
        with sqlite3.connect(path) as conn:
            triggers = conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
            ).fetchall()
            for name, _ in triggers:
                conn.execute(f"DROP TRIGGER {name}")
            for statement in statements:
                conn.execute(statement)
            for _, sql in triggers:
                conn.execute(sql)


def canonical_body(event: RecordedEvent, data: Any = None) -> str:
    """The canonical body of a recorded event, as verify rebuilds it; with other ``data`` to
    forge a row that hashes right."""
    return canonical_event(
        position=event.position,
        stream_id=event.stream_id,
        version=event.version,
        event_id=event.event_id,
        type_=event.type,
        schema_version=event.schema_version,
        occurred_at=event.occurred_at,
        data=event.data if data is None else data,
    )
