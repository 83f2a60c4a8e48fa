"""Contract: reading streams as of a date or position, the whole log in batches, upcasting."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from eventlog_support import BASE_TIME, JSON, Backend, new_event
from hypothesis import given
from pydantic import ValidationError

from eventlog import (
    EventData,
    EventLog,
    EventLogUnavailable,
    RecordedEvent,
    UnreadableEvent,
    Upcasters,
)
from eventlog.reading import ROW_COLUMNS, parse_json, recorded


async def test_read_stream_as_of_occurred_at_or_position(log: EventLog) -> None:
    """until keeps events that occurred by that moment; up_to_position cuts at a position."""
    await log.append("app-1", 0, [new_event(1, days=0), new_event(2, days=1)])
    await log.append("app-2", 0, [new_event(9, days=1)])
    await log.append("app-1", 2, [new_event(3, days=2)])
    everything = await log.read_stream("app-1")
    assert [e.data["n"] for e in everything] == [1, 2, 3]
    assert [e.version for e in everything] == [1, 2, 3]
    as_of_day_1 = await log.read_stream("app-1", until=BASE_TIME + timedelta(days=1))
    assert [e.data["n"] for e in as_of_day_1] == [1, 2]
    assert [e.data["n"] for e in await log.read_stream("app-1", up_to_position=3)] == [1, 2]
    assert await log.read_stream("app-1", until=BASE_TIME - timedelta(seconds=1)) == []
    assert all(e.occurred_at.tzinfo is not None for e in everything)


async def test_read_all_streams_in_batches_from_a_position(log: EventLog) -> None:
    """read_all yields every event from a position, in order, whatever the batch size."""
    for version in range(5):
        await log.append("app-1", version, [new_event(version)])
    positions = [e.position async for e in log.read_all(2, batch_size=2)]
    assert positions == [2, 3, 4, 5]
    assert [e.position async for e in log.read_all(6)] == []


@pytest.mark.parametrize("batch_size", [1, 2, 3, 1000])
async def test_read_streams_gives_each_stream_whole_in_id_order(
    log: EventLog, batch_size: int
) -> None:
    """read_streams: one list per stream, streams in stream_ids order, versions in order,
    whatever the batch size (a stream cut by a batch boundary still comes as one list)."""
    await log.append("app-b", 0, [new_event(1), new_event(2)])
    await log.append("app-a", 0, [new_event(3)])
    await log.append("app-c", 0, [new_event(4)])
    await log.append("app-b", 2, [new_event(5), new_event(6)])
    await log.append("app-a", 1, [new_event(7)])
    streams = [stream async for stream in log.read_streams(batch_size=batch_size)]
    assert [stream[0].stream_id for stream in streams] == await log.stream_ids()
    assert streams == [await log.read_stream(id_) for id_ in await log.stream_ids()]
    assert [[e.data["n"] for e in stream] for stream in streams] == [[3, 7], [1, 2, 5, 6], [4]]


async def test_read_streams_of_an_empty_log_gives_nothing(log: EventLog) -> None:
    """No stream, no list (not one empty list)."""
    assert [stream async for stream in log.read_streams()] == []
    assert [stream async for stream in log.read_streams_data()] == []


@pytest.mark.parametrize("batch_size", [1, 2, 1000])
async def test_read_streams_data_is_read_streams_cut_to_what_a_fold_needs(
    log: EventLog, batch_size: int
) -> None:
    """The same streams in the same order, each event's position, business date and data."""
    await log.append("app-b", 0, [new_event(1), new_event(2)])
    await log.append("app-a", 0, [new_event(3, label="Saint-Étienne — 投资")])
    await log.append("app-b", 2, [new_event(4)])
    whole = [
        (stream[0].stream_id, [EventData(e.position, e.occurred_at, e.data) for e in stream])
        async for stream in log.read_streams()
    ]
    cut = [stream async for stream in log.read_streams_data(batch_size=batch_size)]
    assert cut == whole
    assert [len(events) for _, events in cut] == [1, 3]
    assert all(e.occurred_at.utcoffset() == timedelta(0) for _, events in cut for e in events)


async def test_read_streams_of_reads_the_streams_asked_for_as_read_streams_data_does(
    log: EventLog,
) -> None:
    """The streams named (not the others), each as the whole log's read gives it; a stream
    without events is left out, and asking for none reads nothing."""
    await log.append("app-b", 0, [new_event(1), new_event(2)])
    await log.append("app-a", 0, [new_event(3, label="Saint-Étienne — 投资")])
    await log.append("app-c", 0, [new_event(4)])
    await log.append("app-b", 2, [new_event(5)])
    whole = {stream_id: events async for stream_id, events in log.read_streams_data()}
    asked = await log.read_streams_of(["app-b", "app-unknown", "app-a"])
    assert asked == {"app-a": whole["app-a"], "app-b": whole["app-b"]}
    assert [e.data["n"] for e in asked["app-b"]] == [1, 2, 5]
    assert await log.read_streams_of([]) == {}


