"""Preparing a batch for the log, and telling a retry from a conflict after a rejection.

Everything here runs before or after the write transaction, never inside it: validation
happens before anything is written, and the idempotency analysis only runs on the rare path
where the database refused the batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventlog.canonical import EventBody, body_head, body_tail, canonical_data
from eventlog.errors import EventIdConflict, MalformedEvent
from eventlog.models import AppendResult, NewEvent

MAX_NAME = 255


@dataclass(frozen=True)
class PreparedEvent:
    """A validated event with its canonical data text and its body around the position."""

    event: NewEvent
    version: int
    data_json: str
    body: EventBody


@dataclass(frozen=True)
class PendingAppend:
    """One caller's prepared batch, waiting for its turn in a group write."""

    stream_id: str
    expected_version: int
    batch: list[PreparedEvent]


def prepare_batch(
    stream_id: str, expected_version: int, events: Sequence[NewEvent]
) -> list[PreparedEvent]:
    """Validate the whole batch and serialise it; raise :class:`MalformedEvent` on any fault."""
    _check_stream_id(stream_id)
    if isinstance(expected_version, bool) or not isinstance(expected_version, int):
        raise MalformedEvent(f"expected_version must be an integer, got {expected_version!r}")
    if expected_version < 0:
        raise MalformedEvent(
            f"expected_version is {expected_version}; it must be 0 (new stream) or more"
        )
    if not events:
        raise MalformedEvent(f"nothing to append to stream {stream_id}: the batch is empty")
    seen: set[UUID] = set()
    prepared = []
    for index, event in enumerate(events, start=1):
        if not isinstance(event, NewEvent):
            raise MalformedEvent(f"event #{index} is a {type(event).__name__}, not a NewEvent")
        if event.event_id in seen:
            raise MalformedEvent(f"event id {event.event_id} appears twice in one batch")
        seen.add(event.event_id)
        data_json, head = _check_event(index, event)
        version = expected_version + index
        tail = body_tail(
            stream_id=stream_id,
            version=version,
            type_=event.type,
            schema_version=event.schema_version,
        )
        body = EventBody(head=head, tail=tail)
        prepared.append(PreparedEvent(event, version, data_json, body))
    return prepared


def _check_stream_id(stream_id: str) -> None:
    if not isinstance(stream_id, str) or not stream_id or stream_id.strip() != stream_id:
        raise MalformedEvent(f"stream id {stream_id!r} must be a non-empty, trimmed string")
    if "\x00" in stream_id or len(stream_id) > MAX_NAME:
        raise MalformedEvent(f"stream id must be at most {MAX_NAME} characters, without NUL")


def _check_event(index: int, event: NewEvent) -> tuple[str, str]:
    """Re-check what the model checked (``model_construct`` skips validation, and
    ``model_copy(update=...)`` too); the canonical data and the body's head."""
    moment = event.occurred_at
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise MalformedEvent(
            f"{_where(index, event)}: occurred_at {moment.isoformat()} has no time zone"
        )
    if not event.type or "\x00" in event.type or len(event.type) > MAX_NAME:
        raise MalformedEvent(
            f"{_where(index, event)}: type must be a non-empty name of at most {MAX_NAME}"
        )
    if event.schema_version < 1:
        raise MalformedEvent(f"{_where(index, event)}: schema_version must be 1 or more")
    if serialised := event.validated_serialisation():
        return serialised.data_json, serialised.head
    if not isinstance(event.data, dict):
        raise MalformedEvent(f"{_where(index, event)}: data must be a JSON object")
    try:
        data_json = canonical_data(event.data)
    except ValueError as problem:
        raise MalformedEvent(f"{_where(index, event)}: {problem}") from None
    return data_json, body_head(event_id=event.event_id, occurred_at=moment, data_json=data_json)


def _where(index: int, event: NewEvent) -> str:
    return f"event #{index} ({event.event_id})"


def resolve_existing(
    stream_id: str, prepared: Sequence[PreparedEvent], stored: dict[UUID, Any]
) -> AppendResult | None:
    """After a refused append: the original result if this batch was already recorded.

    ``stored`` maps event ids of the batch to their stored rows. None means none of the ids
    exist (so the refusal was a plain concurrency conflict); an id stored with other content,
    or a batch only partly recorded, is an :class:`EventIdConflict`.
    """
    if not stored:
        return None
    for item in prepared:
        row = stored.get(item.event.event_id)
        if row is None:
            other = next(iter(stored.values()))
            raise EventIdConflict(
                other.event_id, other.position, "it was recorded in a different batch"
            )
        if reason := _difference(stream_id, item, row):
            raise EventIdConflict(row.event_id, row.position, reason)
    rows = list(stored.values())
    return AppendResult(
        stream_id=stream_id,
        first_position=min(row.position for row in rows),
        last_position=max(row.position for row in rows),
        version=max(row.version for row in rows),
    )


def _difference(stream_id: str, item: PreparedEvent, row: Any) -> str | None:
    event = item.event
    checks = (
        ("stream", row.stream_id, stream_id),
        ("type", row.type, event.type),
        ("schema_version", row.schema_version, event.schema_version),
        ("occurred_at", row.occurred_at, event.occurred_at),
        ("data", row.data, item.data_json),
    )
    for name, stored, new in checks:
        if stored != new:
            return f"stored {name} differs"
    return None
