"""What the client raises, and how Temporal's errors become them.

Each error is something a person must fix, and its message says what: a refused update
becomes a ``CommandRefused`` with the domain's sentence and rule (``refusal``), a payload
sealed with another key a ``PayloadKeyMismatch`` (``key_mismatch``), an unknown workflow an
``ApplicationNotFound`` (``not_found_or``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from domain.errors import DomainError


class GuichetError(Exception):
    """Something a person must fix; the message says what."""


class ApplicationExists(GuichetError):
    """Another submission already uses this application id (``application_id``)."""

    def __init__(self, message: str, application_id: str) -> None:
        super().__init__(message)
        self.application_id = application_id


class ApplicationNotFound(GuichetError):
    """No workflow runs under this application id."""


class ApplicationEnded(GuichetError):
    """The file's workflow has completed (closed, withdrawn, lapsed, ineligible)."""


class OlderWorker(GuichetError):
    """The worker that answered runs a release of Guichet before the message sent."""


class PageExpired(GuichetError):
    """A listing's page token the server does not accept (altered, or from another server)."""


@dataclass(frozen=True)
class WorkerSeen:
    """A worker as the Temporal server last saw it polling the task queue."""

    identity: str
    last_poll: datetime


class NoWorker(GuichetError):
    """No worker polls the task queue: no file can move, nor be read from its workflow (the
    event log still has what was recorded)."""

    def __init__(
        self, task_queue: str, last_seen: WorkerSeen | None, *, command_pending: bool
    ) -> None:
        self.task_queue = task_queue
        self.last_seen = last_seen
        self.command_pending = command_pending
        """The caller's command reached the server: it may still run when a worker starts."""
        if last_seen is None:
            when = "none has polled it in the last five minutes, or since the server started"
        else:
            polled = f"{last_seen.last_poll:%Y-%m-%d %H:%M:%S} UTC"
            when = f"the last one, {last_seen.identity}, polled it at {polled}"
        message = (
            f"no worker is running on task queue {task_queue!r} ({when}): no file can move "
            "until one runs; start one with `guichet worker` (or `guichet dev`)"
        )
        if command_pending:
            message += (
                ". The command waits on the server and may still run when a worker starts: "
                "look at the file before sending it again"
            )
        super().__init__(message)


class PayloadKeyMismatch(GuichetError):
    """A payload one side sealed and the other could not open: this process and the workers
    were given different payload keys (or only one of them a key)."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            "the payload key differs from the workers': GUICHET_PAYLOAD_KEY (or "
            "GUICHET_PAYLOAD_KEY_FILE) must be the same for the workers, the CLI and the "
            f"console ({detail})"
        )


class CommandRefused(GuichetError):
    """The workflow refused the command: wrong state, wrong role or a broken rule."""

    def __init__(
        self, message: str, *, rule: str, source: str, kind: str, french: str = ""
    ) -> None:
        super().__init__(message)
        self.rule = rule
        self.source = source
        self.kind = kind
        self.french = french or message
        """The refusal in French for the console (the English one from a worker too old to
        send it)."""

    @classmethod
    def of(cls, refused: DomainError) -> CommandRefused:
        """The refusal the workflow would answer, for a command decided here first."""
        return cls(
            refused.message,
            rule=refused.rule,
            source=refused.source,
            kind=type(refused).__name__,
            french=refused.french,
        )


_SEALED_ELSEWHERE = ("Unknown payload encoding binary/encrypted", "payload sealed with key")
"""What the SDK (no key) or our codec (another key) says of a payload it cannot open."""
_UNDECODABLE = "Failed decoding arguments"
"""The SDK's word, in the worker, for a command it could not read."""


def key_mismatch(error: BaseException | None) -> PayloadKeyMismatch | None:
    """``PayloadKeyMismatch`` when ``error`` or one of its causes (a failure from the worker
    carries its own) is a payload that could not be opened for want of the right key."""
    for _ in range(10):  # a failure's chain is short; never loop on a cyclic one
        if error is None:
            return None
        said = str(error).strip("'\"")
        if any(sign in said for sign in _SEALED_ELSEWHERE):
            return PayloadKeyMismatch(said.removeprefix("KeyError: ").strip("'\""))
        error = getattr(error, "cause", None) or error.__cause__
    return None


def refusal(cause: BaseException | None) -> GuichetError:
    """What an update the workflow failed means: the workflow's refusal, or a command the
    workers could not read (the payload key, most likely), or another failure."""
    if (mismatch := key_mismatch(cause)) is not None:
        return mismatch
    if isinstance(cause, ApplicationError) and _UNDECODABLE in cause.message:
        # Another cause than a key (a command an earlier release does not know): the key is
        # still the likeliest, and the release the other thing to compare.
        return GuichetError(
            f"the workers could not read the command ({cause.message}): GUICHET_PAYLOAD_KEY "
            "may differ from the workers' (it must be the same everywhere), or the workers "
            "run an earlier release"
        )
    if isinstance(cause, ApplicationError):
        details = list(cause.details)
        rule = str(details[0]) if details else "unknown"
        source = str(details[1]) if len(details) > 1 else "Guichet"
        french = str(details[2]) if len(details) > 2 else ""
        return CommandRefused(
            cause.message, rule=rule, source=source, kind=cause.type or "", french=french
        )
    return GuichetError(f"the command failed: {cause}")


def not_found_or(error: RPCError, application_id: str) -> GuichetError:
    """``ApplicationNotFound`` when the server does not know the file, else what the
    server's error says (no answer in time, or a refusal)."""
    if "not found" in str(error).lower():
        return ApplicationNotFound(f"no application {application_id}")
    if error.status == RPCStatusCode.DEADLINE_EXCEEDED:
        return GuichetError(f"Temporal did not answer in time: {error.message}")
    return GuichetError(f"Temporal refused the request: {error.message}")
