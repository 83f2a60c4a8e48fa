"""A notice's mail headers as a mail client reads them: who it is from, its id, its thread."""

from __future__ import annotations

import email
import email.policy
import uuid
from datetime import UTC, datetime

from activities.mail import OutgoingMail, compose, thread_root
from workers.settings import Settings

NOW = datetime(2026, 11, 30, 9, 15, 30, tzinfo=UTC)


def mail_of(application_id: str | None, reader: str | None = None) -> OutgoingMail:
    return OutgoingMail(
        message_id=uuid.uuid4(),
        recipients=("mairie@belley.example.fr",),
        subject="Correction demandée – Belley – Halle [PVD-1]",
        body="Devis manquant.",
        application_id=application_id,
        thread=thread_root(application_id, reader) if application_id and reader else None,
    )


def test_a_mail_comes_from_guichet_by_name_and_its_id_names_the_sender_s_domain() -> None:
    """The From header read « guichet@… » with no name, and the Message-ID ended in
    « @guichet », no domain at all (RFC 5322 wants one, and spam filters score it)."""
    message = compose(mail_of("PVD-1"), "guichet@pvd.example.fr", NOW)
    assert message["From"] == "Guichet PVD <guichet@pvd.example.fr>"
    assert message["Message-ID"].endswith("@pvd.example.fr>")
    named = compose(mail_of("PVD-1"), "g@ain.gouv.fr", NOW, sender_name="DDT de l'Ain")
    assert named["From"] == "DDT de l'Ain <g@ain.gouv.fr>"


def test_one_reader_s_mails_of_one_file_thread_under_one_root() -> None:
    """Each mail of a file to a reader refers to the same root, which no other file or
    reader shares: a mail client shows a file's life as one conversation."""
    first, second = (compose(mail_of("PVD-1", "alice"), "g@ex.fr", NOW) for _ in range(2))
    assert first["Message-ID"] != second["Message-ID"]
    assert first["References"] == second["References"] == first["In-Reply-To"]
    assert first["References"].startswith("<") and first["References"].endswith("@ex.fr>")
    other_reader = compose(mail_of("PVD-1", "bob"), "g@ex.fr", NOW)
    other_file = compose(mail_of("PVD-2", "alice"), "g@ex.fr", NOW)
    assert len({first["References"], other_reader["References"], other_file["References"]}) == 3
    assert compose(mail_of(None), "g@ex.fr", NOW)["References"] is None


def test_the_sender_s_name_is_read_from_the_environment() -> None:
    """GUICHET_SMTP_FROM_NAME names the sender; « Guichet PVD » without it."""
    env = {"GUICHET_SMTP_HOST": "mx", "GUICHET_SMTP_FROM": "g@example.fr"}
    settings = Settings.from_env(env)
    assert settings.smtp is not None and settings.smtp.sender_name == "Guichet PVD"
    named = Settings.from_env({**env, "GUICHET_SMTP_FROM_NAME": "Préfecture de l'Ain"})
    assert named.smtp is not None and named.smtp.sender_name == "Préfecture de l'Ain"


def test_a_long_french_subject_reads_back_whole_after_folding() -> None:
    """CPython's folder dropped the space where it cut a subject between two encoded words:
    the commune read « Halle «Marché couvert » », a word glued to the quotation mark."""
    subject = (
        "Nouvelle demande – Valserhône – Halle « Marché couvert » "
        "[dsil-detr-investissement-01033-abcca37f1623]"
    )
    mail = mail_of("PVD-1").model_copy(update={"subject": subject})
    sent = compose(mail, "g@ex.fr", NOW).as_bytes()
    assert all(len(line) <= 78 for line in sent.split(b"\r\n"))
    read = email.message_from_bytes(sent, policy=email.policy.default)
    assert read["Subject"] == subject
