"""Stored rows back to :class:`RecordedEvent`, at close to the cost of fetching them.

A replay of the whole log turns every row into a ``RecordedEvent``; three shortcuts keep that
cheap, none of which changes what a reader gets or which rows it refuses:

* rows are unpacked as tuples in the table's column order (``ROW_COLUMNS``): attribute access
  on a SQLAlchemy ``Row`` costs more than all the rest of building the event; whole-log reads
  on PostgreSQL come as asyncpg records, past SQLAlchemy's result layer altogether;
* ``data`` is parsed by pydantic-core's JSON parser (about twice as fast as ``json.loads``);
  any text it refuses goes to ``json.loads``, so results are ``json.loads``'s;
* the model is built without validating again when validation could change nothing: every
  value has exactly its field's type (the columns of ``eventlog.schema`` guarantee it for every
  row the log wrote) and ``data`` is the JSON object just parsed. Any other row (an upcaster
  ran, the stored text is not an object, a SQLite column holding text where an integer
  belongs) is validated as before, and refused the same way. The unvalidated instance is set
  up as ``model_construct`` sets one up, without its per-field loop (a quarter of the cost);
  ``tests/eventlog`` checks it equals the validated one in every respect a reader can see.

A row refused (its data no JSON, or a value validation refuses: a row the log could not have
written) raises ``UnreadableEvent`` naming its position and stream, for the auditor to look
there, rather than the parser's or pydantic's error, which names neither.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import ValidationError
from pydantic_core import from_json

from eventlog import schema
from eventlog.errors import UnreadableEvent
from eventlog.models import EventData, RecordedEvent
from eventlog.schema import as_utc
from eventlog.upcasting import Upcasters

ROW_COLUMNS = tuple(column.name for column in schema.events.c)
"""The order in which :func:`recorded` unpacks a row: the table's, as ``select(events)``."""

DATA_COLUMNS = ("position", "stream_id", "version", "type", "schema_version", "occurred_at", "data")
"""The order in which :func:`event_data` unpacks a row (position first, as ``_rows`` wants)."""


def parse_json(text: str) -> Any:
    """``json.loads(text)``, faster: pydantic-core parses, ``json.loads`` takes what it refuses.

    pydantic-core refuses lone surrogates, control characters in strings, nesting deeper than
    200 and integers of thousands of digits; ``json.loads`` then decides, exactly as before.
    """
    try:
        return from_json(text)
    except ValueError:
        return json.loads(text)


def recorded(row: Sequence[Any], upcasters: Upcasters) -> RecordedEvent:
    """The event of one stored row (columns in ``ROW_COLUMNS`` order), upcast."""
    (
        position,
        stream_id,
        version,
        event_id,
        type_,
        stored_version,
        occurred_at,
        recorded_at,
        text,
        prev_hash,
        hash_,
    ) = row
    schema_version, data = upcasters.upcast(type_, stored_version, _parsed(row, text))
    fields = {
        "position": position,
        "stream_id": stream_id,
        "version": version,
        "event_id": event_id if type(event_id) is UUID else _standard_uuid(event_id),
        "type": type_,
        "data": data,
        "schema_version": schema_version,
        "occurred_at": _utc(occurred_at),
        "recorded_at": _utc(recorded_at),
        "prev_hash": prev_hash,
        "hash": hash_,
    }
    if schema_version == stored_version and _typed_as_stored(fields):
        return _unvalidated(fields)
    try:
        return RecordedEvent(**fields)
    except ValidationError as error:  # a row the log could not have written
        raise UnreadableEvent(position, str(stream_id), first_error(error)) from None


def event_data(row: Sequence[Any], upcasters: Upcasters) -> EventData:
    """The position, business date and data (upcast) of one row in ``DATA_COLUMNS`` order.

    ``data`` is handed over as parsed, not validated as a JSON object: the fold validates
    every event's data against its domain model, which refuses anything else."""
    position, _stream_id, _version, type_, stored_version, occurred_at, text = row
    _, data = upcasters.upcast(type_, stored_version, _parsed(row, text))
    return EventData(position, _utc(occurred_at), data)


def _parsed(row: Sequence[Any], text: str) -> Any:
    """``parse_json(text)``, the row's data; ``UnreadableEvent`` naming the row (its position
    and stream come first in both column orders) when it is no JSON."""
    try:
        return parse_json(text)
    except (ValueError, TypeError) as error:  # TypeError: a NULL, or a number, for text
        raise UnreadableEvent(row[0], str(row[1]), f"its data is not JSON: {error}") from None


def first_error(error: ValidationError) -> str:
    """What a validation refused first, in one line: ``amount_cents: Input should be a
    valid integer`` (pydantic's own message runs over lines, with a link)."""
    first = error.errors()[0] if error.error_count() else None
    if first is None:
        return str(error).splitlines()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else str(first["msg"])


def _standard_uuid(value: Any) -> UUID:
    """asyncpg returns its own UUID subclass; the model holds the standard one (by its
    integer: a third of the cost of parsing its text)."""
    return UUID(int=value.int) if isinstance(value, UUID) else UUID(str(value))


def _utc(value: Any) -> Any:
    """A timestamp read past SQLAlchemy (PostgreSQL), as ``UTCDateTime`` would return it;
    anything else as it is, for validation to judge."""
    return as_utc(value) if isinstance(value, datetime) else value


_ALL_FIELDS = frozenset(RecordedEvent.model_fields)


def _unvalidated(fields: dict[str, Any]) -> RecordedEvent:
    """What ``RecordedEvent.model_construct(**fields)`` returns when ``fields`` names every
    field in declaration order: the values as they are, all fields set, no extra, no private."""
    event = object.__new__(RecordedEvent)
    object.__setattr__(event, "__dict__", fields)
    object.__setattr__(event, "__pydantic_fields_set__", set(_ALL_FIELDS))
    object.__setattr__(event, "__pydantic_extra__", None)
    object.__setattr__(event, "__pydantic_private__", None)
    return event


def _typed_as_stored(fields: dict[str, Any]) -> bool:
    """True when every value already has its field's exact type (validation would pass it)."""
    return (
        type(fields["data"]) is dict
        and type(fields["position"]) is int
        and type(fields["version"]) is int
        and type(fields["schema_version"]) is int
        and type(fields["stream_id"]) is str
        and type(fields["type"]) is str
        and type(fields["prev_hash"]) is str
        and type(fields["hash"]) is str
        and type(fields["occurred_at"]) is datetime
        and type(fields["recorded_at"]) is datetime
    )
