"""Queueing notices: one statement per batch, and a retried activity writes nothing twice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.testing import ActivityEnvironment

from activities.outbox import NoticeBatch, Outbox
from eventlog import EventLog
from tests.notifications.conftest import batch_of, notice


@pytest.fixture(params=["sqlite", "postgresql"])
async def log(
    request: pytest.FixtureRequest, tmp_path: Path, pg_url: str, pg_schema: str
) -> AsyncIterator[EventLog]:
    if request.param == "sqlite":
        event_log = EventLog.from_url(f"sqlite+aiosqlite:///{tmp_path / 'events.db'}")
    else:
        event_log = EventLog.from_url(pg_url, search_path=pg_schema)
    await event_log.migrate()
    yield event_log
    await event_log.close()


async def enqueue(box: Outbox, batch: NoticeBatch) -> int:
    written: int = await ActivityEnvironment().run(box.enqueue_notices, batch)
    return written


async def test_a_retried_enqueue_writes_only_the_notices_not_there_yet(log: EventLog) -> None:
    box = Outbox(log.engine)
    first = batch_of(notice("maire@example.fr"), notice("instructeur@example.fr"))
    assert await enqueue(box, first) == 2
    assert await enqueue(box, first) == 0  # the activity retried after a lost reply
    grown = NoticeBatch(
        application_id=first.application_id,
        notices=(*first.notices, *batch_of(notice("region@example.fr")).notices),
    )
    assert await enqueue(box, grown) == 1
    pending = await box.pending(first.application_id)
    assert sorted(row.recipient for row in pending) == [
        "instructeur@example.fr",
        "maire@example.fr",
        "region@example.fr",
    ]
