"""PostgreSQL only: an application role can read and append, and never change history."""

from __future__ import annotations

import asyncpg
import pytest
from eventlog_support import Backend, new_event

from eventlog import EventLog, schema
from eventlog.privileges import APP_TABLES

# Roles and privileges are a PostgreSQL feature.
pytestmark = pytest.mark.postgresql_only


async def test_app_role_appends_and_reads_but_cannot_change_history_without_triggers(
    log: EventLog, backend: Backend, app_role: str
) -> None:
    """With triggers disabled, the granted role still cannot UPDATE, DELETE, TRUNCATE or INSERT."""
    await log.append("app-1", 0, [new_event(1)])
    await log.grant_app_role(app_role)
    as_app = EventLog.from_url(
        backend.url.replace("postgres@", f"{app_role}@"), search_path=backend.search_path
    )
    try:
        await as_app.append("app-1", 1, [new_event(2)])
        assert [e.version for e in await as_app.read_stream("app-1")] == [1, 2]
        assert (await as_app.verify()).ok
    finally:
        await as_app.close()
    await backend.execute("ALTER TABLE eventlog_events DISABLE TRIGGER USER")
    conn = await asyncpg.connect(
        backend.dsn, user=app_role, server_settings={"search_path": backend.search_path or ""}
    )
    try:
        for statement in (
            "UPDATE eventlog_events SET data = '{}'",
            "DELETE FROM eventlog_events",
            "TRUNCATE eventlog_events",
            "UPDATE eventlog_head SET position = 0",
            "INSERT INTO eventlog_events SELECT * FROM eventlog_events",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
                await conn.execute(statement)
    finally:
        await conn.close()
    assert (await log.verify()).checked == 2


async def test_every_table_a_migration_creates_is_granted_to_the_app_role(
    log: EventLog, backend: Backend
) -> None:
    """A new table left out of ``APP_TABLES`` is one the app role cannot touch: the sign-in
    throttle's answered every failed sign-in with a 500 under that role. This names it."""
    conn = await asyncpg.connect(
        backend.dsn, server_settings={"search_path": backend.search_path or ""}
    )
    try:
        tables = {
            row["table_name"]
            for row in await conn.fetch(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema()"
            )
        }
    finally:
        await conn.close()
    assert {"eventlog_events", "console_sign_in_failure"} <= tables
    assert tables - {schema.EVENTS, schema.HEAD} == set(APP_TABLES)
