"""Contract: appending, idempotent retries, malformed batches, migrations, connection errors."""

from __future__ import annotations

import asyncio
import json
import math
import sqlite3
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from eventlog_support import BASE_TIME, HEAD_REVISION, Backend, new_event
from hypothesis import example, given
from hypothesis import strategies as st

from eventlog import (
    GENESIS,
    EventIdConflict,
    EventLog,
    EventLogNotMigrated,
    EventLogUnavailable,
    MalformedEvent,
    NewEvent,
    backends,
)
from eventlog.canonical import canonical_data


async def test_append_assigns_versions_and_gap_free_positions(log: EventLog) -> None:
    """A batch gets consecutive stream versions and global positions, and the chain holds."""
    first = await log.append("app-1", 0, [new_event(1), new_event(2)])
    second = await log.append("app-2", 0, [new_event(3)])
    third = await log.append("app-1", 2, [new_event(4)])
    assert (first.first_position, first.last_position, first.version) == (1, 2, 2)
    assert (second.first_position, second.last_position, second.version) == (3, 3, 1)
    assert (third.first_position, third.version) == (4, 3)
    assert await log.stream_version("app-1") == 3
    assert await log.stream_version("nobody") == 0
    assert await log.stream_ids() == ["app-1", "app-2"]
    assert (await log.head())[0] == 4
    assert (await log.verify()).ok


async def test_empty_log_has_genesis_head_and_verifies(log: EventLog) -> None:
    """An empty log's head is (0, 64 zeros) and it verifies."""
    assert await log.head() == (0, GENESIS)
    report = await log.verify()
    assert report.ok and report.checked == 0 and report.head_position == 0


async def test_same_ids_same_content_returns_original_positions(log: EventLog) -> None:
    """Retrying a recorded batch is a no-op that returns the original result."""
    batch = [new_event(1), new_event(2)]
    original = await log.append("app-1", 0, batch)
    await log.append("app-2", 0, [new_event(3)])
    head = await log.head()
    assert await log.append("app-1", 0, batch) == original
    assert await log.append("app-1", 2, batch) == original
    assert await log.head() == head
    assert await log.stream_version("app-1") == 2


async def test_same_id_other_content_is_an_event_id_conflict(log: EventLog) -> None:
    """Reusing an event id with other content, stream or batch is refused; nothing is written."""
    event = new_event(1)
    await log.append("app-1", 0, [event])
    head = await log.head()
    altered = event.model_copy(update={"data": {"n": 2}})
    with pytest.raises(EventIdConflict, match=f"event {event.event_id} is already recorded"):
        await log.append("app-1", 0, [altered])
    with pytest.raises(EventIdConflict, match="stored stream differs"):
        await log.append("app-9", 0, [event])
    with pytest.raises(EventIdConflict, match="different batch"):
        await log.append("app-1", 1, [new_event(5), event])
    assert await log.head() == head
    assert await log.stream_ids() == ["app-1"]


def _naive() -> NewEvent:
    return NewEvent.model_construct(
        event_id=uuid.uuid4(),
        type="AmountSet",
        data={},
        occurred_at=datetime(2024, 1, 1),
        schema_version=1,
    )


def _mutated(value: object) -> NewEvent:
    event = new_event()
    event.data["bad"] = value  # a frozen model still holds a mutable dict
    return event


MALFORMED = {
    "naive datetime": (lambda: ("s", 0, [_naive()]), "has no time zone"),
    "non-serialisable data": (lambda: ("s", 0, [_mutated(object())]), "not a JSON value"),
    "NaN in data": (lambda: ("s", 0, [_mutated(math.nan)]), "JSON cannot carry"),
    # JSON would silently turn these into something else: a list, a "1" key, invalid UTF-8.
    "tuple in data": (lambda: ("s", 0, [_mutated((1, 2))]), "tuple, not a JSON value"),
    "non-string key": (lambda: ("s", 0, [_mutated({1: "x"})]), "non-string key 1"),
    "lone surrogate": (lambda: ("s", 0, [_mutated("\ud800")]), "lone surrogate"),
    "duplicate id in batch": (
        lambda: ("s", 0, [e := new_event(), e.model_copy()]),
        "appears twice in one batch",
    ),
    "negative expected version": (lambda: ("s", -1, [new_event()]), "must be 0"),
    "empty batch": (lambda: ("s", 0, []), "the batch is empty"),
    "empty stream id": (lambda: ("", 0, [new_event()]), "non-empty"),
}


@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
async def test_malformed_batch_is_refused_before_anything_is_written(
    log: EventLog, case: str
) -> None:
    """Malformed input raises MalformedEvent with a clear reason and leaves the log as it was."""
    build, reason = MALFORMED[case]
    stream_id, expected, events = build()
    await log.append("other", 0, [new_event()])
    head = await log.head()
    with pytest.raises(MalformedEvent, match=reason):
        await log.append(stream_id, expected, events)
    assert await log.head() == head


