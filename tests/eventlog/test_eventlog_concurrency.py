"""Contract: concurrent writers through separate connection pools, and readers meanwhile."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from eventlog_support import new_event

from eventlog import AppendResult, ConcurrencyError, EventLog

WRITERS = 8


async def test_eight_writers_on_one_stream_exactly_one_wins_each_version(
    log: EventLog, open_log: Callable[..., EventLog]
) -> None:
    """Racing writers on one stream: one wins each version, seven get a clear ConcurrencyError."""
    logs = [open_log() for _ in range(WRITERS)]
    try:
        for version in range(0, 6, 2):
            outcomes = await asyncio.gather(
                *(
                    w.append("app-1", version, [new_event(i), new_event(i)])
                    for i, w in enumerate(logs)
                ),
                return_exceptions=True,
            )
            winners = [o for o in outcomes if isinstance(o, AppendResult)]
            losers = [o for o in outcomes if isinstance(o, ConcurrencyError)]
            assert len(winners) == 1 and len(losers) == WRITERS - 1, outcomes
            assert winners[0].version == version + 2
            for loser in losers:
                assert loser.expected == version and loser.actual == version + 2
                assert f"stream app-1 is at version {version + 2}, expected {version}" in str(loser)
    finally:
        await asyncio.gather(*(w.close() for w in logs))
    assert await log.stream_version("app-1") == 6
    assert (await log.verify()).ok


async def test_eight_writers_on_different_streams_leave_no_gap_even_for_readers(
    log: EventLog, open_log: Callable[..., EventLog]
) -> None:
    """Parallel writers on eight streams: positions gap-free in commit order, seen so by readers."""
    logs = [open_log() for _ in range(WRITERS)]
    done = asyncio.Event()
    polls = 0

    async def write(index: int, writer: EventLog) -> list[AppendResult]:
        results = []
        for version in range(0, 12, 2):
            batch = [new_event(version), new_event(version + 1)]
            results.append(await writer.append(f"app-{index}", version, batch))
        return results

    async def read() -> None:
        nonlocal polls
        while not done.is_set():
            positions = [event.position async for event in log.read_all(batch_size=7)]
            # A reader must see a prefix of the log: 1..n, never n + 1 without n.
            assert positions == list(range(1, len(positions) + 1))
            polls += 1
            await asyncio.sleep(0)

    reader = asyncio.create_task(read())
    try:
        per_writer = await asyncio.gather(*(write(i, w) for i, w in enumerate(logs)))
    finally:
        done.set()
        await reader
        await asyncio.gather(*(w.close() for w in logs))
    assert polls > 0
    events = [event async for event in log.read_all()]
    assert [e.position for e in events] == list(range(1, WRITERS * 12 + 1))
    # Commit order: the database clock moves forward with the position.
    recorded = [e.recorded_at for e in events]
    assert recorded == sorted(recorded)
    for results in per_writer:
        firsts = [r.first_position for r in results]
        assert firsts == sorted(firsts) and all(
            r.last_position == r.first_position + 1 for r in results
        )
    report = await log.verify()
    assert report.ok and report.checked == WRITERS * 12
