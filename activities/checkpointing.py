"""``sign_checkpoint``: sign the event log's head with the Ed25519 key of this worker.

Run on a schedule by ``CheckpointWorkflow``. The key is read when the activity runs (from
``GUICHET_SIGNING_KEY_FILE`` or ``GUICHET_SIGNING_KEY``, see ``eventlog.signing``), so a key
rotated in its file is picked up without a restart; it is never logged. No key, or an
unreadable one, fails the activity for good: retrying cannot make a key appear.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.logging import activity_logger
from domain.model import Frozen
from eventlog import EventLog
from eventlog.checkpoints import checkpoint_now
from eventlog.signing import SigningKeyError, signing_key_from_env

KeySource = Callable[[], Ed25519PrivateKey | None]


class SignCheckpoint(Frozen):
    """Sign the head now (no parameters: the head is whatever the log holds)."""


class CheckpointSigned(Frozen):
    """The checkpoint now covering the head; ``created`` False when the head was signed already."""

    position: int
    hash: str
    key_id: str
    signed_at: datetime | None
    created: bool


class CheckpointSigner:
    """Activities that sign checkpoints of one event log."""

    def __init__(self, log: EventLog, key_source: KeySource = signing_key_from_env) -> None:
        self._log = log
        self._key_source = key_source

    @activity.defn(name="sign_checkpoint")
    async def sign_checkpoint(self, request: SignCheckpoint) -> CheckpointSigned:
        """Sign and store the head unless this key already signed it."""
        log = activity_logger()
        try:
            key = self._key_source()
        except SigningKeyError as error:  # the message names where, never what
            raise ApplicationError(str(error), type="SigningKeyError", non_retryable=True) from None
        if key is None:
            raise ApplicationError(
                "no signing key configured: set GUICHET_SIGNING_KEY_FILE (a file) or "
                "GUICHET_SIGNING_KEY (PEM or base64) on the workers",
                type="SigningKeyError",
                non_retryable=True,
            )
        checkpoint, created = await checkpoint_now(self._log, key, datetime.now(UTC))
        if checkpoint is None:
            log.info("checkpoint skipped: the event log is empty")
            return CheckpointSigned(position=0, hash="", key_id="", signed_at=None, created=False)
        log.info(
            "checkpoint signed" if created else "head already signed",
            position=checkpoint.position,
            key_id=checkpoint.key_id,
        )
        return CheckpointSigned(
            position=checkpoint.position,
            hash=checkpoint.hash,
            key_id=checkpoint.key_id,
            signed_at=checkpoint.signed_at,
            created=created,
        )
