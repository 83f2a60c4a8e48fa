"""Contract: verify_stream() checks one stream where it sits in the chain, and catches what
changes that stream's rows, at the cost of reading them and their neighbours."""

from __future__ import annotations

from eventlog_support import Backend, canonical_body, new_event

from eventlog import EventLog
from eventlog.canonical import chain_hash

EVENTS = "eventlog_events"


async def five_events(log: EventLog) -> None:
    """app-1 at positions 1, 2, 4 and 5 (the head); app-2 at position 3."""
    await log.append("app-1", 0, [new_event(1), new_event(2)])
    await log.append("app-2", 0, [new_event(3)])
    await log.append("app-1", 2, [new_event(4), new_event(5)])


async def test_an_intact_log_verifies_stream_by_stream(log: EventLog) -> None:
    """Each stream's rows are checked; an unknown stream has nothing to check."""
    await five_events(log)
    mine, theirs, nobody = [await log.verify_stream(s) for s in ("app-1", "app-2", "nobody")]
    assert (mine.ok, mine.checked, mine.head_position) == (True, 4, 5)
    assert (theirs.ok, theirs.checked) == (True, 1)
    assert (nobody.ok, nobody.checked) == (True, 0)


async def test_an_altered_row_is_found_in_its_own_stream_only(
    log: EventLog, backend: Backend
) -> None:
    """Content changed without re-hashing: its stream's check names the row; the other
    stream's rows, and their links to it, are intact."""
    await five_events(log)
    await backend.tamper(f"UPDATE {EVENTS} SET data = '{{\"n\":99}}' WHERE position = 3")
    theirs = await log.verify_stream("app-2")
    assert (theirs.ok, theirs.first_bad_position) == (False, 3)
    assert theirs.problem == "position 3: hash does not match its content (row altered?)"
    assert (await log.verify_stream("app-1")).ok


async def test_a_row_re_hashed_is_found_by_the_row_after_it(
    log: EventLog, backend: Backend
) -> None:
    """Content changed and its hash recomputed: the next row (another stream's) no longer
    chains to it, which both streams' checks see."""
    await five_events(log)
    row = {e.position: e async for e in log.read_all()}[3]
    forged = chain_hash(row.prev_hash, canonical_body(row, {"n": 99}))
    await backend.tamper(
        f"UPDATE {EVENTS} SET data = '{{\"n\":99}}', hash = '{forged}' WHERE position = 3"
    )
    for stream in ("app-2", "app-1"):
        report = await log.verify_stream(stream)
        assert (report.ok, report.first_bad_position) == (False, 4)
        assert report.problem == "position 4: prev_hash does not chain to position 3"


async def test_a_stream_s_last_event_deleted_is_found(log: EventLog, backend: Backend) -> None:
    """The last event of a stream gone, its neighbours another stream's: its versions and
    links look whole, the count of the rows after it does not."""
    await log.append("app-1", 0, [new_event(1)])
    await log.append("app-2", 0, [new_event(2)])
    await log.append("app-1", 1, [new_event(3)])
    await log.append("app-2", 1, [new_event(4)])
    await backend.tamper(f"DELETE FROM {EVENTS} WHERE position = 3")
    report = await log.verify_stream("app-1")
    assert (report.ok, report.first_bad_position) == (False, 2)
    assert (
        report.problem is not None
        and "holds 2 rows between position 1 and its head at 4, not 3" in report.problem
    )


async def test_a_deleted_event_is_named_as_a_gap_by_its_neighbours(
    log: EventLog, backend: Backend
) -> None:
    """An event gone beside one of the stream's rows: the gap is named, in both streams."""
    await five_events(log)
    await backend.tamper(f"DELETE FROM {EVENTS} WHERE position = 2")
    for stream in ("app-1", "app-2"):
        report = await log.verify_stream(stream)
        assert (report.ok, report.first_bad_position) == (False, 2)
        assert report.problem == "position 2 missing (gap: row deleted?)"


async def test_a_forged_head_is_found_by_the_stream_at_the_head(
    log: EventLog, backend: Backend
) -> None:
    """The last row must carry the head's hash."""
    await five_events(log)
    await backend.tamper(f"UPDATE eventlog_head SET hash = '{'ab' * 32}'")
    report = await log.verify_stream("app-1")
    assert (report.ok, report.first_bad_position) == (False, 5)
    assert report.problem == "position 5: hash differs from the one in the log head"


async def test_a_stream_checks_only_what_the_head_covered_when_it_began(log: EventLog) -> None:
    """Events appended after the head was read are left for the next check, not misjudged."""
    await five_events(log)
    before = await log.verify_stream("app-1")
    await log.append("app-1", 4, [new_event(6)])
    after = await log.verify_stream("app-1")
    assert (before.checked, before.head_position) == (4, 5)
    assert (after.ok, after.checked, after.head_position) == (True, 5, 6)
