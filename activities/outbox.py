"""The notification outbox: notices are written here in the workflow's stead, then delivered.

Each notice carries a message id minted by the workflow (``workflow.uuid4()``), the outbox's
primary key: a retried activity writes nothing twice, and a retried delivery is recognisable
(the e-mail's ``Message-ID`` is derived from it). Delivery goes through a ``Mailer`` (SMTP
when configured) to the addresses a ``Directory`` gives for person and pool ids; without a
mailer it is a log line, and the row says so (``delivered_by``: ``smtp`` or ``log``): a notice
nobody received is never counted as mailed. Addresses are masked in every log line.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

import sqlalchemy as sa
from pydantic import Field
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from activities.directory import Directory, MappingDirectory, is_address
from activities.ledger import metadata
from activities.logging import activity_logger, mask_text
from activities.mail import (
    Mailer,
    MailServerUnavailable,
    OutgoingMail,
    PermanentMailError,
    TemporaryMailError,
    mask_address,
    mask_addresses,
    thread_root,
)
from activities.rendering import rendered
from domain.digest import DIGEST_EVENT
from domain.model import Frozen
from domain.notices import Notice
from eventlog.backends import single_statements
from eventlog.schema import as_utc

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
    sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("department", sa.String(3), nullable=True),
    sa.Column("delivered_by", sa.String(8), nullable=True),
)

Delivery = Literal["smtp", "log"]
"""How a notice was delivered (``delivered_by``): mailed, or only written to the worker's log
(no SMTP host). Set with ``delivered_at``."""


class IdentifiedNotice(Frozen):
    message_id: UUID
    notice: Notice


class NoticeBatch(Frozen):
    application_id: str
    notices: tuple[IdentifiedNotice, ...] = Field(min_length=1)
    department: str | None = None
    """The department whose service instructs the file (``Application.instructing_department``):
    a pool's notice goes to the directory's entry for the pool in that department
    (``caseworkers/01``, the DDT of the Ain) when it has one."""


STALE_AFTER = timedelta(hours=13)
"""A notice still pending this long after it was queued is no longer being delivered: its
workflow gives a delivery up after 12 hours (``DELIVERY_GIVE_UP``). An hour of margin, so the
sweep does not race a delivery's last retry."""


class Sweep(Frozen):
    """Which stale notices to try again: queued longer ago than ``stale_after``, oldest
    first, at most ``limit`` in one run (the next run takes the rest)."""

    stale_after: timedelta = STALE_AFTER
    limit: int = Field(default=500, ge=1)


class SweepReport(Frozen):
    """What one sweep did; ``stopped`` says why it ended early (the mail server is down)."""

    examined: int = 0
    delivered: int = 0
    refused: int = 0
    deferred: int = 0
    stopped: str | None = None


class Undelivered(Frozen):
    """A notice not delivered: still ``waiting`` (a sweep will try again) or ``refused`` for
    good (an operator must act: fix the directory, tell the person another way)."""

    state: Literal["waiting", "refused"]
    message_id: UUID
    application_id: str
    recipient: str
    """Masked when it is an address (``a***@x.fr``)."""
    subject: str
    queued_at: datetime
    attempts: int
    last_error: str | None


class Backlog(Frozen):
    """How many notices wait or were refused, and the oldest of each (at most a limit)."""

    waiting: int
    refused: int
    notices: tuple[Undelivered, ...]


async def undelivered(engine: AsyncEngine, limit: int = 100) -> Backlog:
    """Notices not delivered, oldest first: those waiting, then those refused for good."""
    undone = outbox.c.delivered_at.is_(None)
    found: list[Undelivered] = []
    counts: dict[str, int] = {}
    async with engine.connect() as conn:
        for state, which in (
            ("waiting", outbox.c.failed_at.is_(None)),
            ("refused", outbox.c.failed_at.is_not(None)),
        ):
            counts[state] = (
                await conn.execute(sa.select(sa.func.count()).where(undone, which))
            ).scalar_one()
            query = sa.select(outbox).where(undone, which).order_by(outbox.c.created_at)
            for row in (await conn.execute(query.limit(limit))).all():
                found.append(
                    Undelivered(
                        state=state,
                        message_id=row.message_id,
                        application_id=row.application_id,
                        recipient=mask_address(row.recipient),
                        subject=row.subject,
                        queued_at=as_utc(row.created_at),  # SQLite returns it naive
                        attempts=row.attempts,
                        last_error=mask_addresses(row.last_error) if row.last_error else None,
                    )
                )
    return Backlog(waiting=counts["waiting"], refused=counts["refused"], notices=tuple(found))


