"""Guichet's append-only, tamper-evident audit log.

Generic storage for any stream of events: optimistic concurrency per stream, idempotent
appends by event id, gap-free global positions, one SHA-256 chain over canonical JSON,
append-only enforced by the database, upcasters on read, and ``verify`` naming the first
bad position. PostgreSQL (asyncpg) in production, SQLite (aiosqlite) embedded.

    log = EventLog.from_url("sqlite+aiosqlite:///.guichet/events.db")
    await log.migrate()
    await log.append("app-42", 0, [NewEvent(...)])
"""

from eventlog.canonical import GENESIS
from eventlog.errors import (
    ConcurrencyError,
    EventIdConflict,
    EventLogError,
    EventLogMisconfigured,
    EventLogNewer,
    EventLogNotMigrated,
    EventLogUnavailable,
    MalformedEvent,
    UnreadableEvent,
)
from eventlog.event_log import EventLog
from eventlog.models import (
    AppendResult,
    ClockCheck,
    EventData,
    NewEvent,
    RecordedEvent,
    VerifyReport,
)
from eventlog.upcasting import Upcaster, Upcasters

__all__ = [
    "GENESIS",
    "AppendResult",
    "ClockCheck",
    "ConcurrencyError",
    "EventData",
    "EventIdConflict",
    "EventLog",
    "EventLogError",
    "EventLogMisconfigured",
    "EventLogNewer",
    "EventLogNotMigrated",
    "EventLogUnavailable",
    "MalformedEvent",
    "NewEvent",
    "RecordedEvent",
    "UnreadableEvent",
    "Upcaster",
    "Upcasters",
    "VerifyReport",
]
