"""Contract: documents' bytes are kept once by their hash, never changed, and checked."""

from __future__ import annotations

import hashlib

import asyncpg
import pytest
import sqlalchemy as sa
from eventlog_support import Backend

from eventlog import EventLog
from eventlog.documents import DocumentStore

PDF = b"%PDF-1.7\n" + b"devis signe " * 2_000
SCAN = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8_000  # above the size hashed in a thread


async def test_bytes_are_kept_under_their_hash_and_read_back_as_they_were(log: EventLog) -> None:
    store = DocumentStore(log.engine)
    for content, media_type in ((PDF, "application/pdf"), (SCAN, "image/png")):
        digest = await store.keep(content, media_type)
        assert digest == hashlib.sha256(content).hexdigest()
        stored = await store.read(digest)
        assert stored is not None
        assert (stored.content, stored.media_type) == (content, media_type)
    assert await store.read("0" * 64) is None


async def test_the_same_bytes_kept_twice_are_one_document(log: EventLog) -> None:
    """A retried upload, or the same scan sent by two people: one row, the first format kept."""
    store = DocumentStore(log.engine)
    first = await store.keep(PDF, "application/pdf")
    assert await store.keep(PDF, "application/pdf") == first
    async with log.engine.connect() as conn:
        count = await conn.scalar(sa.text("SELECT count(*) FROM eventlog_documents"))
    assert count == 1


@pytest.mark.parametrize(
    "statement",
    ["UPDATE eventlog_documents SET content = content", "DELETE FROM eventlog_documents"],
    ids=["update", "delete"],
)
async def test_a_kept_document_is_never_changed_nor_deleted(
    log: EventLog, backend: Backend, statement: str
) -> None:
    store = DocumentStore(log.engine)
    digest = await store.keep(PDF, "application/pdf")
    with pytest.raises(Exception, match="refused"):
        await backend.execute(statement)
    assert await store.check([digest]) == []


async def test_check_names_the_documents_missing_or_altered_behind_the_triggers(
    log: EventLog, backend: Backend
) -> None:
    """What an auditor proves: each hash a file names has bytes that hash to it."""
    store = DocumentStore(log.engine)
    kept = await store.keep(PDF, "application/pdf")
    altered = await store.keep(SCAN, "image/png")
    await backend.tamper(
        f"UPDATE eventlog_documents SET content = substr(content, 2) WHERE sha256 = '{altered}'"
    )
    problems = await store.check([kept, altered, "1" * 64, kept])
    assert [(p.sha256, p.problem.split(":")[0]) for p in problems] == [
        (altered, "altered"),
        ("1" * 64, "missing from the document store"),
    ]


@pytest.mark.postgresql_only  # roles and privileges are PostgreSQL's
async def test_the_app_role_keeps_and_reads_documents_but_cannot_change_one(
    log: EventLog, backend: Backend, app_role: str
) -> None:
    """The worker's and the console's role: even with the triggers disabled, no UPDATE."""
    await log.grant_app_role(app_role)
    as_app = EventLog.from_url(
        backend.url.replace("postgres@", f"{app_role}@"), search_path=backend.search_path
    )
    try:
        store = DocumentStore(as_app.engine)
        digest = await store.keep(PDF, "application/pdf")
        assert await store.keep(PDF, "application/pdf") == digest  # the conflict: no error
        assert (await store.read(digest)) is not None
    finally:
        await as_app.close()
    await backend.execute("ALTER TABLE eventlog_documents DISABLE TRIGGER USER")
    conn = await asyncpg.connect(
        backend.dsn, user=app_role, server_settings={"search_path": backend.search_path or ""}
    )
    try:
        for statement in (
            "UPDATE eventlog_documents SET content = ''",
            "DELETE FROM eventlog_documents",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(statement)
    finally:
        await conn.close()
