"""PostgreSQL only: an application role can read and append, and never change history."""

from __future__ import annotations

import asyncpg
import pytest
from eventlog_support import Backend, new_event

from eventlog import EventLog

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