LOGGED_RECENTLY = timedelta(days=1)
"""How far back ``guichet status`` and ``guichet notices`` look for notices only logged: a
day of notices lost is a finding; the line clears a day after the SMTP host is set."""


class Logged(Frozen):
    """A notice written to the worker's log instead of mailed (no SMTP host): what the mail
    would have said."""

    message_id: UUID
    application_id: str
    recipient: str
    """Masked when it is an address (``a***@x.fr``)."""
    subject: str
    body: str
    """Addresses and IBANs masked, as in a log line."""
    logged_at: datetime


class LoggedOnly(Frozen):
    """How many notices were only logged since a moment, when the last was, and the most
    recent of them (at most a limit, oldest first: the newest ends next to the prompt)."""

    count: int
    last_at: datetime | None
    notices: tuple[Logged, ...]


async def logged_only(engine: AsyncEngine, since: datetime, limit: int = 100) -> LoggedOnly:
    """The notices delivered as log lines, not mailed, since ``since``."""
    which = (outbox.c.delivered_by == "log", outbox.c.delivered_at >= since)
    async with engine.connect() as conn:
        count = (await conn.execute(sa.select(sa.func.count()).where(*which))).scalar_one()
        query = sa.select(outbox).where(*which).order_by(outbox.c.delivered_at.desc())
        newest = (await conn.execute(query.limit(limit))).all()
    found = [
        Logged(
            message_id=row.message_id,
            application_id=row.application_id,
            recipient=mask_address(row.recipient),
            subject=row.subject,
            body=mask_text(row.body),
            logged_at=as_utc(row.delivered_at),  # SQLite returns it naive
        )
        for row in reversed(newest)
    ]
    return LoggedOnly(
        count=count, last_at=found[-1].logged_at if found else None, notices=tuple(found)
    )


async def retry_refused(engine: AsyncEngine) -> int:
    """Put the notices refused for good back to wait (once the operator fixed what refused
    them: the directory, an address): the redelivery sweep takes them at its next run once
    they are ``STALE_AFTER`` old. How many."""
    async with engine.begin() as conn:
        done = await conn.execute(
            outbox.update()
            .where(outbox.c.delivered_at.is_(None), outbox.c.failed_at.is_not(None))
            .values(failed_at=None)
        )
    return int(done.rowcount or 0)


EXPECTED = ApplicationErrorCategory.BENIGN
"""A mail server down or deferring is retried, and ``_deliver`` logs each attempt in one
line: the SDK's own warning, a 15-line traceback per retry, was noise for an operator."""


