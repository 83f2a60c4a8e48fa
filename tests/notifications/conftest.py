"""Fixtures for notification tests: a real SMTP server (aiosmtpd) on a free local port, an
outbox on PostgreSQL, and helpers to queue and deliver notices as the activities do."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from temporalio.testing import ActivityEnvironment

from activities.mail import SmtpSettings
from activities.outbox import IdentifiedNotice, NoticeBatch, Outbox, outbox
from domain.notices import Notice
from eventlog import EventLog
from tests.e2e.support import free_port
from tests.workflow.conftest import (  # noqa: F401 (a file's life on a real SMTP server)
    catalogue,
    registry,
    stack,
    time_env,
)

SENDER = "guichet@pvd.example.fr"


@dataclass
class Received:
    """One message as the SMTP server got it: envelope and parsed content."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    login: str | None = None


@dataclass
class Recorder:
    """An aiosmtpd handler that keeps what it accepts and answers as told per recipient."""

    answers: dict[str, str] = field(default_factory=dict)
    """recipient → SMTP answer to RCPT TO (e.g. ``550 5.1.1 no such mailbox``)."""
    messages: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address in self.answers:
            return self.answers[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        login = session.auth_data if isinstance(session.auth_data, str) else None
        with self.lock:
            self.messages.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), parsed, login)
            )
        return "250 Message accepted for delivery"

    def received(self) -> list[Received]:
        with self.lock:
            return list(self.messages)

    async def wait_for(self, count: int, seconds: float = 30.0) -> list[Received]:
        """At least ``count`` messages, polling until they arrive."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while len(self.received()) < count:
            if loop.time() > deadline:
                raise AssertionError(f"{len(self.received())} of {count} messages arrived")
            await asyncio.sleep(0.05)
        return self.received()


@dataclass
class SmtpServer:
    """A running local SMTP server and the settings that reach it."""

    recorder: Recorder
    settings: SmtpSettings


def start_smtp(port: int, recorder: Recorder, **options: Any) -> Controller:
    controller = Controller(recorder, hostname="127.0.0.1", port=port, **options)
    controller.start()
    return controller


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A plain SMTP server (no TLS) on a free port, stopped after the test."""
    recorder = Recorder()
    port = free_port()
    controller = start_smtp(port, recorder)
    yield SmtpServer(recorder, SmtpSettings(host="127.0.0.1", port=port, sender=SENDER, tls="none"))
    controller.stop()


@pytest.fixture
async def event_log(pg_url: str, pg_schema: str) -> AsyncIterator[EventLog]:
    """A migrated log (and so an outbox table) in a fresh PostgreSQL schema."""
    log = EventLog.from_url(pg_url, search_path=pg_schema)
    await log.migrate()
    yield log
    await log.close()


def notice(recipient: str, subject: str = "[dossier-1] Projet : décision attributive") -> Notice:
    """A notice as ``domain.notices`` builds them, with French text."""
    return Notice(
        recipient_role="applicant",
        recipient=recipient,
        subject=subject,
        body="Subvention attribuée : 12 000,00 €.\nÀ bientôt, l'équipe Petites Villes de Demain.",
        event_type="AwardNotified",
    )


def batch_of(*notices: Notice, application_id: str = "dossier-1") -> NoticeBatch:
    """The notices with fresh message ids, as the workflow mints them."""
    return NoticeBatch(
        application_id=application_id,
        notices=tuple(IdentifiedNotice(message_id=uuid.uuid4(), notice=n) for n in notices),
    )


async def queue(box: Outbox, batch: NoticeBatch) -> None:
    """Run ``enqueue_notices`` as Temporal would."""
    await ActivityEnvironment().run(box.enqueue_notices, batch)


async def deliver(box: Outbox, batch: NoticeBatch) -> int:
    """Run ``deliver_notices`` as Temporal would (one attempt)."""
    delivered: int = await ActivityEnvironment().run(box.deliver_notices, batch)
    return delivered


async def rows(log: EventLog) -> dict[uuid.UUID, Any]:
    """Every outbox row by message id."""
    async with log.engine.connect() as conn:
        result = await conn.execute(outbox.select())
        return {row.message_id: row for row in result}
