"""Delivery of outbox notices to a real local SMTP server (aiosmtpd) from PostgreSQL rows."""

from __future__ import annotations

import ssl
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult
from structlog.testing import capture_logs
from temporalio.exceptions import ApplicationError

from activities.directory import MappingDirectory, load_directory
from activities.mail import OutgoingMail, Refusals, SmtpMailer, SmtpSettings
from activities.outbox import Outbox
from eventlog import EventLog
from tests.certificates import issue
from tests.notifications.conftest import (
    SENDER,
    Recorder,
    SmtpServer,
    batch_of,
    deliver,
    free_port,
    notice,
    queue,
    rows,
    start_smtp,
)

pytestmark = pytest.mark.postgres


async def test_a_notice_reaches_the_smtp_server_with_headers_and_french_body(
    event_log: EventLog, smtp_server: SmtpServer
) -> None:
    """The server gets From, To, the UTF-8 subject and body, and a Message-ID from the row."""
    box = Outbox(event_log.engine, mailer=SmtpMailer(smtp_server.settings))
    batch = batch_of(notice("maire@bourg-en-bresse.example.fr"))
    await queue(box, batch)

    assert await deliver(box, batch) == 1

    (received,) = await smtp_server.recorder.wait_for(1)
    message = received.message
    message_id = batch.notices[0].message_id
    assert received.mail_from == SENDER
    assert received.rcpt_tos == ["maire@bourg-en-bresse.example.fr"]
    assert message["From"] == f"Guichet PVD <{SENDER}>"
    assert message["To"] == "maire@bourg-en-bresse.example.fr"
    assert message["Subject"] == "[dossier-1] Projet : décision attributive"
    assert message["Message-ID"] == f"<{message_id}@pvd.example.fr>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Guichet-Application"] == "dossier-1"
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    body = message.get_content()
    assert "Subvention attribuée : 12 000,00 €." in body
    assert "l'équipe Petites Villes de Demain" in body
    row = (await rows(event_log))[message_id]
    assert row.delivered_at is not None
    assert (row.attempts, row.failed_at, row.last_error) == (1, None, None)


async def test_a_delivered_notice_is_not_sent_again(
    event_log: EventLog, smtp_server: SmtpServer
) -> None:
    """Delivering the same batch twice sends each notice once."""
    box = Outbox(event_log.engine, mailer=SmtpMailer(smtp_server.settings))
    batch = batch_of(notice("a@example.fr"), notice("b@example.fr"))
    await queue(box, batch)

    assert await deliver(box, batch) == 2
    assert await deliver(box, batch) == 0

    assert len(await smtp_server.recorder.wait_for(2)) == 2


class CrashAfterSend:
    """Sends, then dies before the outbox can mark the row: a worker lost mid-delivery."""

    def __init__(self, inner: SmtpMailer) -> None:
        self.inner = inner
        self.crashed = False

    async def send(self, mail: OutgoingMail) -> Refusals:
        refused = await self.inner.send(mail)
        if not self.crashed:
            self.crashed = True
            raise RuntimeError("worker lost after sending")
        return refused


async def test_a_retried_delivery_carries_the_same_message_id(
    event_log: EventLog, smtp_server: SmtpServer
) -> None:
    """At-least-once: sent, crash before marking, retried: both copies share the Message-ID."""
    box = Outbox(event_log.engine, mailer=CrashAfterSend(SmtpMailer(smtp_server.settings)))
    batch = batch_of(notice("maire@example.fr"))
    await queue(box, batch)

    with pytest.raises(RuntimeError):
        await deliver(box, batch)
    assert (await rows(event_log))[batch.notices[0].message_id].delivered_at is None
    assert await deliver(box, batch) == 1  # Temporal's retry of the activity

    first, second = await smtp_server.recorder.wait_for(2)
    assert first.message["Message-ID"] == second.message["Message-ID"]
    assert first.message["Message-ID"] == f"<{batch.notices[0].message_id}@pvd.example.fr>"