def _changed_after_validation() -> dict[str, NewEvent]:
    """Events whose fields no longer match what validation serialised."""
    mutated = new_event(1)
    mutated.data["n"] = 2
    listed = new_event(1, items=[1, 2])
    listed.data["items"] = (1, 2)
    return {
        "data changed in place": mutated,
        "list swapped for a tuple": listed,
        "copied with another time": new_event(1).model_copy(
            update={"occurred_at": BASE_TIME + timedelta(hours=1)}
        ),
        "copied with another id": new_event(1).model_copy(update={"event_id": uuid.uuid4()}),
        "copied with other data": new_event(1).model_copy(update={"data": {"n": 3}}),
        "never validated": NewEvent.model_construct(**new_event(1).__dict__),
    }


def test_validation_keeps_the_serialised_event_only_while_it_still_describes_it() -> None:
    """The append reuses the text validation wrote; any later change to the event's id,
    time or data sends it through the full check and serialisation again."""
    event = new_event(1, commune="Saint-Étienne 𝄞", quote='"')
    kept = event.validated_serialisation()
    assert kept is not None and kept.data_json == canonical_data(event.data)
    assert event.model_copy().validated_serialisation() == kept
    for name, changed in _changed_after_validation().items():
        assert changed.validated_serialisation() is None, name


async def test_an_event_changed_after_validation_is_stored_as_it_is_at_append(
    log: EventLog,
) -> None:
    """What the log stores, and chains, is the event as handed to append."""
    changed = _changed_after_validation()
    del changed["list swapped for a tuple"]  # refused: see MALFORMED
    for version, event in enumerate(changed.values(), start=1):
        await log.append("app-1", version - 1, [event])
    stored = await log.read_stream("app-1")
    assert [(e.event_id, e.occurred_at, e.data) for e in stored] == [
        (e.event_id, e.occurred_at, e.data) for e in changed.values()
    ]
    assert (await log.verify()).ok


def test_the_kept_serialisation_is_not_part_of_an_events_value() -> None:
    """Copies and unvalidated builds of an event equal it, as before it kept anything."""
    event = new_event(1)
    assert event == event.model_copy() == NewEvent.model_construct(**event.__dict__)
    assert event != event.model_copy(update={"type": "Other"})


def test_new_event_refuses_naive_datetime_and_non_json_data() -> None:
    """The NewEvent model itself rejects naive datetimes, empty types and non-JSON data."""
    with pytest.raises(ValueError, match="timezone-aware"):
        NewEvent(event_id=uuid.uuid4(), type="T", data={}, occurred_at=datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="not a JSON value"):
        NewEvent(event_id=uuid.uuid4(), type="T", data={"x": {1, 2}}, occurred_at=BASE_TIME)
    with pytest.raises(ValueError, match="type"):
        NewEvent(event_id=uuid.uuid4(), type="", data={}, occurred_at=BASE_TIME)


async def test_migrate_is_idempotent_and_safe_to_run_concurrently(backend: Backend) -> None:
    """Running migrate() twice at once and again later leaves one working, empty log."""
    first, second = backend.open(), backend.open()
    try:
        # Both finish before the logs close, so one's failure cannot leave the other running.
        outcomes = await asyncio.gather(first.migrate(), second.migrate(), return_exceptions=True)
        head = HEAD_REVISION
        # One of them created the tables; the other, waiting on the lock, found them made.
        befores = sorted(upgrade.before or "" for upgrade in outcomes)
        assert befores == ["", head] and {upgrade.after for upgrade in outcomes} == {head}
        assert await first.migrate() == (head, head)
        assert await first.head() == (0, GENESIS)
        await first.append("app-1", 0, [new_event()])
        await second.migrate()
        assert (await second.verify()).checked == 1
    finally:
        await first.close()
        await second.close()


async def test_revision_reads_the_schema_without_changing_it(backend: Backend) -> None:
    """None before the first migrate (and reading it creates nothing), the latest after."""
    log = backend.open()
    try:
        assert await log.revision() is None
        assert (await log.migrate()).before is None
        assert await log.revision() == HEAD_REVISION
    finally:
        await log.close()


