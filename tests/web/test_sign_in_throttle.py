"""The sign-in throttle's counts, kept in the database on SQLite and PostgreSQL: the waits
of one account from one address double, only rates no person reaches slow an account from
everywhere or an address under every name, a success clears its pair, and two console
replicas share the same counts."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from console.web.accounts import AccountStore
from console.web.auth import NotSignedIn, Throttled, sign_in
from console.web.throttle import (
    FORGET_AFTER,
    FREE_PER_ACCOUNT_HOUR,
    FREE_PER_ADDRESS_HOUR,
    FREE_PER_PAIR,
    SignInThrottle,
    Wait,
    delay_after,
    failures,
)
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


async def test_one_account_from_one_address_waits_after_three_failures_and_longer_after_each(
    replicas: list[EventLog],
) -> None:
    """The fourth attempt from that address waits 1 s; once that passes, one more failure makes
    it 2 s. The same account from another address, another account from that one, wait not."""
    clock = Clock()
    throttle = SignInThrottle(replicas[0].engine, clock=clock)
    for _ in range(3):
        assert await throttle.retry_after("sophie", "10.0.0.1") == 0
        await throttle.failed("sophie", "10.0.0.1")
    assert await throttle.wait("sophie", "10.0.0.1") == Wait(1.0, "pair", FREE_PER_PAIR)
    assert await throttle.retry_after("sophie", "10.0.0.2") == 0
    clock.advance(1)
    assert await throttle.retry_after("sophie", "10.0.0.1") == pytest.approx(0.0)
    await throttle.failed("sophie", "10.0.0.1")
    assert await throttle.retry_after("sophie", "10.0.0.1") == pytest.approx(2.0)
    assert await throttle.retry_after("alice", "10.0.0.1") == 0


async def test_failures_from_anywhere_never_keep_the_right_address_out_at_a_person_s_rate(
    replicas: list[EventLog],
) -> None:
    """Someone failing on carol's name from other addresses, four times an hour for a day,
    kept carol at the 15-minute wait all day: now her own address is never slowed by it."""
    clock = Clock()
    throttle = SignInThrottle(replicas[0].engine, clock=clock)
    for hour in range(24):
        for attempt in range(4):
            await throttle.failed("carol", f"203.0.113.{(hour * 4 + attempt) % 250}")
            assert await throttle.retry_after("carol", "10.0.0.5") == 0
            clock.advance(15 * 60)


async def test_an_account_failing_from_many_addresses_waits_past_a_stuffing_rate_within_the_hour(
    replicas: list[EventLog],
) -> None:
    """Thirty failures on one account within an hour, each from its own address, make every
    attempt on it wait, from anywhere, and say so; the next hour starts afresh."""
    clock = Clock()
    clock.advance(59 * 60)  # 09:59: the hour's count ends in a minute
    throttle = SignInThrottle(replicas[0].engine, clock=clock)
    for number in range(FREE_PER_ACCOUNT_HOUR - 1):
        await throttle.failed("carol", f"203.0.113.{number}")
    assert await throttle.retry_after("carol", "10.0.0.5") == 0
    await throttle.failed("carol", "203.0.113.200")
    assert await throttle.wait("carol", "10.0.0.5") == Wait(1.0, "account", FREE_PER_ACCOUNT_HOUR)
    for number in range(15):  # far past the rate: the wait grows, but ends with the hour
        await throttle.failed("carol", f"198.51.100.{number}")
    assert await throttle.retry_after("carol", "10.0.0.5") == pytest.approx(60.0)
    assert await throttle.retry_after("alice", "10.0.0.5") == 0
    clock.advance(60)
    assert await throttle.retry_after("carol", "10.0.0.5") == 0


async def test_one_address_failing_under_many_names_waits_only_past_a_spraying_rate(
    replicas: list[EventLog],
) -> None:
    """Ten failures under ten names from a préfecture's one address made every sign-in from it
    wait: now only a hundred within the hour do, for every name from that address alone."""
    clock = Clock()
    throttle = SignInThrottle(replicas[0].engine, clock=clock)
    for number in range(FREE_PER_ADDRESS_HOUR - 1):
        await throttle.failed(f"agent{number}", "10.0.0.9")
    assert await throttle.retry_after("alice", "10.0.0.9") == 0
    await throttle.failed("agent-last", "10.0.0.9")
    assert await throttle.wait("alice", "10.0.0.9") == Wait(1.0, "address", FREE_PER_ADDRESS_HOUR)
    assert await throttle.retry_after("alice", "10.0.0.8") == 0


async def test_a_right_password_clears_its_pair_and_not_the_hour_s_counts(
    replicas: list[EventLog],
) -> None:
    """A success ends the wait of its account from its address only: the real person signing
    in does not reset the count of an attack on their account."""
    clock = Clock()
    throttle = SignInThrottle(replicas[0].engine, clock=clock, free_per_account=5)
    for address in ("10.0.0.7", "10.0.0.7", "10.0.0.7", "10.0.0.7", "10.0.0.6"):
        await throttle.failed("guess0", address)
    assert await throttle.wait("guess0", "10.0.0.7") == Wait(2.0, "pair", FREE_PER_PAIR)
    await throttle.succeeded("guess0", "10.0.0.7")
    assert await throttle.wait("guess0", "10.0.0.7") == Wait(1.0, "account", 5)


async def test_two_replicas_count_the_same_failures(replicas: list[EventLog]) -> None:
    """Failures seen by one replica slow the attempts the other one receives, and failures
    they receive at the same moment are all counted."""
    clock = Clock()
    first, second = (SignInThrottle(log.engine, clock=clock) for log in replicas)
    await first.failed("sophie", "10.0.0.1")
    await asyncio.gather(first.failed("sophie", "10.0.0.1"), second.failed("sophie", "10.0.0.1"))
    assert await second.retry_after("sophie", "10.0.0.1") == pytest.approx(1.0)
    clock.advance(1)
    await second.failed("sophie", "10.0.0.1")
    assert await first.retry_after("sophie", "10.0.0.1") == pytest.approx(2.0)
    await first.succeeded("sophie", "10.0.0.1")
    assert await second.retry_after("sophie", "10.0.0.1") == 0


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
    assert keys == {
        "pair:10.0.0.2 alice",
        "account:2026120609:alice",
        "address:2026120609:10.0.0.2",
    }


async def test_a_name_longer_than_the_column_is_counted_under_its_start(
    replicas: list[EventLog],
) -> None:
    """A guesser's 10,000-character name neither breaks the insert nor escapes the count."""
    throttle = SignInThrottle(replicas[0].engine, clock=Clock())
    long_name = "x" * 10_000
    for _ in range(3):
        await throttle.failed(long_name, "10.0.0.1")
    assert await throttle.retry_after(long_name + "y", "10.0.0.1") == pytest.approx(1.0)