async def test_a_server_that_is_down_makes_delivery_raise_for_a_retry(
    event_log: EventLog,
) -> None:
    """Connection refused: a retryable error, the row stays pending; later it is delivered."""
    port = free_port()
    settings = SmtpSettings(host="127.0.0.1", port=port, sender=SENDER, tls="none")
    box = Outbox(event_log.engine, mailer=SmtpMailer(settings))
    batch = batch_of(notice("maire@example.fr"), notice("adjoint@example.fr"))
    await queue(box, batch)

    with pytest.raises(ApplicationError) as raised:
        await deliver(box, batch)

    assert raised.value.type == "MailServerUnavailable"
    assert not raised.value.non_retryable
    assert f"127.0.0.1:{port}" in raised.value.message
    assert len(await box.pending("dossier-1")) == 2
    attempted = [r for r in (await rows(event_log)).values() if r.attempts]
    assert len(attempted) == 1  # the first failure stops the batch: the server is down
    assert "unavailable" in attempted[0].last_error

    recorder = Recorder()
    controller = start_smtp(port, recorder)  # the server is back
    try:
        assert await deliver(box, batch) == 2
        assert len(await recorder.wait_for(2)) == 2
    finally:
        controller.stop()


async def test_a_permanent_refusal_of_one_recipient_is_recorded_and_others_delivered(
    event_log: EventLog, smtp_server: SmtpServer
) -> None:
    """550 for one address: its row is marked failed with the answer, never retried."""
    smtp_server.recorder.answers["parti@example.fr"] = "550 5.1.1 <parti@example.fr>: unknown"
    box = Outbox(event_log.engine, mailer=SmtpMailer(smtp_server.settings))
    batch = batch_of(notice("a@example.fr"), notice("parti@example.fr"), notice("c@example.fr"))
    await queue(box, batch)

    assert await deliver(box, batch) == 2
    assert await deliver(box, batch) == 0  # the refused one is not tried again

    received = await smtp_server.recorder.wait_for(2)
    assert sorted(r.rcpt_tos[0] for r in received) == ["a@example.fr", "c@example.fr"]
    refused = (await rows(event_log))[batch.notices[1].message_id]
    assert refused.delivered_at is None
    assert refused.failed_at is not None
    assert refused.attempts == 1
    assert "550 5.1.1" in refused.last_error
    assert "parti@example.fr" not in refused.last_error  # masked: p***@example.fr
    assert "p***@example.fr" in refused.last_error
    assert await box.pending("dossier-1") == []


async def test_a_temporary_refusal_raises_after_the_others_are_delivered(
    event_log: EventLog, smtp_server: SmtpServer
) -> None:
    """451 for one address: the others go out, then the activity raises to be retried."""
    smtp_server.recorder.answers["plein@example.fr"] = "451 4.2.2 mailbox full, try later"
    box = Outbox(event_log.engine, mailer=SmtpMailer(smtp_server.settings))
    batch = batch_of(notice("plein@example.fr"), notice("b@example.fr"))
    await queue(box, batch)

    with pytest.raises(ApplicationError) as raised:
        await deliver(box, batch)

    assert raised.value.type == "MailDeferred"
    assert not raised.value.non_retryable
    assert [r.rcpt_tos for r in await smtp_server.recorder.wait_for(1)] == [["b@example.fr"]]
    (pending,) = await box.pending("dossier-1")
    assert pending.message_id == batch.notices[0].message_id
    assert "451 4.2.2" in pending.last_error

    del smtp_server.recorder.answers["plein@example.fr"]  # the mailbox has room again
    assert await deliver(box, batch) == 1


