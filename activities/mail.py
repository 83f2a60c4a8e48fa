"""Sending e-mail: the ``Mailer`` interface, its SMTP implementation, and address masking.

A mailer either sends, raises ``TemporaryMailError`` (the server is down, or answered 4xx:
try again later) or raises ``PermanentMailError`` (5xx: the same message will be refused
again). The outbox turns the first into a Temporal retry and records the second on the row.
The SMTP client is the standard library's, run in a thread so the worker's loop never blocks.
"""

from __future__ import annotations

import asyncio
import email.headerregistry
import email.policy
import email.utils
import re
import smtplib
import ssl
from datetime import UTC, datetime
from email.header import Header
from email.message import EmailMessage
from typing import Literal, Protocol
from uuid import UUID, uuid5

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from domain.deadline import PARIS
from domain.model import Frozen

SENDER_NAME = "Guichet PVD"
"""The From header's name when ``GUICHET_SMTP_FROM_NAME`` names none."""
THREADS = UUID("5b0f0e4e-6a8f-4c0e-9a7e-2f1d3c4b5a69")
"""The namespace of threads' root ids (``thread_root``): fixed, so a root never changes."""
TlsMode = Literal["none", "starttls", "tls"]
DEFAULT_PORTS: dict[str, int] = {"none": 25, "starttls": 587, "tls": 465}


class SmtpSettings(BaseModel):
    """Where and how to send e-mail (``GUICHET_SMTP_*``); the password is never printed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)
    sender: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    """The From address (``GUICHET_SMTP_FROM``); its domain is the mails' ids' too."""
    sender_name: str = Field(default=SENDER_NAME, min_length=1, max_length=100)
    """The name the From header shows (``GUICHET_SMTP_FROM_NAME``): a commune's inbox read
    « guichet@… » among its mails, and no one said whose."""
    tls: TlsMode = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    timeout_seconds: float = Field(default=30.0, gt=0)


class OutgoingMail(Frozen):
    """One message to one or more addresses, identified by the outbox's message id."""

    message_id: UUID
    recipients: tuple[str, ...] = Field(min_length=1)
    subject: str
    body: str
    application_id: str | None = None
    thread: UUID | None = None
    """The root its reader's mails of the same file refer to (``thread_root``); None for a
    mail of no one file (a digest)."""


class MailError(Exception):
    """Sending failed; the message says why, with addresses masked."""


class TemporaryMailError(MailError):
    """It may work later (4xx, a dropped connection): the activity raises and is retried."""


class MailServerUnavailable(TemporaryMailError):
    """The server cannot be reached or refuses us (connection, TLS, login): nothing will pass."""


class PermanentMailError(MailError):
    """The server refused this message for good (5xx): retrying would be refused again."""


Refusals = dict[str, str]
"""Recipients the server refused while accepting the others: address → its answer."""


class Mailer(Protocol):
    """Sends one message; what the outbox needs from any mail transport."""

    async def send(self, mail: OutgoingMail) -> Refusals:
        """Send ``mail``; return the recipients refused while others were accepted.

        Raises ``PermanentMailError`` when no recipient was accepted for good, and
        ``TemporaryMailError`` when it may work later.
        """
        ...


def message_id_header(message_id: UUID, sender: str) -> str:
    """The ``Message-ID`` of an outbox message: the same on every retry of its delivery, on
    the sender's domain (RFC 5322 § 3.6.4: an id unique to the domain that made it; it read
    « @guichet », which names no domain)."""
    return f"<{message_id}@{sender.rpartition('@')[2]}>"


def thread_root(application_id: str, reader: str) -> UUID:
    """The id every mail of one file to one reader refers to (``References``,
    ``In-Reply-To``): a mail client shows the file's life as one conversation. The same for
    each of them, from the file and the reader's id alone; no mail carries it as its own id,
    as a forum's mails refer to a topic."""
    return uuid5(THREADS, f"{application_id}\n{reader}")


def one_line_subject(subject: str) -> str:
    """The subject on one line, as typed. The header parser decodes RFC 2047 encoded words
    even inside a word, line breaks included: a project title typed as
    « =?utf-8?q?=0D=0AReply-To:…?= » wrote headers (or a body) of its own into the mail.
    No encoded word begins without « =? »: a space keeps each one text."""
    return " ".join(subject.split()).replace("=?", "= ?")