async def test_an_unreachable_database_says_so(tmp_path: Path) -> None:
    """The throttle's database is the log's: the same one-sentence error when it is gone."""
    log = EventLog.from_url(f"sqlite+aiosqlite:///{tmp_path}/nowhere/console.db")
    throttle = SignInThrottle(log.engine)
    with pytest.raises(EventLogUnavailable):
        await throttle.retry_after("sophie", "10.0.0.1")
    await log.close()


def _request_from(address: str, accounts: AccountStore, throttle: SignInThrottle) -> Any:
    """What ``sign_in`` reads of a request: the services and the caller's address."""
    services = SimpleNamespace(accounts=accounts, throttle=throttle)
    return SimpleNamespace(
        app=SimpleNamespace(state=SimpleNamespace(services=services)),
        client=SimpleNamespace(host=address),
    )


async def test_attempts_sent_at_once_are_counted_as_if_sent_one_after_another(
    replicas: list[EventLog],
) -> None:
    """Twenty wrong passwords sent together from one address were all checked (each read
    the count before any was added to it): now the free ones are, the others wait. A right
    password afterwards from elsewhere adds nothing to the hour's counts."""
    accounts = AccountStore(replicas[0].engine, PasswordHasher(time_cost=1, memory_cost=1024))
    await accounts.add("sophie", "le-bon-mot-de-passe", "supervisor")
    throttle = SignInThrottle(replicas[0].engine, base_delay=60.0)  # the burst ends within it
    burst = _request_from("10.0.0.1", accounts, throttle)

    outcomes = await asyncio.gather(
        *(sign_in(burst, "sophie", "deviné") for _ in range(20)), return_exceptions=True
    )

    assert [type(o) for o in outcomes].count(NotSignedIn) == FREE_PER_PAIR
    assert [type(o) for o in outcomes].count(Throttled) == 20 - FREE_PER_PAIR
    signed_in = await sign_in(
        _request_from("10.0.0.2", accounts, throttle), "sophie", "le-bon-mot-de-passe"
    )
    assert signed_in.username == "sophie"
    async with replicas[0].engine.connect() as conn:
        counts = dict((await conn.execute(sa.select(failures.c.key, failures.c.failures))).all())
    hour = datetime.now(UTC).strftime("%Y%m%d%H")
    assert counts[f"account:{hour}:sophie"] == FREE_PER_PAIR
    assert counts.get(f"address:{hour}:10.0.0.2", 0) == 0
    assert "pair:10.0.0.2 sophie" not in counts


async def test_an_ipv6_network_counts_as_one_address(replicas: list[EventLog]) -> None:
    """Whoever holds an IPv6 /64 (every home and office line) picks any of its addresses: a
    guesser taking a new one per attempt escaped both the doubling wait on an account and
    the spraying rate. Its addresses now count as one, their prefix's."""
    clock = Clock()
    throttle = SignInThrottle(replicas[0].engine, clock=clock)
    for number in range(FREE_PER_PAIR):
        await throttle.failed("sophie", f"2001:db8:1:2::{number + 1:x}")
    assert await throttle.wait("sophie", "2001:db8:1:2:ffff::9") == Wait(1.0, "pair", FREE_PER_PAIR)
    for number in range(FREE_PER_ADDRESS_HOUR):
        await throttle.failed(f"agent{number}", f"2001:db8:1:2::{number + 1:x}:1")
    assert (await throttle.wait("alice", "2001:db8:1:2::abcd")).scope == "address"
    assert await throttle.retry_after("alice", "2001:db8:1:3::1") == 0
    assert await throttle.retry_after("alice", "10.0.0.1") == 0
