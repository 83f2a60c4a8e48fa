"""The story of one file for people: each logged event as time, actor, role and one phrase.

The phrases come from ``audit.describing`` (shared with the auditor's timeline and the web
console); this module keeps the row shape ``guichet show`` prints and emits as JSON.
"""

from __future__ import annotations

from typing import Any

from audit.describing import describe
from audit.timeline import event_of
from console.reasons import reason_in_french
from domain.events import ApplicationDismissed, Event
from eventlog import RecordedEvent

__all__ = ["describe", "timeline_entry"]


def timeline_entry(record: RecordedEvent) -> tuple[Event, dict[str, Any]]:
    """The domain event of a stored record and its row for ``show``."""
    event = event_of(record.data, record.position, record.stream_id)
    row = {
        "position": record.position,
        "version": record.version,
        "at": event.at.isoformat(),
        "actor": event.actor.id,
        "name": event.actor.name,
        "role": event.actor.role,
        "funder": event.actor.funder,
        "type": event.type,
        "summary": describe(_reworded(event)),
    }
    return event, row


def _reworded(event: Event) -> Event:
    """``event`` with an old dismissal's English reason in French, as the pages read it
    (``console.reasons``): the auditor's trail (``audit.describing``) keeps what was
    recorded."""
    if isinstance(event, ApplicationDismissed):
        return event.model_copy(update={"reason": reason_in_french(event.reason)})
    return event
