"""Fixtures for the event log contract suite: every test runs on SQLite and on PostgreSQL.

Each PostgreSQL test gets a fresh schema, reached through ``EventLog.from_url(...,
search_path=...)`` (asyncpg ignores the ``options`` query string, so the shared
``pg_schema_url`` fixture is not used).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
import pytest
from eventlog_support import Backend

from eventlog import EventLog


@pytest.fixture(params=["sqlite", "postgresql"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    """An empty, unmigrated database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield Backend("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'events.db'}")
        return
    pg_url: str = request.getfixturevalue("pg_url")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    dsn = pg_url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    await conn.execute(f'CREATE SCHEMA "{schema}"')
    await conn.close()
    yield Backend("postgresql", pg_url, schema)
    conn = await asyncpg.connect(dsn)
    await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    await conn.close()


@pytest.fixture
async def log(backend: Backend) -> AsyncIterator[EventLog]:
    """A migrated, empty event log on the backend under test."""
    event_log = backend.open()
    await event_log.migrate()
    yield event_log
    await event_log.close()


@pytest.fixture
def open_log(backend: Backend) -> Callable[..., EventLog]:
    """Open extra logs on the same database; closing them is the caller's job."""
    return backend.open


@pytest.fixture
async def app_role(backend: Backend) -> AsyncIterator[str]:
    """A throwaway LOGIN role, dropped (with its grants) after the test."""
    role = f"eventlog_app_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(backend.dsn)
    await conn.execute(f'CREATE ROLE "{role}" LOGIN')
    try:
        yield role
    finally:
        await conn.execute(f'DROP OWNED BY "{role}"')
        await conn.execute(f'DROP ROLE "{role}"')
        await conn.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``postgresql_only`` run on the PostgreSQL backend alone.

    Deselected rather than skipped: a SQLite variant of them has nothing to check, and a
    skip would read as a gap in the suite."""
    kept, dropped = [], []
    for item in items:
        on_sqlite = "[sqlite" in item.nodeid
        (dropped if on_sqlite and item.get_closest_marker("postgresql_only") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
