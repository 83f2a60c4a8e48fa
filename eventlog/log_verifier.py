"""The event log's verification: the whole chain recomputed (or the part after a signed
checkpoint), or one stream checked where it sits in the chain.

What the rows must satisfy is ``eventlog.verification``; this module reads them for it.
:class:`LogVerifier` is part of :class:`eventlog.event_log.EventLog`, the class to use.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

import sqlalchemy as sa

from eventlog import backends, clocks, schema
from eventlog.edge import translated
from eventlog.log_reader import LogReader
from eventlog.models import VerifyReport
from eventlog.stored_row import VERIFIED_COLUMNS
from eventlog.verification import (
    FROM_GENESIS,
    ChainStart,
    Progress,
    verify_rows,
    verify_stream_rows,
)

# Rows per read while verifying: a few hundred kilobytes, few enough round trips not to count.
# Not more: on a table never analyzed (autovacuum off, a fresh restore), PostgreSQL guesses
# that a third of a few thousand rows match `position >= $1`, and for a larger LIMIT it sorted
# the whole table on every read (5,000 on a 38,000-row log: verify took twice as long).
_VERIFY_BATCH = 1000
_events = schema.events


class LogVerifier(LogReader):
    """Verification of an event log's hash chain, whole or stream by stream."""

    async def verify(
        self,
        *,
        progress: Progress | None = None,
        clock_tolerance: timedelta = clocks.DEFAULT_TOLERANCE,
        after: tuple[int, str] | None = None,
    ) -> VerifyReport:
        """Recompute the whole chain from stored data; name the first bad position if any.
        Beside it, check the rows' ``recorded_at`` for sense (``eventlog.clocks``), which is
        no fault of the chain: ``VerifyReport.clocks``.

        ``after=(position, hash)``: take the rows up to ``position`` as sound without reading
        them (a signed checkpoint vouches for them) and recompute only those after it, chained
        from ``hash``, each stream's versions going on from the last it had there. The row at
        ``position`` must hold that hash, else that position is the fault found.

        ``progress(checked, total)`` is called after each event, for long verifications.
        """
        head = await self.head()
        if after is None:
            start = FROM_GENESIS
            with translated(self._engine.url):
                async with self._engine.connect() as conn:
                    count = sa.select(sa.func.count()).select_from(_events)
                    total = int((await conn.execute(count)).scalar_one())
        else:
            found = await self._chain_start(*after)
            if isinstance(found, str):
                return VerifyReport(
                    ok=False,
                    checked=0,
                    head_position=head[0],
                    first_bad_position=after[0],
                    problem=found,
                )
            # Counting the rows would read the whole table's index: the head says how many.
            start, total = found, max(head[0] - after[0], 0)
        columns = (*VERIFIED_COLUMNS, *clocks.COLUMNS)
        rows = self._rows(start.position + 1, _VERIFY_BATCH, columns, occurred_at_as_text=True)
        async with contextlib.aclosing(rows) as batches:
            return await verify_rows(batches, head, total, progress, clock_tolerance, start)

    async def _chain_start(self, position: int, hash_: str) -> ChainStart | str:
        """Where a verification after ``position`` starts: that row's ``recorded_at``, and
        the last version at or before it of each stream that has rows after it (one query);
        or why it cannot start there (no row, or another hash)."""
        recorded = clocks.recorded_epoch(postgres=self._postgres)
        at = sa.select(_events.c.hash, recorded).where(_events.c.position == position)
        with translated(self._engine.url):
            async with self._engine.connect() as conn:
                row = (await conn.execute(at)).first()
                if row is None or row[0] != hash_:
                    what = "no row there" if row is None else "another hash is stored there"
                    return (
                        f"position {position}: {what}, not the one verification was to start "
                        f"from (the log rewritten or cut at or before position {position}?)"
                    )
                versions = await backends.versions_reached(conn, position)
        return ChainStart(position, hash_, versions, float(row[1]))

    async def verify_stream(self, stream_id: str) -> VerifyReport:
        """Check one stream's events where they sit in the chain, at the cost of reading
        them and their neighbours (``verification.verify_stream_rows`` says what that proves).

        For a page about one file: the whole chain's verification grows with the log.
        """
        head = await self.head()
        in_log = _events.c.position <= head[0]  # appends made meanwhile are not judged
        columns = [_events.c[name] for name in VERIFIED_COLUMNS]
        with translated(self._engine.url):
            async with self._engine.connect() as conn:
                rows = (
                    await conn.execute(
                        sa.select(*columns)
                        .where(_events.c.stream_id == stream_id, in_log)
                        .order_by(_events.c.version)
                    )
                ).all()
                last = rows[-1][0] if rows else head[0]
                # Only rows after the stream's last one: the one place where a row of this
                # stream could go missing without breaking its versions or its links.
                after = (
                    await conn.execute(
                        sa.select(sa.func.count()).where(_events.c.position > last, in_log)
                    )
                ).scalar_one()
                around = {p + step for (p, *_) in rows for step in (-1, 1)}
                links = {
                    position: (prev_hash, hash_)
                    for position, prev_hash, hash_ in (
                        await conn.execute(
                            sa.select(
                                _events.c.position, _events.c.prev_hash, _events.c.hash
                            ).where(_events.c.position.in_(sorted(around)), in_log)
                        )
                    ).all()
                }
        return verify_stream_rows([tuple(row) for row in rows], links, head, int(after))
