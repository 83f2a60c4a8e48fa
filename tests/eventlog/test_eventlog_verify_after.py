"""Contract: verify(after=(position, hash)) recomputes only the rows after that position,
chained from that hash, each stream's versions going on from the last it had there."""

from __future__ import annotations

from eventlog_support import Backend, new_event

from eventlog import EventLog

EVENTS = "eventlog_events"


async def _five_events(log: EventLog) -> str:
    """app-1 at 1-2 and 4-5 (it goes on across position 2), app-2 at 3; the hash at 2."""
    await log.append("app-1", 0, [new_event(1), new_event(2)])
    await log.append("app-2", 0, [new_event(3)])
    await log.append("app-1", 2, [new_event(4), new_event(5)])
    return await _hash_at(log, 2)


async def _hash_at(log: EventLog, position: int) -> str:
    async for event in log.read_all(position):
        return event.hash
    raise AssertionError(f"no row at {position}")


async def test_only_the_rows_after_the_position_are_recomputed(log: EventLog) -> None:
    """Three rows checked, progress counted over them, the versions of app-1 going on."""
    after = (2, await _five_events(log))
    calls: list[tuple[int, int]] = []
    report = await log.verify(after=after, progress=lambda done, total: calls.append((done, total)))
    assert report.ok and (report.checked, report.head_position) == (3, 5)
    assert calls == [(1, 3), (2, 3), (3, 3)]
    assert (await log.verify(after=(5, (await log.head())[1]))).checked == 0


async def test_a_start_that_the_log_does_not_hold_is_the_fault_found(log: EventLog) -> None:
    """Another hash at the position, or no row there: that position, nothing read."""
    await _five_events(log)
    report = await log.verify(after=(2, "f" * 64))
    assert (report.ok, report.first_bad_position, report.checked) == (False, 2, 0)
    assert report.problem == (
        "position 2: another hash is stored there, not the one verification was to start "
        "from (the log rewritten or cut at or before position 2?)"
    )
    missing = await log.verify(after=(9, "f" * 64))
    assert missing.problem is not None and missing.problem.startswith("position 9: no row there")


async def test_a_row_moved_after_the_position_is_found(log: EventLog, backend: Backend) -> None:
    """Two rows after the start swapped: found at the first, as the whole verify finds it."""
    after = (2, await _five_events(log))
    await backend.tamper(
        f"UPDATE {EVENTS} SET position = 1000 WHERE position = 3",
        f"UPDATE {EVENTS} SET position = 3 WHERE position = 4",
        f"UPDATE {EVENTS} SET position = 4 WHERE position = 1000",
    )
    report = await log.verify(after=after)
    assert (report.first_bad_position, report.problem) == (
        (await log.verify()).first_bad_position,
        "position 3: hash does not match its content (row altered?)",
    )
