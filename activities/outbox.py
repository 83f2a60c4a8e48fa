"""The notification outbox: notices are written here in the workflow's stead, then delivered.

Each notice carries a message id minted by the workflow (``workflow.uuid4()``), the outbox's
primary key: a retried activity writes nothing twice, and a retried delivery is recognisable.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import sqlalchemy as sa
from pydantic import Field
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity

from activities.ledger import metadata
from activities.logging import activity_logger
from domain.model import Frozen
from domain.notices import Notice

outbox = sa.Table(
    "notification_outbox",
    metadata,
    sa.Column("message_id", sa.Uuid, primary_key=True),
    sa.Column("application_id", sa.String(120), nullable=False, index=True),
    sa.Column("recipient_role", sa.String(32), nullable=False),
    sa.Column("recipient", sa.String(254), nullable=False),
    sa.Column("subject", sa.String(500), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("event_type", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
)


class IdentifiedNotice(Frozen):
    message_id: UUID
    notice: Notice


class NoticeBatch(Frozen):
    application_id: str
    notices: tuple[IdentifiedNotice, ...] = Field(min_length=1)


class Outbox:
    """Activities over the outbox table."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @activity.defn(name="enqueue_notices")
    async def enqueue_notices(self, batch: NoticeBatch) -> int:
        """Write the notices that are not there yet; returns how many were new."""
        written = 0
        for item in batch.notices:
            try:
                async with self._engine.begin() as conn:
                    await conn.execute(outbox.insert().values(**_row(batch.application_id, item)))
                written += 1
            except IntegrityError:
                continue  # already written by an earlier attempt of this activity
        activity_logger().info("notices queued", new=written, total=len(batch.notices))
        return written

    async def pending(self, application_id: str | None = None) -> list[sa.Row[tuple[object, ...]]]:
        """Undelivered notices, oldest first (for delivery and for tests)."""
        query = sa.select(outbox).where(outbox.c.delivered_at.is_(None))
        if application_id is not None:
            query = query.where(outbox.c.application_id == application_id)
        async with self._engine.connect() as conn:
            return list((await conn.execute(query.order_by(outbox.c.created_at))).all())


def _row(application_id: str, item: IdentifiedNotice) -> dict[str, object]:
    notice = item.notice
    return {
        "message_id": item.message_id,
        "application_id": application_id,
        "recipient_role": notice.recipient_role,
        "recipient": notice.recipient,
        "subject": notice.subject[:500],
        "body": notice.body,
        "event_type": notice.event_type,
        "created_at": datetime.now(UTC),
    }
