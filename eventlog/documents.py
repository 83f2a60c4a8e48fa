"""The documents attached to files: their bytes, kept by their SHA-256, beside the log.

A file's ``DocumentAttached`` event records the hash inside the hash chain; this store keeps
the bytes under it (table ``eventlog_documents``, migration 0008). Content-addressed, so
keeping the same bytes twice is one row, an upload retried after a failure costs nothing,
and bytes kept for a command that was then refused harm no one: no file names them. Rows are
never changed nor deleted (the database refuses it); ``check`` recomputes what an auditor
needs to know the bytes served are the ones attached.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from eventlog.edge import translated
from eventlog.schema import UTCDateTime

documents = sa.Table(
    "eventlog_documents",
    sa.MetaData(),
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("media_type", sa.String(100), nullable=False),
    sa.Column("size_bytes", sa.Integer, nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=False),
    sa.Column("stored_at", UTCDateTime, nullable=False),
)

HASH_IN_A_THREAD = 1_000_000
"""Bytes above which hashing leaves the event loop (a 10 MB scan takes tens of ms)."""


@dataclass(frozen=True)
class StoredDocument:
    """A document's bytes as kept, and the format it was kept as."""

    sha256: str
    media_type: str
    content: bytes


@dataclass(frozen=True)
class UnsoundDocument:
    """A hash whose bytes the store does not hold: missing, or altered (``found``: what the
    stored bytes hash to)."""

    sha256: str
    found: str | None = None

    @property
    def problem(self) -> str:
        """What is wrong, in a sentence's end."""
        if self.found is None:
            return "missing from the document store"
        return f"altered: the stored bytes hash to {self.found}"


async def sha256_of(content: bytes) -> str:
    """The hex SHA-256 of ``content``, computed off the event loop when it is large."""
    if len(content) > HASH_IN_A_THREAD:
        return await asyncio.to_thread(lambda: hashlib.sha256(content).hexdigest())
    return hashlib.sha256(content).hexdigest()


class DocumentStore:
    """Keep and read documents' bytes in the event log's database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def keep(self, content: bytes, media_type: str) -> str:
        """Keep ``content`` (once, whoever keeps it again) and return its SHA-256."""
        digest = await sha256_of(content)
        values = {
            "sha256": digest,
            "media_type": media_type,
            "size_bytes": len(content),
            "content": content,
            "stored_at": datetime.now(UTC),
        }
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(documents).values(**values).on_conflict_do_nothing()
        with translated(self._engine.url):
            async with self._engine.begin() as conn:
                await conn.execute(statement)
        return digest

    async def read(self, sha256: str) -> StoredDocument | None:
        """The bytes kept under ``sha256``, or None."""
        query = sa.select(documents.c.media_type, documents.c.content).where(
            documents.c.sha256 == sha256
        )
        with translated(self._engine.url):
            async with self._engine.connect() as conn:
                row = (await conn.execute(query)).first()
        if row is None:
            return None
        return StoredDocument(sha256, str(row.media_type), bytes(row.content))

    async def totals(self) -> tuple[int, int]:
        """How many documents are kept, and their bytes: what a backup must carry."""
        query = sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(documents.c.size_bytes), 0))
        with translated(self._engine.url):
            async with self._engine.connect() as conn:
                count, size = (await conn.execute(query)).one()
        return int(count), int(size)

    async def read_sound(self, sha256: str) -> StoredDocument | UnsoundDocument:
        """The bytes kept under ``sha256`` if they still hash to it, else what is wrong."""
        stored = await self.read(sha256)
        if stored is None:
            return UnsoundDocument(sha256)
        found = await sha256_of(stored.content)
        return stored if found == sha256 else UnsoundDocument(sha256, found)

    async def check(
        self, sha256s: Iterable[str], progress: Callable[[int, int], None] | None = None
    ) -> list[UnsoundDocument]:
        """For each hash, whether the store holds bytes that hash to it: what is missing or
        altered, in the order asked (each document read and hashed once); ``progress`` is
        told (done, total) after each."""
        problems = []
        wanted = list(dict.fromkeys(sha256s))
        for done, sha256 in enumerate(wanted, start=1):
            read = await self.read_sound(sha256)
            if isinstance(read, UnsoundDocument):
                problems.append(read)
            if progress is not None:
                progress(done, len(wanted))
        return problems
