"""Mails as their readers get them: where their link leads, and what they say of replies."""

from __future__ import annotations

import pytest

from activities.directory import MappingDirectory
from activities.mail import SmtpMailer, SmtpSettings
from activities.outbox import Outbox
from domain.actor import Role
from domain.notices import Notice
from eventlog import EventLog
from tests.notifications.conftest import (
    SmtpServer,
    batch_of,
    deliver,
    notice,
    queue,
)

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
