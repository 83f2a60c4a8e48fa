"""Contract: concurrent appends through one log are written together, each judged alone."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
import sqlalchemy as sa
from alembic import command
from eventlog_support import Backend, new_event

from eventlog import (
    AppendResult,
    ConcurrencyError,
    EventIdConflict,
    EventLog,
    EventLogUnavailable,
)
from eventlog.migrating import alembic_config
from eventlog.privileges import APPEND_FUNCTIONS


async def test_one_process_many_callers_each_get_their_own_outcome(log: EventLog) -> None:
    """Fresh streams, a race on one stream, a retried batch and a reused id, all at once."""
    retried = [new_event(1), new_event(2)]
    reused = new_event(3)
    calls = [
        *(log.append(f"fresh-{i}", 0, [new_event(i), new_event(i)]) for i in range(12)),
        *(log.append("raced", 0, [new_event(i)]) for i in range(4)),
        log.append("retried", 0, retried),
        log.append("retried", 0, retried),
        log.append("reuse-a", 0, [reused]),
        log.append("reuse-b", 0, [reused]),
    ]
    outcomes = await asyncio.gather(*calls, return_exceptions=True)

    fresh, raced, retries, reuses = outcomes[:12], outcomes[12:16], outcomes[16:18], outcomes[18:]
    assert all(isinstance(o, AppendResult) and o.version == 2 for o in fresh), fresh
    assert sum(isinstance(o, AppendResult) for o in raced) == 1, raced
    assert sum(isinstance(o, ConcurrencyError) for o in raced) == 3, raced
    assert retries[0] == retries[1] and isinstance(retries[0], AppendResult), retries
    assert sum(isinstance(o, AppendResult) for o in reuses) == 1, reuses
    [conflict] = [o for o in reuses if isinstance(o, EventIdConflict)]
    assert str(reused.event_id) in str(conflict)

    events = [event async for event in log.read_all()]
    assert [e.position for e in events] == list(range(1, 12 * 2 + 1 + 2 + 1 + 1))
    results = [o for o in outcomes if isinstance(o, AppendResult)]
    # Each caller's positions are its own events, in its own order.
    for result in results:
        stream = [e for e in events if result.first_position <= e.position <= result.last_position]
        assert {e.stream_id for e in stream} == {result.stream_id}
        assert [e.version for e in stream] == list(range(1, result.version + 1))
    assert (await log.verify()).ok


@pytest.mark.postgresql_only
async def test_callers_arriving_together_share_one_transaction(
    log: EventLog, backend: Backend
) -> None:
    """Sixteen appends started together cost one or two transactions, not sixteen."""
    await asyncio.gather(*(log.append(f"app-{i}", 0, [new_event(i)]) for i in range(16)))
    conn = await asyncpg.connect(backend.dsn, server_settings={"search_path": backend.search_path})
    try:
        transactions = await conn.fetchval("SELECT count(DISTINCT xmin::text) FROM eventlog_events")
    finally:
        await conn.close()
    assert transactions <= 2
    report = await log.verify()
    assert report.ok and report.checked == 16


async def test_a_caller_appending_again_at_once_keeps_the_writing_connection(
    log: EventLog,
) -> None:
    """A caller whose next batch follows its last at once (a file's next events, a writer in a
    loop) is written on the same connection: not a pool checkout and a new drain per append."""
    checkouts = 0

    def count_checkout(*_: object) -> None:
        nonlocal checkouts
        checkouts += 1

    sa.event.listen(log.engine.sync_engine, "checkout", count_checkout)
    for version in range(20):
        await log.append("app-1", version, [new_event(version)])
    assert checkouts == 1
    assert (await log.verify()).checked == 20


@pytest.mark.postgresql_only
async def test_upgrading_keeps_the_app_role_able_to_append(backend: Backend, app_role: str) -> None:
    """A role granted before the group function existed may call it after the upgrade."""
    owner = backend.open()
    try:
        async with owner.engine.begin() as conn:
            await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), "0005"))
        # What grant_app_role gave at revision 0005: the one-stream function only.
        await backend.execute(
            f'GRANT USAGE ON SCHEMA "{backend.search_path}" TO "{app_role}"',
            f'GRANT SELECT ON eventlog_events, eventlog_head TO "{app_role}"',
            f'GRANT EXECUTE ON FUNCTION {APPEND_FUNCTIONS[1]} TO "{app_role}"',
        )
        await owner.migrate()
    finally:
        await owner.close()
    as_app = EventLog.from_url(
        backend.url.replace("postgres@", f"{app_role}@"), search_path=backend.search_path
    )
    try:
        result = await as_app.append("app-1", 0, [new_event(1)])
        assert result.version == 1
        assert (await as_app.verify()).ok
    finally:
        await as_app.close()


@pytest.mark.postgresql_only
async def test_an_append_connection_killed_by_the_server_is_dropped_not_reused(
    backend: Backend,
) -> None:
    """Appends call asyncpg past SQLAlchemy: a connection the server killed while it sat in
    the pool fails one append as unavailable (retryable), then leaves the pool for good."""
    log = backend.open(pool_size=1, max_overflow=0)
    try:
        await log.migrate()
        await log.append("app-1", 0, [new_event(1)])
        await backend.kill_pooled_connection(log)

        with pytest.raises(EventLogUnavailable, match="unavailable"):
            await log.append("app-1", 1, [new_event(2)])
        result = await log.append("app-1", 1, [new_event(2)])
        assert (result.version, result.last_position) == (2, 2)
        assert (await log.verify()).ok
    finally:
        await log.close()
