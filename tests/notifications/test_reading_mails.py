"""Mails as their readers get them: where their link leads, what they say of replies, and
the order in which one reader receives a file's notices."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.exceptions import ApplicationError

from activities.directory import MappingDirectory
from activities.mail import SmtpMailer, SmtpSettings
from activities.outbox import Outbox
from domain.actor import Role
from domain.notices import Notice
from eventlog import EventLog
from tests.notifications.conftest import (
    SENDER,
    Recorder,
    SmtpServer,
    batch_of,
    deliver,
    free_port,
    notice,
    queue,
    start_smtp,
)
from tests.notifications.test_redelivery import queued_hours_ago, sweep

pytestmark = pytest.mark.postgres

CONSOLE = "https://guichet.example.fr"
DIRECTORY = MappingDirectory(
    {
        "cofinancer:DEPARTEMENT": ["cd01@example.fr"],
        "abf-ain": ["abf@culture.example.fr"],
        "alice": ["alice@ddt.example.fr"],
    }
)


def mailing(log: EventLog, settings: SmtpSettings, console_url: str | None = CONSOLE) -> Outbox:
    return Outbox(
        log.engine, mailer=SmtpMailer(settings), directory=DIRECTORY, console_url=console_url
    )


def told(recipient: str, role: Role, event_type: str) -> Notice:
    """A notice of ``event_type`` for ``recipient`` in ``role``."""
    return notice(recipient).model_copy(update={"recipient_role": role, "event_type": event_type})


async def test_a_cofinancer_whose_line_left_the_plan_gets_no_link_to_the_file(
    event_log: EventLog, smtp_server: SmtpServer
) -> None:
    """« Ligne retirée du plan »: the file no longer opens to a funder without a line in it
    (``console.web.files.may_see``), so its page is not offered; the services' notice of
    the same revised plan keeps its link."""
    box = mailing(event_log, smtp_server.settings)
    batch = batch_of(
        told("cofinancer:DEPARTEMENT", "cofinancer", "PlanRevised"),
        told("alice", "caseworker", "PlanRevised"),
    )
    await queue(box, batch)
    assert await deliver(box, batch) == 2

    bodies = {
        r.rcpt_tos[0]: r.message.get_content() for r in await smtp_server.recorder.wait_for(2)
    }
    assert "/dossiers/" not in bodies["cd01@example.fr"]
    assert f"{CONSOLE}/dossiers/dossier-1" in bodies["alice@ddt.example.fr"]


async def test_an_expert_whose_request_was_withdrawn_is_linked_to_their_requests(
    event_log: EventLog, smtp_server: SmtpServer
) -> None:
    """« Demande d'avis retirée »: the file no longer opens to that expert; their page
    « Avis demandés » lists the request with the reason it was withdrawn."""
    box = mailing(event_log, smtp_server.settings)
    batch = batch_of(told("abf-ain", "expert", "OpinionRequestWithdrawn"))
    await queue(box, batch)
    assert await deliver(box, batch) == 1

    (received,) = await smtp_server.recorder.wait_for(1)
    body = received.message.get_content()
    assert "/dossiers/" not in body
    assert body.rstrip().endswith(f"Vos demandes d'avis dans Guichet : {CONSOLE}/avis")


@pytest.mark.parametrize("console_url", [CONSOLE, None])
async def test_a_file_s_notice_says_it_is_automatic_and_not_to_be_answered(
    event_log: EventLog, smtp_server: SmtpServer, console_url: str | None
) -> None:
    """A commune answering « correction demandée » by replying to the mail would be read
    by nobody: the mail says so, as the digests do, with or without the console's link."""
    box = mailing(event_log, smtp_server.settings, console_url)
    batch = batch_of(told("alice", "caseworker", "CorrectionRequested"))
    await queue(box, batch)
    assert await deliver(box, batch) == 1

    (received,) = await smtp_server.recorder.wait_for(1)
    body = received.message.get_content().replace("\r\n", "\n")  # as sent: CRLF
    footer = body.split("\n-- \n", 1)[1]
    assert footer.startswith("Message automatique de Guichet, merci de ne pas y répondre.")
    assert ("/dossiers/dossier-1" in footer) == (console_url is not None)


async def test_a_reader_gets_a_file_s_notices_in_the_order_they_were_written(
    event_log: EventLog, smtp_server: SmtpServer
) -> None:
    """Each batch is delivered in the background: a later batch's delivery waits while an
    earlier notice of the file to the same reader is still on its way (a co-financer read
    « décision attendue » after « demande retirée »); other readers are not held up."""
    box = mailing(event_log, smtp_server.settings)
    expected = batch_of(told("cofinancer:DEPARTEMENT", "cofinancer", "DeadlineOpened"))
    withdrawn = batch_of(
        told("cofinancer:DEPARTEMENT", "cofinancer", "ApplicationWithdrawn"),
        told("alice", "caseworker", "ApplicationWithdrawn"),
    )
    await queue(box, expected)
    await queue(box, withdrawn)

    with pytest.raises(ApplicationError) as raised:
        await deliver(box, withdrawn)  # its delivery runs first
    assert raised.value.type == "MailDeferred"
    assert not raised.value.non_retryable
    assert [r.rcpt_tos for r in await smtp_server.recorder.wait_for(1)] == [
        ["alice@ddt.example.fr"]
    ]

    assert await deliver(box, expected) == 1
    assert await deliver(box, withdrawn) == 1  # Temporal's retry
    received = await smtp_server.recorder.wait_for(3)
    funder = [r.message["Message-ID"] for r in received if r.rcpt_tos == ["cd01@example.fr"]]
    assert funder == [
        f"<{expected.notices[0].message_id}@pvd.example.fr>",
        f"<{withdrawn.notices[0].message_id}@pvd.example.fr>",
    ]


class DeferredOnce(Recorder):
    """Answers 451 to the first RCPT of each listed address, then accepts it."""

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if answer := self.answers.pop(address, None):
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"


async def test_the_sweep_keeps_a_reader_s_later_notice_behind_a_deferred_earlier_one(
    event_log: EventLog,
) -> None:
    """Two stale notices of a file to one reader: the older one deferred by the server, the
    younger one is not sent before it; the next sweep sends both, in order."""
    recorder, port = DeferredOnce(), free_port()
    recorder.answers["alice@ddt.example.fr"] = "451 4.2.2 mailbox busy, try later"
    controller = start_smtp(port, recorder)
    settings = SmtpSettings(host="127.0.0.1", port=port, sender=SENDER, tls="none")
    box = mailing(event_log, settings)
    older = batch_of(told("alice", "caseworker", "ReminderSent"))
    younger = batch_of(told("alice", "caseworker", "DeadlineExpired"))
    try:
        for batch, hours in ((older, 20), (younger, 14)):
            await queue(box, batch)
            await queued_hours_ago(event_log, batch.notices[0].message_id, hours)

        first = await sweep(box)
        assert (first.examined, first.delivered, first.deferred) == (2, 0, 2)
        assert recorder.received() == []

        second = await sweep(box)
        assert (second.examined, second.delivered) == (2, 2)
        received = await recorder.wait_for(2)
    finally:
        controller.stop()
    assert [r.message["Message-ID"] for r in received] == [
        f"<{older.notices[0].message_id}@pvd.example.fr>",
        f"<{younger.notices[0].message_id}@pvd.example.fr>",
    ]
