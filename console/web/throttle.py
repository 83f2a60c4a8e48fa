"""Slowing down repeated failed sign-ins without letting anyone lock others out.

The wait that guards one password is keyed on the pair (account, address): after a few free
failures each further attempt of that account from that address must wait twice as long as
the last (1 s, 2 s, 4 s … up to 15 min). Someone elsewhere typing the right password is not
slowed by it: a stranger failing on ``carol`` from anywhere must not keep Carol out, nor ten
mistyped passwords behind a préfecture's one address keep its whole staff out.

Two wider limits catch what the pair misses, at rates no person reaches by mistyping: failures
against one account from every address (credential stuffing spread over many addresses), and
failures from one address under every name (password spraying), each counted within one clock
hour (UTC) and forgotten when it ends. Past them, attempts wait as above, for that account or
that address, until the hour ends at the latest; the refusal says which limit it is.

An attempt that need not wait is counted as failed before its password is checked, and taken
back when it was right (``admit``, ``passed``): read first and counted after the check, twenty
attempts sent at once all read the count before any was added to it, and were all checked.

The server never sleeps: a throttled attempt is answered at once with 429 and
``Retry-After``, so a guessing client costs us nothing. A success clears its pair's count, not
the hour's counts (the real person signing in does not reset an attack on their account).

The counts live in the database beside the accounts (``console_sign_in_failure``): every
console replica reads and adds to the same ones, so two replicas do not give a guesser twice
the attempts. A count is forgotten a day after its last failure.

An IPv6 address is counted as its /64 network (``IPV6_PREFIX``): a line holds all of them.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from eventlog.edge import translated
from eventlog.schema import UTCDateTime

FORGET_AFTER = timedelta(days=1)
WINDOW = timedelta(hours=1)
"""The wide limits count the failures of one clock hour."""
KEY_LENGTH = 300
FREE_PER_PAIR = 3
"""Failures of one account from one address before its attempts there wait."""
FREE_PER_ACCOUNT_HOUR = 30
"""Failures against one account, from every address, within an hour: credential stuffing."""
FREE_PER_ADDRESS_HOUR = 100
"""Failures from one address, under every name, within an hour: password spraying. A whole
service behind one address mistyping at 9 am stays well under it."""

IPV6_PREFIX = 64
"""The bits of an IPv6 address its holder does not choose: a line (a home's, an office's) gets
a whole /64 and may use any of its addresses, so the counts keep them as one."""

Scope = Literal["pair", "account", "address"]

failures = sa.Table(
    "console_sign_in_failure",
    sa.MetaData(),
    sa.Column("key", sa.String(KEY_LENGTH), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("last_failed_at", UTCDateTime, nullable=False),
)


def delay_after(failed: int, free: int, base: float, longest: float) -> float:
    """Seconds an attempt must wait after ``failed`` failures in a row, ``free`` of them
    without a wait: ``base``, then twice as long after each further failure, at most
    ``longest``."""
    if failed < free:
        return 0.0
    return min(longest, base * 2.0 ** (failed - free))


@dataclass(frozen=True)
class Wait:
    """How long an attempt must wait, and which limit asks it (``scope`` None: no wait)."""

    seconds: float
    scope: Scope | None = None
    limit: int = 0
    """The failures that limit lets through (per pair, or per hour for the wide ones)."""


class SignInThrottle:
    """Counts failures per key (``pair:ADDRESS NAME`` and, per clock hour,
    ``account:HOUR:NAME``, ``address:HOUR:ADDRESS``) and says how long to wait."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        free_per_pair: int = FREE_PER_PAIR,
        free_per_account: int = FREE_PER_ACCOUNT_HOUR,
        free_per_address: int = FREE_PER_ADDRESS_HOUR,
        base_delay: float = 1.0,
        max_delay: float = 900.0,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._free: dict[Scope, int] = {
            "pair": free_per_pair,
            "account": free_per_account,
            "address": free_per_address,
        }
        self._base = base_delay
        self._max = max_delay
        self._turn = asyncio.Lock()
        """Each ``admit`` reads and counts before the next one reads."""

    async def wait(self, username: str, address: str) -> Wait:
        """How long this attempt must wait before it may be checked, and why."""
        now = self._clock()
        keys = _keys(username, address, now)
        with translated(self._engine.url):
            async with self._engine.connect() as conn:
                rows = (
                    await conn.execute(
                        sa.select(
                            failures.c.key, failures.c.failures, failures.c.last_failed_at
                        ).where(failures.c.key.in_(keys.values()))
                    )
                ).all()
        scopes = {key: scope for scope, key in keys.items()}
        longest = Wait(0.0)
        for key, failed, last in rows:
            scope = scopes[key]
            delay = delay_after(failed, self._free[scope], self._base, self._max)
            left = delay - (now - last).total_seconds()
            if scope != "pair":  # the hour's count ends with the hour
                left = min(left, (_hour_start(now) + WINDOW - now).total_seconds())
            if left > longest.seconds:
                longest = Wait(left, scope, self._free[scope])
        return longest

    async def admit(self, username: str, address: str) -> Wait:
        """``wait``; when the attempt need not wait, it is counted as failed at once, before
        its password is checked (``passed`` takes that back): each attempt of a burst finds
        those before it counted. One console reads and counts one attempt at a time; two
        replicas' attempts at the same moment may both go ahead, one each."""
        async with self._turn:
            wait = await self.wait(username, address)
            if wait.scope is None:
                await self.failed(username, address)
        return wait

    async def passed(self, username: str, address: str) -> None:
        """An admitted attempt had the right password: its pair's count is cleared
        (``succeeded``), and the failure ``admit`` counted for it taken back from the hour's.

        Past the hour's end, the new hour's counts lose the one failure (``admit`` counted it
        in the hour before): one failure of an hour, in a sign-in that straddled its start."""
        await self.succeeded(username, address)
        keys = _keys(username, address, self._clock())
        hour = failures.c.key.in_((keys["account"], keys["address"]))
        with translated(self._engine.url):
            async with self._engine.begin() as conn:
                await conn.execute(
                    failures.update()
                    .where(hour, failures.c.failures > 0)
                    .values(failures=failures.c.failures - 1)
                )

    async def retry_after(self, username: str, address: str) -> float:
        """Seconds to wait before this attempt may be checked; 0 when it may go ahead."""
        return (await self.wait(username, address)).seconds

    async def failed(self, username: str, address: str) -> None:
        """Count a failed attempt against its pair, the account's hour and the address's
        hour (an upsert: replicas counting at once both count), then forget the counts a day
        old."""
        now = self._clock()
        keys = _keys(username, address, now)
        rows = [{"key": key, "failures": 1, "last_failed_at": now} for key in keys.values()]
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        insert = dialect.insert(failures).values(rows)
        upsert = insert.on_conflict_do_update(
            index_elements=[failures.c.key],
            set_={
                "failures": failures.c.failures + 1,
                "last_failed_at": insert.excluded.last_failed_at,
            },
        )
        with translated(self._engine.url):
            async with self._engine.begin() as conn:
                await conn.execute(upsert)
            # Apart: in the upsert's transaction, two replicas each holding a row the other's
            # prune wants would deadlock.
            async with self._engine.begin() as conn:
                await conn.execute(
                    failures.delete().where(failures.c.last_failed_at < now - FORGET_AFTER)
                )

    async def succeeded(self, username: str, address: str) -> None:
        """A right password clears the failures of its account from its address."""
        key = _pair(username, address)
        with translated(self._engine.url):
            async with self._engine.begin() as conn:
                await conn.execute(failures.delete().where(failures.c.key == key))


def _keys(username: str, address: str, now: datetime) -> dict[Scope, str]:
    # The hour and the address come before the name: a name longer than any account's is
    # still counted, under its first characters, in the right hour and pair.
    hour = _hour_start(now).strftime("%Y%m%d%H")
    return {
        "pair": _pair(username, address),
        "account": f"account:{hour}:{username}"[:KEY_LENGTH],
        "address": f"address:{hour}:{_counted_as(address)}"[:KEY_LENGTH],
    }


def _pair(username: str, address: str) -> str:
    return f"pair:{_counted_as(address)} {username}"[:KEY_LENGTH]


def _counted_as(address: str) -> str:
    """The address the counts are kept under: an IPv6 address's /64 network (a guesser
    taking a new address of its line per attempt escaped every wait), any other as given."""
    try:
        found = ipaddress.ip_address(address)
    except ValueError:
        return address  # "unknown": no client address
    if isinstance(found, ipaddress.IPv6Address) and found.ipv4_mapped is None:
        return str(ipaddress.IPv6Network((found, IPV6_PREFIX), strict=False))
    return address


def _hour_start(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
