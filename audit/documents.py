"""The auditor's check of attached documents: each one a file names, by the SHA-256 its
``DocumentAttached`` event holds inside the chain, must be in the document store with bytes
that still hash to it. The chain proves the hash; this proves the bytes.
"""

from __future__ import annotations

import json

import sqlalchemy as sa

from eventlog import EventLog
from eventlog.documents import DocumentStore
from eventlog.schema import events

ATTACHED = "DocumentAttached"


class NamedDocument:
    """Where the log first names a document: its position, file and name."""

    def __init__(self, position: int, stream_id: str, filename: str) -> None:
        self.position, self.stream_id, self.filename = position, stream_id, filename


async def named_documents(log: EventLog, up_to: int) -> dict[str, NamedDocument]:
    """Every document the log names up to position ``up_to``, by hash (the first naming)."""
    query = (
        sa.select(events.c.position, events.c.stream_id, events.c.data)
        .where(events.c.type == ATTACHED, events.c.position <= up_to)
        .order_by(events.c.position)
    )
    named: dict[str, NamedDocument] = {}
    async with log.engine.connect() as conn:
        for position, stream_id, data in (await conn.execute(query)).all():
            try:
                document = json.loads(data)["document"]
                sha256, filename = str(document["sha256"]), str(document["filename"])
            except (ValueError, KeyError, TypeError):
                continue  # unreadable content is the chain's finding, at this position
            named.setdefault(sha256, NamedDocument(int(position), str(stream_id), filename))
    return named


async def document_problems(log: EventLog, up_to: int) -> tuple[int, list[tuple[str, int, str]]]:
    """How many documents the log names, and for each one missing or altered in the store:
    its hash, the position that names it, and a sentence."""
    named = await named_documents(log, up_to)
    problems = await DocumentStore(log.engine).check(named)
    found = []
    for problem in problems:
        where = named[problem.sha256]
        found.append(
            (
                problem.sha256,
                where.position,
                f"position {where.position}: document {where.filename!r} of {where.stream_id} "
                f"(sha256 {problem.sha256}) is {problem.problem}",
            )
        )
    return len(named), found
