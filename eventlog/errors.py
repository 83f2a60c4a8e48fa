"""The event log's exceptions: one family, each message a sentence a person can act on.

Driver errors never leave the package: :class:`EventLog` translates them at the edge into
these classes, so callers (activities) decide retryable versus final without knowing the
database underneath.
"""

from __future__ import annotations

from uuid import UUID


class EventLogError(Exception):
    """Base class of everything the event log raises on purpose."""


class ConcurrencyError(EventLogError):
    """The stream moved since the caller read it: reload, decide again, retry."""

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"stream {stream_id} is at version {actual}, expected {expected}: "
            "another writer appended first; reload the stream and decide again"
        )


class EventIdConflict(EventLogError):
    """An event id was reused for different content; ids must identify one fact forever."""

    def __init__(self, event_id: UUID, position: int, reason: str) -> None:
        self.event_id = event_id
        self.position = position
        super().__init__(
            f"event {event_id} is already recorded at position {position} with other "
            f"content ({reason}); an event id may only be retried with identical content"
        )


class MalformedEvent(EventLogError):
    """The batch cannot be stored as given; nothing was written."""


class EventLogUnavailable(EventLogError):
    """The database could not be reached or opened; retrying later may succeed."""


class EventLogNotMigrated(EventLogUnavailable):
    """A table of the log is missing (never migrated, or at an older revision): ``guichet
    migrate`` creates it (a worker does too, at start), after which retrying succeeds."""


class EventLogMisconfigured(EventLogUnavailable):
    """The database refused the login: no such database or role, or a wrong password. The
    URL must be fixed or the database created by its operator; retrying later succeeds only
    then."""


class EventLogNewer(EventLogError):
    """The database's schema is at a revision this code does not know: a later release
    migrated it. Migrations only go forward, so only that release (or a newer one) runs on it."""


class UnreadableEvent(EventLogError):
    """A stored row holds no event its reader can read: its data is not JSON, or not the
    event its type names. The log never writes such a row, so it was altered (or written by
    a later release); the verification names the first altered position."""

    def __init__(self, position: int, stream_id: str, reason: str) -> None:
        self.position = position
        self.stream_id = stream_id
        self.reason = reason
        super().__init__(
            f"position {position} (file {stream_id}) holds no event Guichet can read "
            f"({reason}): the row was altered, or written by a later release; "
            "`guichet audit verify` names the first altered position"
        )