async def test_first_texts_reads_a_value_of_each_stream_s_first_event_only(
    log: EventLog,
) -> None:
    """The value at a path of the first event (not of later ones), as text, on either
    database; a stream without it, unknown, or not asked for is left out. Read after a
    position, the streams begun after it, in log order."""
    await log.append("app-a", 0, [new_event(1, label="Halle « du » marché — 投资")])
    await log.append("app-b", 0, [new_event(2)])
    await log.append("app-a", 1, [new_event(3, label="later")])
    await log.append("app-c", 0, [new_event(4, label="not asked")])
    asked = ["app-a", "app-b", "app-unknown"]
    assert await log.first_texts(asked, ("label",)) == {"app-a": "Halle « du » marché — 投资"}
    assert await log.first_texts(asked, ("n",)) == {"app-a": "1", "app-b": "2"}
    assert await log.first_texts([], ("label",)) == {}
    every = await log.first_texts_after(0, ("label",))
    assert [(stream, text) for _, stream, text in every] == [
        ("app-a", "Halle « du » marché — 投资"),
        ("app-c", "not asked"),
    ]
    assert [stream for _, stream, _ in await log.first_texts_after(every[0][0], ("label",))] == [
        "app-c"
    ]


async def test_a_reader_stopping_early_leaves_no_read_in_flight(log: EventLog) -> None:
    """The next batch is read ahead; a reader that stops first leaves no read running."""
    for version in range(5):
        await log.append("app-1", version, [new_event(version)])
    reader = log.read_all(batch_size=2)
    assert [e.position async for e in _first(reader, 1)] == [1]
    await reader.aclose()
    others = asyncio.all_tasks() - {asyncio.current_task()}
    assert not [task for task in others if "_rows" in repr(task.get_coro())]
    assert [e.position async for e in log.read_all(batch_size=2)] == [1, 2, 3, 4, 5]


async def _first(events: AsyncIterator[RecordedEvent], count: int) -> AsyncIterator[RecordedEvent]:
    async for event in events:
        yield event
        count -= 1
        if count == 0:
            return


@pytest.mark.postgresql_only
async def test_a_read_connection_killed_by_the_server_is_dropped_not_reused(
    backend: Backend,
) -> None:
    """Whole-log reads call asyncpg past SQLAlchemy: a connection the server killed while it
    sat in the pool fails one read or verify as unavailable (retryable), then leaves the pool."""
    log = backend.open(pool_size=1, max_overflow=0)
    try:
        await log.migrate()
        await log.append("app-1", 0, [new_event(1), new_event(2)])
        for read in (lambda: _positions(log), log.verify):
            await backend.kill_pooled_connection(log)
            with pytest.raises(EventLogUnavailable, match="unavailable"):
                await read()
        assert await _positions(log) == [1, 2]
        report = await log.verify()
        assert report.ok and report.checked == 2
    finally:
        await log.close()


async def _positions(log: EventLog) -> list[int]:
    return [event.position async for event in log.read_all()]


async def test_recorded_event_round_trips_what_was_appended(log: EventLog) -> None:
    """Ids, type, unicode data, floats and the instant come back exactly as appended."""
    event = new_event(1, label="Saint-Étienne — 投资", ratio=0.1, nested={"a": [1, None, True]})
    await log.append("app-1", 0, [event])
    (recorded,) = await log.read_stream("app-1")
    assert recorded.event_id == event.event_id and recorded.type == event.type
    assert recorded.data == event.data and recorded.occurred_at == event.occurred_at
    assert (recorded.position, recorded.prev_hash) == (1, "0" * 64)
    assert (1, recorded.hash) == await log.head()


async def test_upcaster_applies_on_read_and_verify_hashes_stored_data(
    log: EventLog, backend: Backend
) -> None:
    """Upcasters lift old data on read; verify still checks the stored, original data."""
    await log.append("app-1", 0, [new_event(1, amount=1200)])
    upcasters = Upcasters()

    @upcasters.upcaster("AmountSet", 1)
    def _cents(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "amount_cents": data["amount"] * 100, "currency": "EUR"}

    upcasting = backend.open(upcasters=upcasters)
    try:
        (event,) = await upcasting.read_stream("app-1")
        assert event.schema_version == 2
        assert event.data == {"n": 1, "amount": 1200, "amount_cents": 120000, "currency": "EUR"}
        assert [e.schema_version async for e in upcasting.read_all()] == [2]
        assert [[e.schema_version for e in s] async for s in upcasting.read_streams()] == [[2]]
        assert [[e.data for e in s] async for _, s in upcasting.read_streams_data()] == [
            [event.data]
        ]
        assert (await upcasting.verify()).ok
    finally:
        await upcasting.close()
    (stored,) = await log.read_stream("app-1")
    assert stored.schema_version == 1 and "currency" not in stored.data


