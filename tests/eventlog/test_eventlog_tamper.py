"""Contract: the database refuses changes, and verify() finds changes made behind its back."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from eventlog_support import JSON, Backend, canonical_body, new_event
from hypothesis import example, given
from hypothesis import strategies as st

from eventlog import EventLog
from eventlog.canonical import (
    EventBody,
    body_head,
    body_tail,
    canonical_event,
    canonical_json,
    chain_hash,
    format_timestamp,
)
from eventlog.postgresql_reads import CANONICAL_OCCURRED_AT
from eventlog.stored_row import StoredRow, spliced_body

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
    body = canonical_body(event)
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


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("stream_id", "'app-9'"),
        ("type", "'Other'"),
        ("version", "7"),
        ("schema_version", "2"),
        ("occurred_at", "'2020-01-01 00:00:00+00'"),
        ("event_id", "'00000000-0000-0000-0000-000000000001'"),
    ],
)
async def test_any_hashed_column_altered_is_found_at_its_position(
    log: EventLog, backend: Backend, column: str, value: str
) -> None:
    """Each hashed column, changed alone behind the triggers, breaks the hash of its row."""
    await _five_events(log)
    await backend.tamper(f"UPDATE {EVENTS} SET {column} = {value} WHERE position = 3")
    report = await log.verify()
    assert not report.ok and report.first_bad_position == 3
    assert report.problem == "position 3: hash does not match its content (row altered?)"


@pytest.mark.postgresql_only
@pytest.mark.parametrize(
    ("moment", "problem"),
    [
        # to_char writes the same digits as the year AD: the row must not pass for it.
        ("'2024-03-01 09:30:00+00 BC'", "occurred_at is outside the years 1 to 9999"),
        ("'10000-01-01 00:00:00+00'", "occurred_at is outside the years 1 to 9999"),
        # asyncpg reads these as the first and last moments of datetime, as verify did.
        ("'infinity'", "hash does not match its content"),
        ("'-infinity'", "hash does not match its content"),
    ],
)
async def test_occurred_at_moved_outside_the_years_python_writes_is_found(
    log: EventLog, backend: Backend, moment: str, problem: str
) -> None:
    """Verify reads PostgreSQL's rendering of occurred_at: a moment no append can write is
    caught at its row and named."""
    await _five_events(log)
    await backend.tamper(f"UPDATE {EVENTS} SET occurred_at = {moment} WHERE position = 4")
    report = await log.verify()
    assert not report.ok and report.first_bad_position == 4 and report.checked == 3
    assert report.problem == f"position 4: {problem} (row altered?)"


@pytest.mark.postgresql_only
async def test_the_server_renders_occurred_at_as_the_canonical_form_does(
    backend: Backend,
) -> None:
    """The text verify hashes on PostgreSQL is format_timestamp's: for 5,000 moments spread
    over the years 1 to 9999 (whole seconds, one microsecond, any microsecond), for others
    given at an offset, and for the ends of that range (which asyncpg stores as -infinity and
    infinity)."""
    rng = random.Random(20261203)
    first = datetime(1, 1, 1, tzinfo=UTC)
    span = (datetime(9999, 12, 31, tzinfo=UTC) - first).total_seconds()
    moments = [
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(1000, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2024, 3, 31, 2, 30, tzinfo=ZoneInfo("Europe/Paris")),
        *(
            (first + timedelta(seconds=rng.uniform(0, span))).replace(
                microsecond=rng.choice([0, 1, rng.randrange(1_000_000)])
            )
            for _ in range(5000)
        ),
    ]
    conn = await asyncpg.connect(backend.dsn)
    try:
        rendered = await conn.fetchval(
            f"SELECT array_agg({CANONICAL_OCCURRED_AT} ORDER BY n) "
            "FROM unnest($1::timestamptz[]) WITH ORDINALITY AS t(occurred_at, n)",
            moments,
        )
    finally:
        await conn.close()
    assert rendered == [format_timestamp(moment) for moment in moments]


async def test_events_at_the_ends_of_the_calendar_verify(log: EventLog) -> None:
    """The first and last microseconds a datetime holds (infinities to asyncpg) read back and
    verify, as does a year before 1000."""
    moments = [
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(999, 6, 1, 12, tzinfo=timezone(timedelta(hours=-3))),
    ]
    events = [new_event(n).model_copy(update={"occurred_at": m}) for n, m in enumerate(moments)]
    await log.append("app-1", 0, events)
    assert [e.occurred_at async for e in log.read_all()] == moments
    report = await log.verify()
    assert report.ok and report.checked == 3


async def test_data_that_is_not_json_is_named_as_such(log: EventLog, backend: Backend) -> None:
    """Stored data replaced by text that is not JSON: verify says so at that position."""
    await _five_events(log)
    await backend.tamper(f"UPDATE {EVENTS} SET data = '{{\"n\":' WHERE position = 2")
    report = await log.verify()
    assert not report.ok and report.first_bad_position == 2 and report.checked == 1
    assert report.problem is not None
    assert report.problem.startswith("position 2: stored data is not valid JSON (")


async def _rehash(backend: Backend, position: int, prev_hash: str, body: str, data: str) -> None:
    await backend.tamper(
        f"UPDATE {EVENTS} SET data = '{data}', hash = '{chain_hash(prev_hash, body)}' "
        f"WHERE position = {position}"
    )


async def test_non_canonical_text_hashed_in_canonical_form_still_verifies(
    log: EventLog, backend: Backend
) -> None:
    """Data stored with spaces but hashed in canonical form passes, as before the splice."""
    await log.append("app-1", 0, [new_event(1)])
    (event,) = [e async for e in log.read_all()]
    body = canonical_body(event)
    await _rehash(backend, 1, event.prev_hash, body, '{ "n": 1 }')
    await backend.tamper(
        f"UPDATE eventlog_head SET hash = (SELECT hash FROM {EVENTS} WHERE position = 1)"
    )
    report = await log.verify()
    assert report.ok and report.checked == 1


async def test_stored_text_hashed_as_stored_verifies(log: EventLog, backend: Backend) -> None:
    """The hash vouches for the stored bytes: a row re-hashed over its exact text verifies.

    Only someone able to re-hash rows could store it (see ``eventlog.verification``)."""
    await log.append("app-1", 0, [new_event(1)])
    (event,) = [e async for e in log.read_all()]
    canonical = canonical_body(event)
    body = canonical.replace('{"data":{"n":1}', '{"data":{ "n": 1 }', 1)
    await _rehash(backend, 1, event.prev_hash, body, '{ "n": 1 }')
    await backend.tamper(
        f"UPDATE eventlog_head SET hash = (SELECT hash FROM {EVENTS} WHERE position = 1)"
    )
    assert (await log.verify()).ok
    (reread,) = [e async for e in log.read_all()]
    assert reread.data == {"n": 1}


@given(
    data=st.dictionaries(st.text(), JSON),
    stream_id=st.text(min_size=1),
    type_=st.text(min_size=1),
    numbers=st.tuples(st.integers(1, 2**62), st.integers(1, 2**31), st.integers(1, 2**31)),
    event_id=st.uuids(),
    occurred_at=st.datetimes(timezones=st.timezones() | st.just(UTC)),
)
@example(
    data={"n": 1},
    stream_id='app "1"\n\\',
    type_="Typé\x1f",
    numbers=(1, 1, 1),
    event_id=uuid.UUID(int=7),
    occurred_at=datetime(1000, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))),
)
def test_append_and_verify_build_the_same_body_as_the_canonical_object(
    data: dict[str, Any],
    stream_id: str,
    type_: str,
    numbers: tuple[int, int, int],
    event_id: uuid.UUID,
    occurred_at: datetime,
) -> None:
    """The body split around the position (what appends send PostgreSQL to hash) and the
    stored data text spliced between the columns (what verify hashes) are both the canonical
    JSON object, for any names, data and time.

    Years before 1000 and offsets other than UTC included; strings with quotes, backslashes
    and control characters too."""
    position, version, schema_version = numbers
    fields = {
        "position": position,
        "stream_id": stream_id,
        "version": version,
        "event_id": event_id,
        "schema_version": schema_version,
        "occurred_at": occurred_at,
    }
    canonical = canonical_event(**fields, type_=type_, data=data)
    row = StoredRow(**fields, type=type_, data=canonical_json(data), prev_hash="", hash="")
    assert spliced_body(row) == canonical
    split = EventBody(
        head=body_head(event_id=event_id, occurred_at=occurred_at, data_json=canonical_json(data)),
        tail=body_tail(
            stream_id=stream_id, version=version, type_=type_, schema_version=schema_version
        ),
    )
    assert split.at(position) == canonical
