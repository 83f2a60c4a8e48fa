"""Contract: the database refuses changes, and verify() finds changes made behind its back."""

from __future__ import annotations

import pytest
from eventlog_support import Backend, new_event

from eventlog import EventLog
from eventlog.canonical import canonical_event, chain_hash

EVENTS = "eventlog_events"


async def _five_events(log: EventLog) -> None:
    await log.append("app-1", 0, [new_event(1), new_event(2)])
    await log.append("app-2", 0, [new_event(3)])
    await log.append("app-1", 2, [new_event(4), new_event(5)])


@pytest.mark.parametrize(
    "statement",
    [
        f"UPDATE {EVENTS} SET data = '{{\"n\":99}}' WHERE position = 2",
        f"DELETE FROM {EVENTS} WHERE position = 5",
        f"DELETE FROM {EVENTS}",
        "DELETE FROM eventlog_head",
    ],
    ids=["update", "delete-one", "delete-all", "delete-head"],
)
async def test_update_delete_truncate_are_refused_by_the_database(
    log: EventLog, backend: Backend, statement: str
) -> None:
    """Raw UPDATE, DELETE and TRUNCATE fail with an append-only message; the log is intact."""
    await _five_events(log)
    with pytest.raises(Exception, match="append-only") as refused:
        await backend.execute(statement)
    assert "refused" in str(refused.value)
    report = await log.verify()
    assert report.ok and report.checked == 5


@pytest.mark.postgresql_only  # SQLite has no TRUNCATE; DELETE without WHERE covers it there
async def test_truncate_is_refused_by_the_database(log: EventLog, backend: Backend) -> None:
    """A raw TRUNCATE fails with an append-only message; the log is intact."""
    await _five_events(log)
    with pytest.raises(Exception, match="append-only"):
        await backend.execute(f"TRUNCATE {EVENTS}")
    report = await log.verify()
    assert report.ok and report.checked == 5


async def _recompute(log: EventLog, position: int, prev_hash: str) -> str:
    event = {e.position: e async for e in log.read_all()}[position]
    body = canonical_event(
        position=position,
        stream_id=event.stream_id,
        version=event.version,
        event_id=event.event_id,
        type_=event.type,
        schema_version=event.schema_version,
        occurred_at=event.occurred_at,
        data=event.data,
    )
    return chain_hash(prev_hash, body)


async def test_row_altered_behind_the_triggers_is_found_at_its_position(
    log: EventLog, backend: Backend
) -> None:
    """Data changed with triggers bypassed: verify names that position and says it was altered."""
    await _five_events(log)
    await backend.tamper(f"UPDATE {EVENTS} SET data = '{{\"n\":99}}' WHERE position = 3")
    report = await log.verify()
    assert not report.ok and report.first_bad_position == 3
    assert report.problem == "position 3: hash does not match its content (row altered?)"
    assert report.checked == 2


async def test_deleted_row_is_reported_as_a_gap(log: EventLog, backend: Backend) -> None:
    """A row deleted behind the triggers leaves a gap that verify names."""
    await _five_events(log)
    await backend.tamper(f"DELETE FROM {EVENTS} WHERE position = 3")
    report = await log.verify()
    assert report.first_bad_position == 3
    assert report.problem == "position 3 missing (gap: row deleted?)"


async def test_deleted_last_row_is_caught_by_the_head(log: EventLog, backend: Backend) -> None:
    """Cutting the tail of the log is caught against the head row."""
    await _five_events(log)
    await backend.tamper(f"DELETE FROM {EVENTS} WHERE position = 5")
    report = await log.verify()
    assert report.first_bad_position == 5
    assert report.problem is not None and "position 5 missing" in report.problem


async def test_two_swapped_rows_are_found_at_the_first(log: EventLog, backend: Backend) -> None:
    """Swapping the places of two rows breaks the chain at the first of them."""
    await _five_events(log)
    await backend.tamper(
        f"UPDATE {EVENTS} SET position = 1000 WHERE position = 3",
        f"UPDATE {EVENTS} SET position = 3 WHERE position = 4",
        f"UPDATE {EVENTS} SET position = 4 WHERE position = 1000",
    )
    report = await log.verify()
    assert report.first_bad_position == 3
    assert report.problem == "position 3: hash does not match its content (row altered?)"


async def test_row_inserted_with_a_forged_hash_is_found(log: EventLog, backend: Backend) -> None:
    """A row appended by raw INSERT with a made-up hash is found at its position."""
    await _five_events(log)
    _, head_hash = await log.head()
    new_id = "gen_random_uuid()" if backend.kind == "postgresql" else "lower(hex(randomblob(16)))"
    await backend.tamper(
        f"INSERT INTO {EVENTS} (position, stream_id, version, event_id, type, schema_version, "
        f"occurred_at, recorded_at, data, prev_hash, hash) SELECT 6, 'intruder', 1, {new_id}, "
        f"type, schema_version, occurred_at, recorded_at, data, '{head_hash}', '{'ab' * 32}' "
        f"FROM {EVENTS} WHERE position = 1"
    )
    report = await log.verify()
    assert report.first_bad_position == 6
    assert report.problem == "position 6: hash does not match its content (row altered?)"


async def test_valid_looking_row_with_broken_link_is_found(log: EventLog, backend: Backend) -> None:
    """A row rehashed over a wrong prev_hash is reported as not chaining to its predecessor."""
    await _five_events(log)
    forged_prev = "f" * 64
    forged = await _recompute(log, 4, forged_prev)
    await backend.tamper(
        f"UPDATE {EVENTS} SET prev_hash = '{forged_prev}', hash = '{forged}' WHERE position = 4"
    )
    report = await log.verify()
    assert report.first_bad_position == 4
    assert report.problem == "position 4: prev_hash does not chain to position 3"


async def test_verify_reports_progress_over_the_whole_log(log: EventLog) -> None:
    """verify() calls progress(checked, total) for each event, ending at (total, total)."""
    await _five_events(log)
    calls: list[tuple[int, int]] = []
    report = await log.verify(progress=lambda done, total: calls.append((done, total)))
    assert report.ok and report.head_position == 5
    assert calls == [(n, 5) for n in range(1, 6)]
