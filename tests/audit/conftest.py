"""Fixtures for the audit tests: a log on SQLite and PostgreSQL, and the workflow stack.

The workflow fixtures (``time_env``, ``stack``…) are the ones of ``tests/workflow``, imported
so a test here can drive a real workflow on the time-skipping server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from audit_support import Database

from eventlog import EventLog
from tests.workflow.conftest import (  # noqa: F401 - fixtures, found by name
    catalogue,
    event_log,
    registry,
    stack,
    time_env,
)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    """An empty database: a SQLite file, or the fresh PostgreSQL schema of ``pg_schema``."""
    if request.param == "sqlite":
        return Database("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'events.db'}")
    pg_url: str = request.getfixturevalue("pg_url")
    return Database("postgresql", pg_url, request.getfixturevalue("pg_schema"))


@pytest.fixture
async def log(database: Database) -> AsyncIterator[EventLog]:
    """A migrated, empty event log on the database under test."""
    opened = database.open()
    await opened.migrate()
    yield opened
    await opened.close()
