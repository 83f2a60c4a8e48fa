"""Helpers for the audit tests: real domain files in a log, and an intruder with raw SQL.

Raw SQL goes around the log on purpose: the intruder bypasses the append-only triggers, as a
database superuser could.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from domain.events import ApplicationSubmitted, Event
from eventlog import EventLog, NewEvent
from eventlog.canonical import canonical_event, chain_hash
from tests.unit.builders import claim, history, paid, to_started


def file_events(application_id: str = "app-1", department: str | None = None) -> list[Event]:
    """A DETR file from submission to its first payment, as the decider produces it."""
    events = history([*to_started(), claim("advance", 30_000), *paid(1)])
    first = events[0]
    assert isinstance(first, ApplicationSubmitted) and first.commune is not None
    commune = first.commune
    if department is not None:
        commune = commune.model_copy(update={"department": department})
    events[0] = first.model_copy(update={"application_id": application_id, "commune": commune})
    return events


async def record(log: EventLog, application_id: str, events: list[Event]) -> None:
    """Append each event in its own batch, as the workflow does command by command."""
    version = await log.stream_version(application_id)
    for event in events:
        new = NewEvent(
            event_id=uuid.uuid4(),
            type=event.type,
            data=event.model_dump(mode="json"),
            occurred_at=event.at,
        )
        await log.append(application_id, version, [new])
        version += 1


@dataclass
class Database:
    """One database under test, with raw access for playing the intruder."""

    kind: str
    url: str
    search_path: str | None = None

    def open(self) -> EventLog:
        return EventLog.from_url(self.url, search_path=self.search_path)

    @property
    def path(self) -> str:
        return self.url.removeprefix("sqlite+aiosqlite:///")

    async def execute(self, *statements: str) -> None:
        """Raw SQL as the owner, triggers active."""
        if self.kind == "sqlite":
            with sqlite3.connect(self.path) as conn:
                for statement in statements:
                    conn.execute(statement)
            return
        dsn = self.url.replace("postgresql+asyncpg://", "postgresql://")
        conn = await asyncpg.connect(dsn, server_settings={"search_path": self.search_path or ""})
        try:
            async with conn.transaction():
                for statement in statements:
                    await conn.execute(statement)
        finally:
            await conn.close()

    async def tamper(self, *statements: str) -> None:
        """Raw SQL with the append-only triggers out of the way."""
        if self.kind == "postgresql":
            await self.execute("SET LOCAL session_replication_role = replica", *statements)
            return
        with sqlite3.connect(self.path) as conn:
            triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            saved = triggers.fetchall()
            for name, _ in saved:
                conn.execute(f"DROP TRIGGER {name}")
            for statement in statements:
                conn.execute(statement)
            for _, sql in saved:
                conn.execute(sql)

    async def rewrite_from(self, log: EventLog, first: int, *, version: int | None = None) -> None:
        """The intruder's best forgery: change position ``first`` (its actor, or its stream
        version when ``version`` is given), re-hash everything after it, so that the chain
        alone still verifies."""
        rows = {e.position: e async for e in log.read_all()}
        prev = rows[first].prev_hash
        statements = []
        for position in range(first, max(rows) + 1):
            event = rows[position]
            data, stream_version = dict(event.data), event.version
            if position == first and version is not None:
                stream_version = version
            elif position == first:
                data["actor"] = {**data["actor"], "id": "someone-else"}
            body = canonical_event(
                position=position,
                stream_id=event.stream_id,
                version=stream_version,
                event_id=event.event_id,
                type_=event.type,
                schema_version=event.schema_version,
                occurred_at=event.occurred_at,
                data=data,
            )
            digest = chain_hash(prev, body)
            stored_data = body[len('{"data":') : body.index(',"event_id":')].replace("'", "''")
            statements.append(
                f"UPDATE eventlog_events SET data = '{stored_data}', prev_hash = '{prev}', "
                f"hash = '{digest}', version = {stream_version} WHERE position = {position}"
            )
            prev = digest
        statements.append(f"UPDATE eventlog_head SET hash = '{prev}' WHERE id = 1")
        await self.tamper(*statements)

    async def set_recorded_at(self, moments: dict[int, datetime | str]) -> None:
        """The intruder sets rows' ``recorded_at`` (outside the chain): a moment, or a raw
        SQL literal (``'infinity'``, text that is no date)."""
        statements = []
        for position, moment in moments.items():
            if isinstance(moment, str):
                literal = moment
            elif self.kind == "sqlite":  # as SQLAlchemy stores it: naive UTC, microseconds
                naive = moment.astimezone(UTC).replace(tzinfo=None)
                literal = f"'{naive.isoformat(' ', 'microseconds')}'"
            else:
                literal = f"'{moment.isoformat()}'::timestamptz"
            statements.append(
                f"UPDATE eventlog_events SET recorded_at = {literal} WHERE position = {position}"
            )
        await self.tamper(*statements)

    async def fetch(self, query: str) -> list[Any]:
        """Rows of a raw query."""
        if self.kind == "sqlite":
            with sqlite3.connect(self.path) as conn:
                return conn.execute(query).fetchall()
        dsn = self.url.replace("postgresql+asyncpg://", "postgresql://")
        conn = await asyncpg.connect(dsn, server_settings={"search_path": self.search_path or ""})
        try:
            return [tuple(row) for row in await conn.fetch(query)]
        finally:
            await conn.close()


def sqlite_log_for_guichet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str | None]
) -> Database:
    """A SQLite log holding these files (id → department), that ``guichet`` finds through
    GUICHET_DATABASE_URL, with no signing or public key and no Temporal configured."""
    database = Database("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'events.db'}")

    async def seed() -> None:
        log = database.open()
        await log.migrate()
        for application_id, department in files.items():
            await record(log, application_id, file_events(application_id, department=department))
        await log.close()

    asyncio.run(seed())
    monkeypatch.setenv("GUICHET_DATABASE_URL", database.url)
    monkeypatch.setenv("GUICHET_STATE_DIR", str(tmp_path / "state"))
    for name in ("GUICHET_SIGNING_KEY", "GUICHET_SIGNING_KEY_FILE", "GUICHET_PUBLIC_KEY",
                 "GUICHET_PUBLIC_KEY_FILE", "TEMPORAL_ADDRESS"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    return database


async def postgresql_app_1(pg_url: str, pg_schema: str) -> Database:
    """A migrated PostgreSQL log holding app-1 (positions 1-11), in the test's schema."""
    database = Database("postgresql", pg_url, pg_schema)
    log = database.open()
    await log.migrate()
    await record(log, "app-1", file_events("app-1"))
    await log.close()
    return database
