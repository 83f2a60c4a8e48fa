"""Recomputing the whole chain from the stored rows, in position order, in bounded memory.

Everything is recomputed independently of the append path: the canonical body is built as one
JSON object (``canonical_event``) from the stored columns, never from upcast data. The first
fault wins, and is described so a person knows where to look.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from eventlog.canonical import GENESIS, canonical_event, chain_hash
from eventlog.models import VerifyReport

Progress = Callable[[int, int], None]


async def verify_rows(
    rows: AsyncIterator[Any],
    head: tuple[int, str],
    total: int,
    progress: Progress | None = None,
) -> VerifyReport:
    """Check gap-free positions, the chain, contiguous versions per stream, then the head."""
    head_position, head_hash = head
    expected_position, prev_hash, checked = 1, GENESIS, 0
    versions: dict[str, int] = {}

    def bad(position: int, problem: str) -> VerifyReport:
        return VerifyReport(
            ok=False,
            checked=checked,
            head_position=head_position,
            first_bad_position=position,
            problem=problem,
        )

    async for row in rows:
        if problem := _row_problem(row, expected_position, prev_hash, versions):
            return bad(min(row.position, expected_position), problem)
        prev_hash, expected_position = row.hash, row.position + 1
        versions[row.stream_id] = row.version
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
    return VerifyReport(ok=True, checked=checked, head_position=head_position)


def _row_problem(
    row: Any, expected_position: int, prev_hash: str, versions: dict[str, int]
) -> str | None:
    position = row.position
    if position != expected_position:
        return f"position {expected_position} missing (gap: row deleted?)"
    try:
        data = json.loads(row.data)
        body = canonical_event(
            position=position,
            stream_id=row.stream_id,
            version=row.version,
            event_id=row.event_id,
            type_=row.type,
            schema_version=row.schema_version,
            occurred_at=row.occurred_at,
            data=data,
        )
    except ValueError as error:
        return f"position {position}: stored data is not valid JSON ({error}); row altered?"
    if chain_hash(row.prev_hash, body) != row.hash:
        return f"position {position}: hash does not match its content (row altered?)"
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
