"""Recomputing the whole chain from the stored rows, in position order, in bounded memory.

Everything is recomputed from the stored columns, never from upcast data, and independently of
the append path's code. The first fault wins, and is described so a person knows where to look.

What one row's hash covers, and how it is recomputed cheaply, is ``eventlog.stored_row``.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import timedelta
from types import MappingProxyType
from typing import Any, NamedTuple

from eventlog import clocks
from eventlog.canonical import GENESIS, chain_hash
from eventlog.models import VerifyReport
from eventlog.stored_row import VERIFIED_COLUMNS, StoredRow, content_problem, spliced_body

Progress = Callable[[int, int], None]


class ChainStart(NamedTuple):
    """Where :func:`verify_rows` picks the chain up: the last position taken as sound without
    being read (0: none), its hash, the version each stream had reached there (for the
    streams that go on after it; a stream absent has none), and that row's ``recorded_at``
    in seconds since 1970 (what the clocks compare the next row's with)."""

    position: int
    hash: str
    versions: Mapping[str, int]
    recorded: float


FROM_GENESIS = ChainStart(0, GENESIS, MappingProxyType({}), -math.inf)
"""The whole log: nothing taken as sound, the first row chained to the genesis hash."""


async def verify_rows(
    batches: AsyncIterator[Sequence[Sequence[Any]]],
    head: tuple[int, str],
    total: int,
    progress: Progress | None = None,
    clock_tolerance: timedelta = clocks.DEFAULT_TOLERANCE,
    start: ChainStart = FROM_GENESIS,
) -> VerifyReport:
    """Check gap-free positions, the chain, contiguous versions per stream, then the head;
    beside them, the clocks (``eventlog.clocks``), which do not make a log bad.

    ``batches`` hold the rows in position order from ``start.position + 1``, each with
    ``VERIFIED_COLUMNS`` then ``clocks.COLUMNS`` in order.
    """
    head_position, head_hash = head
    expected_position, prev_hash, checked = start.position + 1, start.hash, 0
    versions = dict(start.versions)
    watch, last_recorded = clocks.ClockWatch(clock_tolerance), start.recorded

    def bad(position: int, problem: str) -> VerifyReport:
        return VerifyReport(
            ok=False,
            checked=checked,
            head_position=head_position,
            first_bad_position=position,
            problem=problem,
            clocks=watch.report(),
        )

    async for batch in batches:
        for values in batch:
            position, stream_id, version, *_, row_prev_hash, row_hash, recorded, later = values
            # The sound row, checked inline (this loop runs once per event of the log); any
            # doubt goes to _row_problem, which checks again in order and names the fault.
            if (
                position != expected_position
                or row_prev_hash != prev_hash
                or version != versions.get(stream_id, 0) + 1
                or chain_hash(row_prev_hash, spliced_body(values)) != row_hash
            ):
                row = StoredRow._make(tuple(values)[: len(VERIFIED_COLUMNS)])
                if problem := _row_problem(row, expected_position, prev_hash, versions):
                    return bad(min(position, expected_position), problem)
            # Recorded before the previous row, or before its business moment: to judge.
            if recorded < last_recorded or later is not None:
                watch.look(position, recorded, last_recorded, later)
            last_recorded = recorded
            prev_hash, expected_position = row_hash, position + 1
            versions[stream_id] = version
            checked += 1
            if progress is not None:
                progress(checked, total)
    last = expected_position - 1
    if last < head_position:
        return bad(
            last + 1,
            f"position {last + 1} missing (log head says {head_position}: "
            "rows deleted at the end?)",
        )
    if last > head_position:
        return bad(
            head_position + 1,
            f"position {head_position + 1}: beyond the log head "
            f"({head_position}); row inserted behind the log's back?",
        )
    if prev_hash != head_hash:
        return bad(last, f"position {last}: hash differs from the one in the log head")
    return VerifyReport(
        ok=True, checked=checked, head_position=head_position, clocks=watch.report()
    )


def verify_stream_rows(
    rows: Sequence[Sequence[Any]],
    links: Mapping[int, tuple[str, str]],
    head: tuple[int, str],
    rows_after: int,
) -> VerifyReport:
    """One stream's rows checked where they sit in the chain, without reading the rest.

    ``rows`` hold ``VERIFIED_COLUMNS`` in version order, none beyond the head; ``links`` the
    stored ``(prev_hash, hash)`` of the positions just before and after each of them;
    ``rows_after`` how many rows the log holds after the stream's last one, up to the head.
    Each row must hash to its stored hash, follow its stream's previous version, chain to the
    row before it, and be chained to by the row after it (or be the head); every position
    after the last must be there (a removed last event leaves no other trace in the stream).
    So a row of this stream cannot be altered, removed or re-hashed without one of these
    failing, unless every later row up to the head is re-hashed too, which only signed
    checkpoints reveal (as for the whole verification). Other streams' rows are not judged.
    """
    head_position, head_hash = head

    def bad(position: int, problem: str) -> VerifyReport:
        return VerifyReport(
            ok=False,
            checked=len(rows),
            head_position=head_position,
            first_bad_position=position,
            problem=problem,
        )

    last = rows[-1][0] if rows else head_position
    if rows_after != head_position - last:
        return bad(
            last + 1,
            f"the log holds {rows_after} rows between position {last} and its head at "
            f"{head_position}, not {head_position - last} (rows deleted or inserted?): verify "
            "the whole log to find where",
        )
    for expected_version, values in enumerate(rows, 1):
        row = StoredRow._make(values)
        position = row.position
        if row.version != expected_version:
            return bad(
                position,
                f"position {position}: stream {row.stream_id} jumps from version "
                f"{expected_version - 1} to {row.version} (event missing or moved?)",
            )
        if chain_hash(row.prev_hash, spliced_body(row)) != row.hash and (
            problem := content_problem(row)
        ):
            return bad(position, problem)
        if position == 1 and row.prev_hash != GENESIS:
            return bad(position, f"position {position}: prev_hash is not the genesis hash")
        for neighbour in (position - 1, position + 1):
            if 0 < neighbour <= head_position and neighbour not in links:
                return bad(neighbour, f"position {neighbour} missing (gap: row deleted?)")
        if position > 1 and row.prev_hash != links[position - 1][1]:
            return bad(
                position,
                f"position {position}: prev_hash does not chain to position {position - 1}",
            )
        if position == head_position and row.hash != head_hash:
            return bad(position, f"position {position}: hash differs from the one in the log head")
        if position < head_position and links[position + 1][0] != row.hash:
            return bad(
                position + 1,
                f"position {position + 1}: prev_hash does not chain to position {position}",
            )
    return VerifyReport(ok=True, checked=len(rows), head_position=head_position)


def _row_problem(
    row: StoredRow, expected_position: int, prev_hash: str, versions: dict[str, int]
) -> str | None:
    position = row.position
    if position != expected_position:
        return f"position {expected_position} missing (gap: row deleted?)"
    if chain_hash(row.prev_hash, spliced_body(row)) != row.hash and (
        problem := content_problem(row)
    ):
        return problem
    if row.prev_hash != prev_hash:
        before = position - 1
        return (
            f"position {position}: prev_hash does not chain to position {before}"
            if before
            else f"position {position}: prev_hash is not the genesis hash"
        )
    last_version = versions.get(row.stream_id, 0)
    if row.version != last_version + 1:
        return (
            f"position {position}: stream {row.stream_id} jumps from version {last_version} "
            f"to {row.version} (event missing or moved?)"
        )
    return None