def compose(
    mail: OutgoingMail, sender: str, now: datetime, *, sender_name: str = SENDER_NAME
) -> EmailMessage:
    """The RFC 5322 message: UTF-8 plain text, automatic, from Guichet by name, with a stable
    Message-ID, threaded with its reader's other mails of the file, dated in Paris time.

    ``PermanentMailError`` when a recipient cannot be written in a header (an address whose
    encoded words decode to a line break): the same message would fail again."""
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = email.headerregistry.Address(sender_name, addr_spec=sender)
    try:
        message["To"] = ", ".join(mail.recipients)
    except ValueError as error:
        masked = ", ".join(mask_address(address) for address in mail.recipients)
        raise PermanentMailError(f"no To header can carry {masked}: {error}") from None
    subject = one_line_subject(mail.subject)
    if subject.isascii():
        message["Subject"] = subject
    else:
        # CPython 3.11's folder drops the space where it cuts between two encoded words
        # (« Halle «Marché couvert » »); the legacy encoder keeps spaces inside them, and
        # its lines of at most 76 characters are sent as they are.
        message.set_raw("Subject", Header(subject, "utf-8", header_name="Subject").encode())
    message["Date"] = email.utils.format_datetime(now.astimezone(PARIS))  # as its readers live
    message["Message-ID"] = message_id_header(mail.message_id, sender)
    if mail.thread is not None:
        root = message_id_header(mail.thread, sender)
        message["References"] = root
        message["In-Reply-To"] = root
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
    if mail.application_id:
        message["X-Guichet-Application"] = mail.application_id
    message.set_content(mail.body, charset="utf-8")
    return message


class SmtpMailer:
    """A ``Mailer`` over SMTP (plain, STARTTLS or implicit TLS), one connection per message."""

    def __init__(self, settings: SmtpSettings, *, ssl_context: ssl.SSLContext | None = None):
        self._settings = settings
        self._ssl_context = ssl_context or ssl.create_default_context()

    def __repr__(self) -> str:
        s = self._settings
        return f"SmtpMailer({s.host}:{s.port}, tls={s.tls}, user={s.username or '-'})"

    async def send(self, mail: OutgoingMail) -> Refusals:
        """Send in a worker thread (smtplib blocks)."""
        return await asyncio.to_thread(self._send, mail)

    def _send(self, mail: OutgoingMail) -> Refusals:
        s = self._settings
        where = f"SMTP server {s.host}:{s.port}"
        # Before connecting: it may refuse.
        message = compose(mail, s.sender, datetime.now(UTC), sender_name=s.sender_name)
        try:
            with self._connect() as smtp:
                if s.username:
                    password = s.password.get_secret_value() if s.password else ""
                    smtp.login(s.username, password)
                refused = smtp.send_message(message, s.sender, list(mail.recipients))
        except smtplib.SMTPRecipientsRefused as error:
            raise _all_refused(error.recipients) from None
        except smtplib.SMTPAuthenticationError as error:
            raise MailServerUnavailable(
                f"{where} refused the login of {s.username!r} ({_answer(error)}): "
                "check GUICHET_SMTP_USERNAME and GUICHET_SMTP_PASSWORD"
            ) from None
        except smtplib.SMTPSenderRefused as error:
            raise MailServerUnavailable(
                f"{where} refused the sender {s.sender} ({_answer(error)}): check GUICHET_SMTP_FROM"
            ) from None
        except smtplib.SMTPDataError as error:
            if 500 <= error.smtp_code < 600:
                raise PermanentMailError(f"{where} refused the message: {_answer(error)}") from None
            raise TemporaryMailError(f"{where} deferred the message: {_answer(error)}") from None
        except smtplib.SMTPNotSupportedError as error:
            raise MailServerUnavailable(f"{where}: {error} (check GUICHET_SMTP_TLS)") from None
        except (smtplib.SMTPException, OSError) as error:  # refused, timed out, TLS, dropped
            reason = mask_addresses(str(error)) or type(error).__name__
            raise MailServerUnavailable(f"{where} unavailable: {reason}") from None
        return {address: _text(code, answer) for address, (code, answer) in refused.items()}

    def _connect(self) -> smtplib.SMTP:
        s = self._settings
        if s.tls == "tls":
            return smtplib.SMTP_SSL(
                s.host, s.port, timeout=s.timeout_seconds, context=self._ssl_context
            )
        smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds)
        if s.tls == "starttls":
            try:
                smtp.starttls(context=self._ssl_context)
            except BaseException:
                smtp.close()
                raise
        return smtp


def _all_refused(recipients: dict[str, tuple[int, bytes]]) -> MailError:
    answers = "; ".join(
        f"{mask_address(address)}: {_text(code, answer)}"
        for address, (code, answer) in recipients.items()
    )
    if any(400 <= code < 500 for code, _ in recipients.values()):
        return TemporaryMailError(f"recipient deferred: {answers}")
    return PermanentMailError(f"recipient refused: {answers}")


def _answer(error: smtplib.SMTPResponseException) -> str:
    return _text(error.smtp_code, error.smtp_error)


def _text(code: int, answer: bytes | str) -> str:
    raw = answer.decode("utf-8", "replace") if isinstance(answer, bytes) else answer
    return mask_addresses(f"{code} {' '.join(raw.split())}")


_ADDRESS = re.compile(r"([^\s<>@\"',;:()]+)@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")


def mask_address(address: str) -> str:
    """``alice@example.fr`` → ``a***@example.fr``; a non-address (a pool id) is kept."""
    return mask_addresses(address)


def mask_addresses(text: str) -> str:
    """Every e-mail address in ``text`` masked, for log lines and recorded errors."""
    return _ADDRESS.sub(lambda match: f"{match[1][:1]}***@{match[2]}", text)
