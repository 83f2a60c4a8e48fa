"""Slowing down repeated failed sign-ins, per account and per address.

After a few free failures each further attempt must wait twice as long as the last
(1 s, 2 s, 4 s … up to 15 min). The server never sleeps: a throttled attempt is answered at
once with 429 and ``Retry-After``, so a guessing client costs us nothing. A success clears
the account's count (not the address's: one address may try many accounts).

The counts live in the database beside the accounts (``console_sign_in_failure``): every
console replica reads and adds to the same ones, so two replicas do not give a guesser twice
the attempts. A count is forgotten a day after its last failure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from eventlog.edge import translated
from eventlog.schema import UTCDateTime

FORGET_AFTER = timedelta(days=1)
KEY_LENGTH = 300

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


class SignInThrottle:
    """Counts failures per key (``account:NAME``, ``address:IP``) and says how long to wait."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        free_per_account: int = 3,
        free_per_address: int = 10,
        base_delay: float = 1.0,
        max_delay: float = 900.0,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._free = {"account": free_per_account, "address": free_per_address}
        self._base = base_delay
        self._max = max_delay

    async def retry_after(self, username: str, address: str) -> float:
        """Seconds to wait before this attempt may be checked; 0 when it may go ahead."""
        keys = _keys(username, address)
        with translated(self._engine.url):
            async with self._engine.connect() as conn:
                rows = (
                    await conn.execute(
                        sa.select(
                            failures.c.key, failures.c.failures, failures.c.last_failed_at
                        ).where(failures.c.key.in_(keys))
                    )
                ).all()
        now = self._clock()
        waits = [0.0]
        for key, failed, last in rows:
            kind = key.partition(":")[0]
            delay = delay_after(failed, self._free[kind], self._base, self._max)
            waits.append(delay - (now - last).total_seconds())
        return max(waits)

    async def failed(self, username: str, address: str) -> None:
        """Count a failed attempt against the account and the address (an upsert: replicas
        counting at once both count), then forget the counts a day old."""
        now = self._clock()
        keys = _keys(username, address)
        rows = [{"key": key, "failures": 1, "last_failed_at": now} for key in keys]
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

    async def succeeded(self, username: str) -> None:
        """A right password clears the account's failures."""
        with translated(self._engine.url):
            async with self._engine.begin() as conn:
                await conn.execute(failures.delete().where(failures.c.key == _account(username)))


def _keys(username: str, address: str) -> Sequence[str]:
    return (_account(username), f"address:{address}"[:KEY_LENGTH])


def _account(username: str) -> str:
    # A name longer than any account's is still counted, under its first characters.
    return f"account:{username}"[:KEY_LENGTH]