async def test_pool_and_person_ids_are_resolved_through_the_directory_file(
    event_log: EventLog, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    """``supervisors`` reaches both addresses of the TOML directory; ``alice`` hers."""
    path = tmp_path / "directory.toml"
    path.write_text(
        'alice = "alice.martin@ain.example.fr"\n'
        'supervisors = ["chef@ain.example.fr", "adjointe@ain.example.fr"]\n'
        '"cofinancer:REGION" = "subventions@region.example.fr"\n',
        encoding="utf-8",
    )
    box = Outbox(
        event_log.engine, mailer=SmtpMailer(smtp_server.settings), directory=load_directory(path)
    )
    batch = batch_of(notice("supervisors"), notice("alice"), notice("cofinancer:REGION"))
    await queue(box, batch)

    assert await deliver(box, batch) == 3

    envelopes = sorted(sorted(r.rcpt_tos) for r in await smtp_server.recorder.wait_for(3))
    assert envelopes == [
        ["adjointe@ain.example.fr", "chef@ain.example.fr"],
        ["alice.martin@ain.example.fr"],
        ["subventions@region.example.fr"],
    ]


async def test_a_pool_s_notice_reaches_the_service_of_the_file_s_department(
    event_log: EventLog, smtp_server: SmtpServer
) -> None:
    """« caseworkers/01 » (the Ain's DDT) before « caseworkers »; a department the directory
    has no entry for, and a file without a department, go to the pool's own entry."""
    box = Outbox(
        event_log.engine,
        mailer=SmtpMailer(smtp_server.settings),
        directory=MappingDirectory(
            {"caseworkers": ["pvd@anct.example.fr"], "caseworkers/01": ["ddt@ain.example.fr"]}
        ),
    )
    batches = [
        batch_of(notice("caseworkers")).model_copy(update={"department": department})
        for department in ("01", "38", None)
    ]
    for batch in batches:
        await queue(box, batch)
        assert await deliver(box, batch) == 1
    envelopes = [r.rcpt_tos for r in await smtp_server.recorder.wait_for(3)]
    assert sorted(envelopes) == [
        ["ddt@ain.example.fr"],
        ["pvd@anct.example.fr"],
        ["pvd@anct.example.fr"],
    ]
    stored = await rows(event_log)
    assert [stored[b.notices[0].message_id].department for b in batches] == ["01", "38", None]


async def test_an_unknown_recipient_is_logged_and_recorded_without_failing_delivery(
    event_log: EventLog, smtp_server: SmtpServer
) -> None:
    """An id missing from the directory: a clear log line, a failed row, the rest delivered."""
    box = Outbox(
        event_log.engine,
        mailer=SmtpMailer(smtp_server.settings),
        directory=MappingDirectory({"alice": ["alice@example.fr"]}),
    )
    batch = batch_of(notice("bob"), notice("alice"))
    await queue(box, batch)

    with capture_logs() as logs:
        assert await deliver(box, batch) == 1

    unknown = [e for e in logs if "unknown recipient" in e["event"]]
    assert len(unknown) == 1
    assert unknown[0]["recipient"] == "bob"
    assert unknown[0]["log_level"] == "warning"
    row = (await rows(event_log))[batch.notices[0].message_id]
    assert row.failed_at is not None
    assert "unknown recipient 'bob'" in row.last_error


async def test_addresses_are_masked_in_every_log_line(
    event_log: EventLog, smtp_server: SmtpServer
) -> None:
    """Log lines name a***@domain, never the full address, whatever the outcome."""
    smtp_server.recorder.answers["refuse@example.fr"] = "550 5.1.1 <refuse@example.fr> unknown"
    box = Outbox(event_log.engine, mailer=SmtpMailer(smtp_server.settings))
    batch = batch_of(notice("claire.dupont@example.fr"), notice("refuse@example.fr"))
    await queue(box, batch)

    with capture_logs() as logs:
        await deliver(box, batch)

    text = repr(logs)
    assert "claire.dupont@example.fr" not in text
    assert "refuse@example.fr" not in text
    assert "c***@example.fr" in text
    assert "r***@example.fr" in text


async def test_without_smtp_a_notice_is_delivered_as_a_log_line(event_log: EventLog) -> None:
    """No mailer configured: a log line per notice, marked delivered, as before SMTP."""
    box = Outbox(event_log.engine)
    batch = batch_of(notice("maire@example.fr"), notice("supervisors"))
    await queue(box, batch)

    with capture_logs() as logs:
        assert await deliver(box, batch) == 2

    assert [e["event"] for e in logs] == ["notice delivered (log only)"] * 2
    assert {e["recipient"] for e in logs} == {"m***@example.fr", "supervisors"}
    assert await box.pending() == []


async def test_a_row_says_whether_its_notice_was_mailed_or_only_written_to_the_log(
    event_log: EventLog, smtp_server: SmtpServer
) -> None:
    """``delivered_by``: ``smtp`` when the server took the notice, ``log`` when a worker
    without an SMTP host only logged it (nobody received it), nothing when it was refused."""
    mailing = Outbox(event_log.engine, mailer=SmtpMailer(smtp_server.settings))
    logging_only = Outbox(event_log.engine)
    mailed = batch_of(notice("maire@example.fr"), notice("nobody-in-the-directory"))
    logged = batch_of(notice("maire@example.fr"), application_id="dossier-2")
    await queue(mailing, mailed)
    await queue(logging_only, logged)

    assert await deliver(mailing, mailed) == 1
    assert await deliver(logging_only, logged) == 1

    stored = await rows(event_log)
    sent, refused = (stored[item.message_id] for item in mailed.notices)
    only_logged = stored[logged.notices[0].message_id]
    assert (sent.delivered_by, only_logged.delivered_by, refused.delivered_by) == (
        "smtp",
        "log",
        None,
    )
    assert sent.delivered_at is not None and only_logged.delivered_at is not None


def _self_signed(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a certificate for 127.0.0.1, and a client context trusting it."""
    issued = issue("127.0.0.1", tmp_path)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(issued.cert_path, issued.key_path)
    client = ssl.create_default_context(cafile=str(issued.cert_path))
    return server, client


def _authenticator(*args: Any) -> AuthResult:
    """Accept ``guichet``/``s3cret`` only."""
    _server, _session, _envelope, _mechanism, data = args
    ok = data.login == b"guichet" and data.password == b"s3cret"
    if not ok:
        return AuthResult(success=False, handled=False)  # not handled: aiosmtpd answers 535
    return AuthResult(success=True, auth_data="guichet")


@pytest.mark.parametrize("mode", ["starttls", "tls"])
async def test_tls_and_login_are_used_when_configured(
    event_log: EventLog, tmp_path: Path, mode: str
) -> None:
    """STARTTLS or implicit TLS, then AUTH with the configured user, then the message."""
    server_context, client_context = _self_signed(tmp_path)
    recorder, port = Recorder(), free_port()
    tls_options: dict[str, Any] = (
        {"tls_context": server_context, "require_starttls": True}
        if mode == "starttls"
        # aiosmtpd only counts STARTTLS as TLS for AUTH; this connection is TLS from the start.
        else {"ssl_context": server_context, "auth_require_tls": False}
    )
    controller = start_smtp(port, recorder, authenticator=_authenticator, **tls_options)
    settings = SmtpSettings.model_validate(
        {
            "host": "127.0.0.1",
            "port": port,
            "sender": SENDER,
            "tls": mode,
            "username": "guichet",
            "password": "s3cret",
        }
    )
    mailer = SmtpMailer(settings, ssl_context=client_context)
    box = Outbox(event_log.engine, mailer=mailer)
    batch = batch_of(notice("maire@example.fr"))
    await queue(box, batch)
    try:
        assert await deliver(box, batch) == 1
        (received,) = await recorder.wait_for(1)
    finally:
        controller.stop()
    assert received.login == "guichet"
    assert "s3cret" not in repr(settings) + repr(mailer) + settings.model_dump_json()


async def test_a_wrong_password_is_a_clear_retryable_error(
    event_log: EventLog, tmp_path: Path
) -> None:
    """Login refused: the error names the user and the settings to check, not the password."""
    server_context, client_context = _self_signed(tmp_path)
    recorder, port = Recorder(), free_port()
    controller = start_smtp(
        port,
        recorder,
        authenticator=_authenticator,
        tls_context=server_context,
    )
    settings = SmtpSettings.model_validate(
        {
            "host": "127.0.0.1",
            "port": port,
            "sender": SENDER,
            "tls": "starttls",
            "username": "guichet",
            "password": "wrong-pass",
            "timeout_seconds": 5,
        }
    )
    box = Outbox(event_log.engine, mailer=SmtpMailer(settings, ssl_context=client_context))
    batch = batch_of(notice("maire@example.fr"))
    await queue(box, batch)
    try:
        with pytest.raises(ApplicationError) as raised:
            await deliver(box, batch)
    finally:
        controller.stop()
    assert raised.value.type == "MailServerUnavailable"
    assert "'guichet'" in raised.value.message
    assert "GUICHET_SMTP_PASSWORD" in raised.value.message
    assert "wrong-pass" not in raised.value.message
    assert recorder.received() == []


def test_message_ids_are_stable_per_outbox_row() -> None:
    """The header is derived from the row's id: the same id gives the same header."""
    from activities.mail import message_id_header

    message_id = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert (
        message_id_header(message_id, "guichet@pvd.example.fr")
        == "<12345678-1234-5678-1234-567812345678@pvd.example.fr>"
    )


async def test_with_the_console_s_address_a_mail_links_to_its_file(
    event_log: EventLog, smtp_server: SmtpServer
) -> None:
    """GUICHET_CONSOLE_URL set: the reader goes from the mail to the file's page."""
    box = Outbox(
        event_log.engine,
        mailer=SmtpMailer(smtp_server.settings),
        console_url="https://guichet.example.fr/",
    )
    batch = batch_of(notice("maire@bourg-en-bresse.example.fr"))
    await queue(box, batch)
    assert await deliver(box, batch) == 1
    (received,) = await smtp_server.recorder.wait_for(1)
    body = received.message.get_content()
    assert "Subvention attribuée : 12 000,00 €." in body
    assert body.rstrip().endswith(
        "Le dossier dans Guichet : https://guichet.example.fr/dossiers/dossier-1"
    )


async def test_a_digest_links_to_its_reader_s_list_not_to_a_file(
    event_log: EventLog, smtp_server: SmtpServer
) -> None:
    """A digest's batch is named after the digest's run, which no file page is: the
    caseworker's links to the queue, the co-financer's to its lines."""
    box = Outbox(
        event_log.engine,
        mailer=SmtpMailer(smtp_server.settings),
        directory=MappingDirectory(
            {"alice": ["alice@ain.example.fr"], "cofinancer:REGION": ["region@example.fr"]}
        ),
        console_url="https://guichet.example.fr/",
    )
    digests = [
        notice("alice").model_copy(
            update={"recipient_role": "caseworker", "event_type": "DailyDigest"}
        ),
        notice("cofinancer:REGION").model_copy(
            update={"recipient_role": "cofinancer", "event_type": "DailyDigest"}
        ),
    ]
    batch = batch_of(*digests, application_id="guichet-daily-digest-2026-12-07T06:00:00Z")
    await queue(box, batch)
    assert await deliver(box, batch) == 2
    received = await smtp_server.recorder.wait_for(2)
    ends = {r.rcpt_tos[0]: r.message.get_content().rstrip().rsplit("\n", 1)[1] for r in received}
    assert ends == {
        "alice@ain.example.fr": "Vos dossiers dans Guichet : https://guichet.example.fr/dossiers",
        "region@example.fr": "Vos dossiers dans Guichet : https://guichet.example.fr/cofinancement",
    }


async def test_an_encoded_word_in_a_title_adds_no_header_to_the_mail(
    event_log: EventLog, smtp_server: SmtpServer
) -> None:
    """A project title typed as an RFC 2047 encoded word holding a line break
    (« =?utf-8?q?=0D=0AReply-To:…?= ») stays in the subject: no header of its own."""
    typed = "Halle =?utf-8?q?=0D=0AReply-To:_escroc=40example.com=0D=0A=0D=0AFaux_avis?="
    box = Outbox(event_log.engine, mailer=SmtpMailer(smtp_server.settings))
    batch = batch_of(notice("maire@example.fr", subject=f"[dossier-1] {typed}"))
    await queue(box, batch)

    assert await deliver(box, batch) == 1

    (received,) = await smtp_server.recorder.wait_for(1)
    message = received.message
    assert message["Reply-To"] is None
    assert "\n" not in message["Subject"]
    assert "Reply-To:_escroc=40example.com" in message["Subject"]
    assert message.get_content().startswith("Subvention attribuée")


async def test_an_address_no_header_can_carry_is_refused_and_the_others_delivered(
    event_log: EventLog, smtp_server: SmtpServer
) -> None:
    """A commune's contact address whose name is an encoded line break cannot be written
    in a To header: its notice is recorded as refused, the batch's others still go."""
    unwritable = "=?utf-8?q?=0D=0ABcc=3A_escroc=40example.com?=@example.fr"
    box = Outbox(event_log.engine, mailer=SmtpMailer(smtp_server.settings))
    batch = batch_of(notice(unwritable), notice("c@example.fr"))
    await queue(box, batch)

    assert await deliver(box, batch) == 1

    (received,) = await smtp_server.recorder.wait_for(1)
    assert received.rcpt_tos == ["c@example.fr"]
    refused = (await rows(event_log))[batch.notices[0].message_id]
    assert (refused.delivered_at, refused.failed_at is not None) == (None, True)
    assert "To" in refused.last_error
