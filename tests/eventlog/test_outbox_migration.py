"""Migration 0012: the outbox records how each notice was delivered, and the notices
delivered before it count as mailed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command
from eventlog_support import Backend

from eventlog.migrating import alembic_config

OUTBOX_AT_0011 = sa.table(
    "notification_outbox",
    *(sa.column(name) for name in ("application_id", "recipient_role", "recipient", "subject")),
    *(sa.column(name) for name in ("body", "event_type", "attempts")),
    sa.column("message_id", sa.Uuid),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("delivered_at", sa.DateTime(timezone=True)),
)
"""The outbox as a release before 0012 wrote it."""


async def test_notices_delivered_before_0012_count_as_mailed_and_waiting_ones_as_not_yet(
    backend: Backend,
) -> None:
    """A delivered row becomes ``smtp`` (which were only logged was never recorded); one still
    waiting stays empty until a worker delivers it; the downgrade takes the column away."""
    delivered, waiting = uuid.uuid4(), uuid.uuid4()
    now = datetime.now(UTC)
    row = {
        "application_id": "dossier-1",
        "recipient_role": "applicant",
        "recipient": "maire@example.fr",
        "subject": "Décision",
        "body": "Subvention attribuée",
        "event_type": "AwardNotified",
        "attempts": 1,
        "created_at": now,
    }
    log = backend.open()
    try:
        async with log.engine.begin() as conn:
            await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), "0011"))
            await conn.execute(
                OUTBOX_AT_0011.insert(),
                [
                    {**row, "message_id": delivered, "delivered_at": now},
                    {**row, "message_id": waiting, "delivered_at": None},
                ],
            )
        await log.migrate()
        outbox = sa.table(
            "notification_outbox", sa.column("message_id", sa.Uuid), sa.column("delivered_by")
        )
        async with log.engine.connect() as conn:
            found = dict((await conn.execute(sa.select(outbox))).all())
        assert found == {delivered: "smtp", waiting: None}

        async with log.engine.begin() as conn:
            await conn.run_sync(lambda sync: command.downgrade(alembic_config(sync), "0011"))
            columns = await conn.run_sync(
                lambda sync: {c["name"] for c in sa.inspect(sync).get_columns(outbox.name)}
            )
        assert "delivered_by" not in columns and "delivered_at" in columns
    finally:
        await log.close()