class Outbox:
    """Activities over the outbox table."""

    def __init__(
        self,
        engine: AsyncEngine,
        mailer: Mailer | None = None,
        directory: Directory | None = None,
        console_url: str | None = None,
    ) -> None:
        # Every outbox operation is one statement: no BEGIN/COMMIT round trips around it.
        self._engine = single_statements(engine)
        self._mailer = mailer
        self._directory: Directory = directory or MappingDirectory()
        self._console_url = console_url.rstrip("/") if console_url else None

    @activity.defn(name="enqueue_notices")
    async def enqueue_notices(self, batch: NoticeBatch) -> int:
        """Write the notices that are not there yet, in one statement; returns how many were
        new (a retried activity finds its earlier rows and writes nothing twice)."""
        rows = [_row(batch, item) for item in batch.notices]
        insert = (
            postgresql.insert(outbox)
            if self._engine.dialect.name == "postgresql"
            else sqlite.insert(outbox)
        )
        async with self._engine.begin() as conn:
            written = (
                await conn.execute(
                    insert.values(rows).on_conflict_do_nothing(index_elements=["message_id"])
                )
            ).rowcount
        activity_logger().info("notices queued", new=written, total=len(batch.notices))
        return written

    @activity.defn(name="deliver_notices")
    async def deliver_notices(self, batch: NoticeBatch) -> int:
        """Deliver the batch's pending notices; returns how many were delivered now.

        At-least-once: a notice is marked delivered after sending, so a crash in between
        sends it again with the same ``Message-ID``, which the recipient's tools recognise.
        A permanent refusal (5xx, unknown recipient) is recorded on the row, which is then
        never retried; a temporary one (server down, 4xx) raises so Temporal retries with
        backoff, after the other notices of the batch had their chance. Without a mailer,
        delivery is a log line.

        Each batch is delivered in the background, beside the file's earlier ones: a notice
        whose reader still waits for an earlier notice of the file is deferred the same way,
        so that nobody reads « décision attendue » after « demande retirée ».
        """
        ids = [item.message_id for item in batch.notices]
        earlier = outbox.alias("earlier")
        waits = (
            sa.exists()
            .where(
                earlier.c.application_id == outbox.c.application_id,
                earlier.c.recipient == outbox.c.recipient,
                earlier.c.created_at < outbox.c.created_at,
                earlier.c.message_id.not_in(ids),
                earlier.c.delivered_at.is_(None),
                earlier.c.failed_at.is_(None),
            )
            .label("waits")
        )
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(outbox, waits)
                    .where(
                        outbox.c.message_id.in_(ids),
                        outbox.c.delivered_at.is_(None),
                        outbox.c.failed_at.is_(None),
                    )
                    .order_by(outbox.c.created_at)
                )
            ).all()
        delivered, deferred = 0, []
        for row in rows:
            if row.waits:  # an earlier notice of the file to the same reader is on its way
                deferred.append(f"{mask_address(row.recipient)} waits for an earlier notice")
                continue
            try:
                delivered += await self._deliver(row)
            except MailServerUnavailable as error:
                raise ApplicationError(
                    str(error), type="MailServerUnavailable", category=EXPECTED
                ) from None
            except TemporaryMailError as error:
                deferred.append(str(error))
        if deferred:
            raise ApplicationError(
                f"{len(deferred)} notice(s) deferred: " + " | ".join(deferred),
                type="MailDeferred",
                category=EXPECTED,
            )
        return delivered

    @activity.defn(name="redeliver_stale_notices")
    async def redeliver_stale_notices(self, sweep: Sweep) -> SweepReport:
        """Try again the notices whose own delivery gave up (a mail outage longer than
        ``DELIVERY_GIVE_UP``): nothing queued is left undelivered once the server is back.

        Same rules as ``deliver_notices``, one notice at a time (a heartbeat each), oldest
        first; a temporary refusal leaves the notice for the next sweep, and the reader's
        later notices of that file behind it; a server that does not answer ends this one
        (``stopped``): the next run, an hour later, tries again.
        """
        cutoff = datetime.now(UTC) - sweep.stale_after
        query = (
            sa.select(outbox)
            .where(
                outbox.c.delivered_at.is_(None),
                outbox.c.failed_at.is_(None),
                outbox.c.created_at < cutoff,
            )
            .order_by(outbox.c.created_at)
            .limit(sweep.limit)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        report = {"examined": 0, "delivered": 0, "refused": 0, "deferred": 0}
        stopped = None
        waiting: set[tuple[str, str]] = set()  # (file, reader) behind a deferred notice
        for row in rows:
            activity.heartbeat(report["examined"])
            report["examined"] += 1
            reader = (row.application_id, row.recipient)
            if reader in waiting:
                report["deferred"] += 1
                continue
            try:
                report["delivered" if await self._deliver(row) else "refused"] += 1
            except MailServerUnavailable as error:
                stopped = str(error)
                break
            except TemporaryMailError:
                report["deferred"] += 1
                waiting.add(reader)
        result = SweepReport(**report, stopped=stopped)
        activity_logger().info("stale notices swept", **result.model_dump())
        return result

    async def _deliver(self, row: sa.Row[Any]) -> int:
        """Send one row (or log it); 1 when delivered, 0 when refused for good."""
        log = activity_logger().bind(
            message_id=str(row.message_id), recipient=mask_address(row.recipient)
        )
        if self._mailer is None:
            log.info("notice delivered (log only)", subject=row.subject)
            await self._mark(row.message_id, delivered_by="log")
            return 1
        addresses = (
            (row.recipient,)
            if is_address(row.recipient)
            else await self._addresses(row.recipient, row.department)
        )
        if not addresses:
            log.warning("notice not delivered: unknown recipient (add it to the directory)")
            await self._mark(row.message_id, failed=f"unknown recipient {row.recipient!r}")
            return 0
        mail = OutgoingMail(
            message_id=row.message_id,
            recipients=addresses,
            subject=row.subject,
            body=rendered(
                row.body,
                event_type=row.event_type,
                role=row.recipient_role,
                application_id=row.application_id,
                console_url=self._console_url,
            ),
            application_id=row.application_id,
            # A digest is of many files: its batch's name is no file to thread under.
            thread=(
                None
                if row.event_type == DIGEST_EVENT
                else thread_root(row.application_id, row.recipient)
            ),
        )
        try:
            refused = await self._mailer.send(mail)
        except PermanentMailError as error:
            log.warning("notice refused for good", error=str(error))
            await self._mark(row.message_id, failed=str(error))
            return 0
        except TemporaryMailError as error:
            log.warning("notice delivery deferred", error=str(error))
            await self._mark(row.message_id, error=str(error))
            raise
        partial = "; ".join(f"{mask_address(a)}: {answer}" for a, answer in refused.items())
        await self._mark(row.message_id, delivered_by="smtp", error=partial or None)
        log.info("notice delivered", to=[mask_address(a) for a in addresses], refused=partial)
        return 1

    async def _addresses(self, recipient: str, department: str | None) -> tuple[str, ...]:
        """The directory's addresses for the recipient in the file's department (a pool's
        departmental service: ``caseworkers/01``), else for the recipient itself."""
        if department is not None and (
            found := await self._directory.addresses(f"{recipient}/{department}")
        ):
            return found
        return await self._directory.addresses(recipient)

    async def _mark(
        self,
        message_id: UUID,
        *,
        delivered_by: Delivery | None = None,
        failed: str | None = None,
        error: str | None = None,
    ) -> None:
        """Record one attempt, in its own transaction (an earlier send stays recorded)."""
        now = datetime.now(UTC)
        values: dict[str, Any] = {"attempts": outbox.c.attempts + 1, "last_error": failed or error}
        if delivered_by is not None:
            values["delivered_at"] = now
            values["delivered_by"] = delivered_by
        if failed is not None:
            values["failed_at"] = now
        async with self._engine.begin() as conn:
            await conn.execute(
                outbox.update().where(outbox.c.message_id == message_id).values(**values)
            )

    async def pending(self, application_id: str | None = None) -> list[sa.Row[tuple[object, ...]]]:
        """Notices neither delivered nor refused for good, oldest first."""
        query = sa.select(outbox).where(
            outbox.c.delivered_at.is_(None), outbox.c.failed_at.is_(None)
        )
        if application_id is not None:
            query = query.where(outbox.c.application_id == application_id)
        async with self._engine.connect() as conn:
            return list((await conn.execute(query.order_by(outbox.c.created_at))).all())


def _row(batch: NoticeBatch, item: IdentifiedNotice) -> dict[str, object]:
    notice = item.notice
    return {
        "message_id": item.message_id,
        "application_id": batch.application_id,
        "department": batch.department,
        "recipient_role": notice.recipient_role,
        "recipient": notice.recipient,
        "subject": notice.subject[:500],
        "body": notice.body,
        "event_type": notice.event_type,
        "created_at": datetime.now(UTC),
    }
