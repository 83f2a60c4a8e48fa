"""The auditor's check of attached documents: each one a file names, by the SHA-256 its
``DocumentAttached`` event holds inside the chain, must be in the document store with bytes
that still hash to it. The chain proves the hash; this proves the bytes.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass

import sqlalchemy as sa

from eventlog import EventLog
from eventlog.documents import DocumentStore
from eventlog.schema import events
from eventlog.verification import Progress

ATTACHED = "DocumentAttached"


@dataclass(frozen=True)
class Naming:
    """Where the log names a document: its position, file and the name given there."""

    position: int
    stream_id: str
    filename: str


@dataclass(frozen=True)
class DocumentProblem:
    """A document whose bytes are missing or altered, and every place the log names it."""

    sha256: str
    problem: str
    namings: tuple[Naming, ...]

    @property
    def position(self) -> int:
        """Where the log first names it."""
        return self.namings[0].position

    def sentence(self) -> str:
        """The problem, naming each file that holds the document."""
        first = self.namings[0]
        where = ", ".join(f"{n.stream_id} (position {n.position})" for n in self.namings)
        return (
            f"position {first.position}: document {first.filename!r} (sha256 {self.sha256}) "
            f"is {self.problem}; it is attached to {where}"
        )


async def named_documents(
    log: EventLog, up_to: int, streams: Collection[str] | None = None, after: int = 0
) -> dict[str, list[Naming]]:
    """Every document the log names after position ``after`` and up to ``up_to`` (in
    ``streams`` only, when given), by hash, with each place that names it in position order
    (in that range)."""
    query = sa.select(events.c.position, events.c.stream_id, events.c.data).where(
        events.c.type == ATTACHED, events.c.position > after, events.c.position <= up_to
    )
    if streams is not None:
        query = query.where(events.c.stream_id.in_(sorted(streams)))
    named: dict[str, list[Naming]] = {}
    async with log.engine.connect() as conn:
        for position, stream_id, data in (
            await conn.execute(query.order_by(events.c.position))
        ).all():
            try:
                document = json.loads(data)["document"]
                sha256, filename = str(document["sha256"]), str(document["filename"])
            except (ValueError, KeyError, TypeError):
                continue  # unreadable content is the chain's finding, at this position
            named.setdefault(sha256, []).append(Naming(int(position), str(stream_id), filename))
    return named


async def document_problems(
    log: EventLog,
    up_to: int,
    streams: Collection[str] | None = None,
    progress: Progress | None = None,
    after: int = 0,
) -> tuple[int, list[DocumentProblem]]:
    """How many documents the log names after position ``after`` and up to ``up_to`` (in
    ``streams`` only, when given), and those whose bytes the store does not hold as
    attached."""
    named = await named_documents(log, up_to, streams, after)
    checked = await DocumentStore(log.engine).check(named, progress)
    return len(named), [
        DocumentProblem(found.sha256, found.problem, tuple(named[found.sha256]))
        for found in checked
    ]
