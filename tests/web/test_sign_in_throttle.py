"""The sign-in throttle's counts, kept in the database on SQLite and PostgreSQL: the waits
double, a success clears the account, and two console replicas share the same counts."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from console.web.throttle import FORGET_AFTER, SignInThrottle, delay_after, failures
from eventlog import EventLog, EventLogUnavailable
from tests.conftest import scratch_schema

START = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(params=["sqlite", "postgresql"])
async def replicas(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[list[EventLog]]:
    """Two connections to one migrated database, as two console replicas hold, on each
    backend."""
    async with contextlib.AsyncExitStack() as stack:
        if request.param == "sqlite":
            url, schema = f"sqlite+aiosqlite:///{tmp_path / 'console.db'}", None
        else:
            url = request.getfixturevalue("pg_url")
            schema = await stack.enter_async_context(scratch_schema(url))
        logs = [EventLog.from_url(url, search_path=schema) for _ in range(2)]
        for log in logs:
            stack.push_async_callback(log.close)
        await logs[0].migrate()
        yield logs


def test_the_wait_doubles_after_the_free_failures_up_to_the_longest() -> None:
    """No wait for the free failures, then 1 s, 2 s, 4 s … capped."""
    waits = [delay_after(failed, 3, 1.0, 900.0) for failed in range(16)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3:7] == [1.0, 2.0, 4.0, 8.0]
    assert waits[-1] == 900.0


async def test_an_account_waits_after_three_failures_and_longer_after_each(
    replicas: list[EventLog],
) -> None:
    """The fourth attempt waits 1 s; once that passes, one more failure makes it 2 s."""
    clock = Clock()
    throttle = SignInThrottle(replicas[0].engine, clock=clock)
    for _ in range(3):
        assert await throttle.retry_after("sophie", "10.0.0.1") == 0
        await throttle.failed("sophie", "10.0.0.1")
    assert await throttle.retry_after("sophie", "10.0.0.2") == pytest.approx(1.0)
    clock.advance(1)
    assert await throttle.retry_after("sophie", "10.0.0.2") == pytest.approx(0.0)
    await throttle.failed("sophie", "10.0.0.2")
    assert await throttle.retry_after("sophie", "10.0.0.3") == pytest.approx(2.0)
    assert await throttle.retry_after("alice", "10.0.0.3") == 0


async def test_an_address_trying_many_accounts_waits_and_keeps_waiting_after_a_success(
    replicas: list[EventLog],
) -> None:
    """Ten failures from one address, one per account, slow that address for every account;
    a right password clears its account's count only."""
    clock = Clock()
    throttle = SignInThrottle(replicas[0].engine, clock=clock)
    for number in range(10):
        await throttle.failed(f"guess{number}", "10.0.0.9")
    assert await throttle.retry_after("alice", "10.0.0.9") == pytest.approx(1.0)
    assert await throttle.retry_after("alice", "10.0.0.8") == 0
    await throttle.failed("guess0", "10.0.0.8")
    await throttle.failed("guess0", "10.0.0.8")
    assert await throttle.retry_after("guess0", "10.0.0.7") == pytest.approx(1.0)
    await throttle.succeeded("guess0")
    assert await throttle.retry_after("guess0", "10.0.0.7") == 0
    assert await throttle.retry_after("guess0", "10.0.0.9") == pytest.approx(1.0)


async def test_two_replicas_count_the_same_failures(replicas: list[EventLog]) -> None:
    """Failures seen by one replica slow the attempts the other one receives, and failures
    they receive at the same moment are all counted."""
    clock = Clock()
    first, second = (SignInThrottle(log.engine, clock=clock) for log in replicas)
    await first.failed("sophie", "10.0.0.1")
    await asyncio.gather(first.failed("sophie", "10.0.0.1"), second.failed("sophie", "10.0.0.1"))
    assert await second.retry_after("sophie", "10.0.0.2") == pytest.approx(1.0)
    await second.failed("sophie", "10.0.0.2")
    assert await first.retry_after("sophie", "10.0.0.3") == pytest.approx(2.0)
    await first.succeeded("sophie")
    assert await second.retry_after("sophie", "10.0.0.3") == 0


async def test_counts_are_forgotten_a_day_after_their_last_failure(
    replicas: list[EventLog],
) -> None:
    """A failure a day later deletes the counts nobody added to since."""
    clock = Clock()
    throttle = SignInThrottle(replicas[0].engine, clock=clock)
    for _ in range(5):
        await throttle.failed("sophie", "10.0.0.1")
    clock.advance(FORGET_AFTER.total_seconds() + 1)
    await throttle.failed("alice", "10.0.0.2")
    async with replicas[0].engine.connect() as conn:
        keys = set((await conn.execute(sa.select(failures.c.key))).scalars())
    assert keys == {"account:alice", "address:10.0.0.2"}


async def test_a_name_longer_than_the_column_is_counted_under_its_start(
    replicas: list[EventLog],
) -> None:
    """A guesser's 10,000-character name neither breaks the insert nor escapes the count."""
    throttle = SignInThrottle(replicas[0].engine, clock=Clock())
    long_name = "x" * 10_000
    for _ in range(3):
        await throttle.failed(long_name, "10.0.0.1")
    assert await throttle.retry_after(long_name + "y", "10.0.0.2") == pytest.approx(1.0)


async def test_an_unreachable_database_says_so(tmp_path: Path) -> None:
    """The throttle's database is the log's: the same one-sentence error when it is gone."""
    log = EventLog.from_url(f"sqlite+aiosqlite:///{tmp_path}/nowhere/console.db")
    throttle = SignInThrottle(log.engine)
    with pytest.raises(EventLogUnavailable):
        await throttle.retry_after("sophie", "10.0.0.1")
    await log.close()