async def test_sqlite_log_opened_while_another_process_holds_the_lock_waits_for_it(
    tmp_path: Path,
) -> None:
    """Opening a SQLite log queues behind another connection's lock, even on the very first
    statement (switching to WAL), instead of failing with "database is locked"."""
    path = tmp_path / "events.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    log = EventLog.from_url(f"sqlite+aiosqlite:///{path}")
    try:
        migrating = asyncio.ensure_future(log.migrate())
        # Not a timing assertion: only a migrate that gave up can be done while we hold the lock.
        done, _ = await asyncio.wait({migrating}, timeout=0.5)
        assert not done, f"migrate ended while the lock was held: {migrating.exception()!r}"
        holder.execute("COMMIT")
        await migrating
        assert await log.head() == (0, GENESIS)
    finally:
        holder.close()
        await log.close()


async def test_logs_on_different_databases_migrate_at_once_in_one_process(
    backend: Backend, tmp_path: Path
) -> None:
    """Two upgrades in one event loop, on two databases, each build their own log (Alembic's
    module globals once sent one's operations to the other's connection)."""
    log = backend.open()
    other = EventLog.from_url(f"sqlite+aiosqlite:///{tmp_path / 'other.db'}")
    try:
        outcomes = await asyncio.gather(log.migrate(), other.migrate(), return_exceptions=True)
        assert outcomes == [(None, HEAD_REVISION), (None, HEAD_REVISION)]
        for each in (log, other):
            await each.append("app-1", 0, [new_event()])
            assert (await each.verify()).ok
    finally:
        await log.close()
        await other.close()


class _CursorRefusedAtFirst:
    """A cursor whose first statements SQLite refuses as it does the loser of two connections
    switching a new file to WAL at the same moment (SQLITE_BUSY at once, no busy wait)."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.executed: list[str] = []

    def execute(self, statement: str) -> None:
        self.executed.append(statement)
        if len(self.executed) <= self.refusals:
            busy = sqlite3.OperationalError("database is locked")
            busy.sqlite_errorcode = sqlite3.SQLITE_BUSY
            raise busy


def test_the_switch_to_wal_is_tried_again_when_another_connection_is_switching() -> None:
    """A connection refused at once while another switches the new file to WAL tries again
    (then waiting under the busy timeout); a persistent refusal still surfaces."""
    refused_once = _CursorRefusedAtFirst(refusals=1)
    backends.switch_to_wal(refused_once)
    assert refused_once.executed == ["PRAGMA journal_mode=WAL"] * 2

    always_refused = _CursorRefusedAtFirst(refusals=99)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        backends.switch_to_wal(always_refused)
    assert len(always_refused.executed) == backends.WAL_SWITCH_ATTEMPTS


async def test_sqlite_in_missing_folder_says_which_folder(tmp_path: Path) -> None:
    """Opening a SQLite log in a folder that does not exist names that folder."""
    log = EventLog.from_url(f"sqlite+aiosqlite:///{tmp_path}/nowhere/events.db")
    with pytest.raises(EventLogUnavailable, match="nowhere does not exist"):
        await log.migrate()
    await log.close()


async def test_unreachable_postgresql_is_unavailable_not_a_driver_error() -> None:
    """A refused PostgreSQL connection becomes a retryable EventLogUnavailable."""
    log = EventLog.from_url("postgresql+asyncpg://postgres@127.0.0.1:1/test")
    with pytest.raises(EventLogUnavailable, match=r"127\.0\.0\.1:1.*unavailable"):
        await log.stream_version("app-1")
    await log.close()


_ALMOST_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**64, max_value=2**200)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.floats(min_value=1e300, max_value=1.7e308)
    | st.floats(min_value=5e-324, max_value=1e-300)
    | st.text(),
    lambda inner: (
        st.lists(inner)
        | st.lists(inner).map(tuple)
        | st.dictionaries(st.text(), inner)
        | st.dictionaries(st.integers(), inner)
    ),
    max_leaves=8,
)


@given(_ALMOST_JSON)
@example(0.1 + 0.2)
@example(2.2250738585072014e-308)
@example({"a": (1,)})
def test_data_is_accepted_exactly_when_json_reads_it_back_unchanged(value: Any) -> None:
    """canonical_data reads its text back with a faster parser first: what it accepts and
    refuses is still what json.loads decides, big integers and extreme floats included."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if json.loads(text) == value:
        assert canonical_data(value) == text
    else:
        with pytest.raises(ValueError, match=r"not a JSON value|non-string key"):
            canonical_data(value)


async def test_a_database_never_migrated_says_to_run_guichet_migrate(backend: Backend) -> None:
    """Reading a log whose tables were never created names the command that creates them."""
    log = backend.open()
    try:
        with pytest.raises(EventLogNotMigrated, match="run `guichet migrate`"):
            await log.head()
        with pytest.raises(EventLogNotMigrated, match="is missing a table"):
            await log.read_stream("app-1")
        assert await log.migrate() == (None, HEAD_REVISION)
        assert await log.head() == (0, GENESIS)
    finally:
        await log.close()
