"""``record_events``: the workflow's only way to write to the audit log.

A concurrency conflict is retried (the retry of an append that did commit is recognised by its
event ids and returns the original positions); an event-id clash or a malformed event is a bug
that no retry can fix, so it fails the activity for good.
"""

from __future__ import annotations

from uuid import UUID

from pydantic import Field
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.logging import activity_logger
from domain.events import Event
from domain.model import Frozen
from eventlog import EventLog, NewEvent
from eventlog.errors import EventIdConflict, MalformedEvent


class IdentifiedEvent(Frozen):
    """A domain event with the id that makes its append idempotent."""

    event_id: UUID
    event: Event


class RecordEvents(Frozen):
    """Append events to one stream at an expected version (the workflow is the only writer)."""

    stream_id: str
    expected_version: int = Field(ge=0)
    events: tuple[IdentifiedEvent, ...] = Field(min_length=1)


class RecordedPositions(Frozen):
    """Where the events landed in the global log."""

    first_position: int
    last_position: int
    version: int


def to_new_event(identified: IdentifiedEvent) -> NewEvent:
    """The log's generic envelope for one domain event."""
    event = identified.event
    return NewEvent(
        event_id=identified.event_id,
        type=event.type,
        data=event.model_dump(mode="json"),
        occurred_at=event.at,
    )


class EventRecorder:
    """Activities over the event log."""

    def __init__(self, log: EventLog) -> None:
        self._log = log

    @activity.defn(name="record_events")
    async def record_events(self, request: RecordEvents) -> RecordedPositions:
        """Append the events; idempotent by event id."""
        log = activity_logger().bind(stream_id=request.stream_id)
        try:
            result = await self._log.append(
                request.stream_id,
                request.expected_version,
                [to_new_event(e) for e in request.events],
            )
        except (EventIdConflict, MalformedEvent) as error:
            log.error("append refused", error=str(error))
            raise ApplicationError(
                str(error), type=type(error).__name__, non_retryable=True
            ) from error
        log.info(
            "events recorded",
            types=[e.event.type for e in request.events],
            first_position=result.first_position,
            version=result.version,
        )
        return RecordedPositions(
            first_position=result.first_position,
            last_position=result.last_position,
            version=result.version,
        )
