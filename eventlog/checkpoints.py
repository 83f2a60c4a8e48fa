"""Signed checkpoints: the head of the chain (position, hash, time) signed with Ed25519.

A checkpoint kept outside the database pins the log as it stood: whoever rewrites history and
re-hashes the chain after it (which the chain alone cannot reveal) changes the hash at the
checkpoint's position. Checkpoints are stored in ``eventlog_checkpoints`` (migration 0003,
append-only like the events); the workers sign them (``activities.checkpointing``) and the
auditor exports them to a JSON file it keeps (``audit.checkpoints``) and checks them.

Signed bytes: ``guichet-checkpoint-v1\\n`` followed by the canonical JSON (``eventlog.canonical``)
of ``{"hash", "key_id", "position", "signed_at"}``, ``signed_at`` in the log's timestamp form.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict

from eventlog.canonical import canonical_json, format_timestamp
from eventlog.event_log import EventLog
from eventlog.schema import UTCDateTime
from eventlog.signing import key_id, public_key_text

DOMAIN_TAG = b"guichet-checkpoint-v1\n"
TABLE = "eventlog_checkpoints"

checkpoints_table = sa.Table(
    TABLE,
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("signed_at", UTCDateTime, nullable=False),
    sa.Column("key_id", sa.String(16), nullable=False),
    sa.Column("public_key", sa.String(64), nullable=False),
    sa.Column("signature", sa.String(100), nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
)


class Checkpoint(BaseModel):
    """The log's head at one moment, signed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    position: int
    hash: str
    signed_at: datetime
    key_id: str
    public_key: str
    """Base64 of the signer's raw public key: informative, never trusted by itself."""
    signature: str
    """Base64 of the Ed25519 signature over :func:`signed_bytes`."""

    def signed_bytes(self) -> bytes:
        """Exactly what the signature covers."""
        return signed_bytes(self.position, self.hash, self.signed_at, self.key_id)

    def signed_by(self, trusted: Ed25519PublicKey) -> bool:
        """True when ``trusted`` made this signature (over this position, hash and time)."""
        if self.key_id != key_id(trusted):
            return False
        try:
            trusted.verify(base64.b64decode(self.signature, validate=True), self.signed_bytes())
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return True

    def label(self) -> str:
        """``the checkpoint of position 12 signed at 2025-03-01T10:00:00Z``, for messages."""
        return f"the checkpoint of position {self.position} signed at {_moment(self.signed_at)}"


def _moment(moment: datetime) -> str:
    return format_timestamp(moment).replace(".000000Z", "Z")


def signed_bytes(position: int, hash_: str, signed_at: datetime, key: str) -> bytes:
    """The domain-separated canonical bytes of a checkpoint."""
    body = {
        "hash": hash_,
        "key_id": key,
        "position": position,
        "signed_at": format_timestamp(signed_at),
    }
    return DOMAIN_TAG + canonical_json(body).encode("utf-8")


def sign(key: Ed25519PrivateKey, position: int, hash_: str, signed_at: datetime) -> Checkpoint:
    """Sign ``(position, hash, signed_at)`` with ``key``."""
    if signed_at.utcoffset() is None:
        raise ValueError("signed_at must be timezone-aware")
    public = key.public_key()
    kid = key_id(public)
    signature = key.sign(signed_bytes(position, hash_, signed_at, kid))
    return Checkpoint(
        position=position,
        hash=hash_,
        signed_at=signed_at,
        key_id=kid,
        public_key=public_key_text(public),
        signature=base64.b64encode(signature).decode("ascii"),
    )


async def has_table(log: EventLog) -> bool:
    """Whether the log's database has the checkpoints table (migration 0003 applied)."""
    async with log.engine.connect() as conn:
        return bool(await conn.run_sync(lambda sync: sa.inspect(sync).has_table(TABLE)))


async def stored(log: EventLog) -> list[Checkpoint]:
    """Every checkpoint in the database, oldest first; none when the table does not exist."""
    if not await has_table(log):
        return []
    query = sa.select(checkpoints_table).order_by(checkpoints_table.c.id)
    async with log.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [_from_row(row) for row in rows]


async def latest_stored(log: EventLog) -> Checkpoint | None:
    """The checkpoint stored last; None when there is none (or no table yet)."""
    if not await has_table(log):
        return None
    query = sa.select(checkpoints_table).order_by(checkpoints_table.c.id.desc()).limit(1)
    async with log.engine.connect() as conn:
        row = (await conn.execute(query)).first()
    return _from_row(row) if row is not None else None


def _from_row(row: Any) -> Checkpoint:
    return Checkpoint(
        position=row.position,
        hash=row.hash,
        signed_at=row.signed_at,
        key_id=row.key_id,
        public_key=row.public_key,
        signature=row.signature,
    )


async def save(log: EventLog, checkpoint: Checkpoint, recorded_at: datetime) -> None:
    """Store a checkpoint (append-only table)."""
    async with log.engine.begin() as conn:
        await conn.execute(
            sa.insert(checkpoints_table).values(**checkpoint.model_dump(), recorded_at=recorded_at)
        )


async def checkpoint_now(
    log: EventLog, key: Ed25519PrivateKey, now: datetime
) -> tuple[Checkpoint | None, bool]:
    """Sign the log's head at ``now`` and store it: ``(checkpoint, created)``.

    Returns the latest checkpoint with ``created`` False when this key already signed the
    current head (an idle log gets no pile of identical checkpoints), and ``(None, False)``
    when the log is empty.
    """
    position, hash_ = await log.head()
    if position == 0:
        return None, False
    kid = key_id(key.public_key())
    for earlier in reversed(await stored(log)):
        if earlier.key_id == kid:
            if earlier.position == position and earlier.hash == hash_:
                return earlier, False
            break
    checkpoint = sign(key, position, hash_, now)
    await save(log, checkpoint, now)
    return checkpoint, True