async def test_events_read_without_revalidation_equal_validated_ones(
    log: EventLog, backend: Backend
) -> None:
    """The unvalidated fast path builds the same RecordedEvent that validation builds."""
    # What the fast path leaves out must stay absent from the model: private attributes, a
    # post-init hook, extra fields.
    assert not RecordedEvent.__private_attributes__
    assert RecordedEvent.__pydantic_post_init__ is None
    assert RecordedEvent.model_config.get("extra") == "forbid"
    event = new_event(1, label="Saint-Étienne — 投资", ratio=0.1, nested={"a": [1, None, True]})
    await log.append("app-1", 0, [event, new_event(2)])
    rows = [row async for batch in log._rows(1, 10, ROW_COLUMNS) for row in batch]
    for row in rows:
        fast = recorded(row, Upcasters())
        values = dict(zip(ROW_COLUMNS, row, strict=True))
        values["data"] = json.loads(values["data"])
        values["event_id"] = uuid.UUID(str(values["event_id"]))
        validated = RecordedEvent.model_validate(values)
        assert fast == validated and fast.model_dump() == validated.model_dump()
        assert fast == RecordedEvent.model_construct(**validated.__dict__)
        assert list(fast.__dict__) == list(RecordedEvent.model_fields)
        assert repr(fast) == repr(validated)
        assert fast.model_fields_set == validated.model_fields_set
        assert type(fast.event_id) is uuid.UUID
        with pytest.raises(ValidationError):
            fast.position = 9  # type: ignore[misc]
        assert [type(v) for v in fast.__dict__.values()] == [
            type(v) for v in validated.__dict__.values()
        ]


def _row(**changes: Any) -> tuple[Any, ...]:
    values = {
        "position": 1,
        "stream_id": "app-1",
        "version": 1,
        "event_id": uuid.UUID(int=1),
        "type": "AmountSet",
        "schema_version": 1,
        "occurred_at": BASE_TIME,
        "recorded_at": BASE_TIME,
        "data": '{"n":1}',
        "prev_hash": "0" * 64,
        "hash": "a" * 64,
    } | changes
    return tuple(values[name] for name in ROW_COLUMNS)


@pytest.mark.parametrize(
    "changes",
    [{"data": "[1]"}, {"data": '"text"'}, {"version": "x"}, {"occurred_at": "yesterday"}],
    ids=["list", "string", "version-text", "time-text"],
)
def test_stored_values_of_the_wrong_type_are_still_refused(changes: dict[str, Any]) -> None:
    """A row the log could not have written (data not an object, text in a number column)
    goes through validation and is refused, as before the fast path, naming the row."""
    with pytest.raises(UnreadableEvent, match=r"^position 1 \(file app-1\) holds no event"):
        recorded(_row(**changes), Upcasters())


def test_stored_data_that_is_no_json_is_refused_naming_the_row() -> None:
    """Data cut short (an intruder past the triggers): the position and the file, not only
    the parser's « Expecting value »."""
    with pytest.raises(UnreadableEvent, match=r"^position 1 \(file app-1\) .* not JSON"):
        recorded(_row(data='{"n":'), Upcasters())


def test_a_number_stored_as_text_reads_as_validation_reads_it() -> None:
    """SQLite may hand back a number as text: validation coerces it, as it always did."""
    assert recorded(_row(version="3"), Upcasters()).version == 3


@given(JSON)
def test_json_is_parsed_as_json_loads_parses_it(value: Any) -> None:
    """parse_json gives json.loads's result, whatever the value (floats to the last bit)."""
    from eventlog.canonical import canonical_json

    for text in (canonical_json(value), json.dumps(value, indent=1)):
        parsed = parse_json(text)
        assert parsed == json.loads(text) and repr(parsed) == repr(json.loads(text))


@pytest.mark.parametrize(
    "text",
    [
        '"\\ud800"',
        "[" * 300 + "]" * 300,
        "1" * 5000,
        '"a\x01"',
        '{"a":1} x',
        "",
        "NaN",
        '{"a":1,"a":2}',
        "1e400",
    ],
    ids=["surrogate", "deep", "huge-int", "control", "trailing", "empty", "nan", "dup", "inf"],
)
def test_json_the_fast_parser_refuses_is_left_to_json_loads(text: str) -> None:
    """Results and errors stay json.loads's where pydantic-core's parser differs."""
    try:
        expected: Any = json.loads(text)
    except ValueError as error:
        with pytest.raises(type(error), match=re.escape(str(error))):
            parse_json(text)
        return
    assert repr(parse_json(text)) == repr(expected)
