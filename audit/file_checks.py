"""The events of chosen files checked where they sit in the chain: one file for a page
about it (``verify_file``), many for what a view or an export of them ends with
(``check_files``), so that altered content is never printed as if sound; with their
documents' bytes hashed again (``with_documents``).

The whole log's verification is ``audit.verifying``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from itertools import groupby
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.ext.asyncio import AsyncConnection

from audit.checkpoint_checks import LOOKUP_CHUNK, stored_checkpoint_findings
from audit.documents import document_problems
from audit.findings import AuditReport, Finding, audit_report, document_findings
from eventlog import EventLog, VerifyReport
from eventlog.canonical import canonical_event, chain_hash
from eventlog.schema import events
from eventlog.stored_row import VERIFIED_COLUMNS, StoredRow, spliced_body
from eventlog.verification import verify_stream_rows

_FILES_CHUNK = 200
"""Files whose rows ``check_files`` holds at once: memory stays that of a chunk."""


async def verify_file(
    log: EventLog, application_id: str, trusted: Ed25519PublicKey | None = None
) -> AuditReport:
    """One file's events checked where they sit in the chain (``EventLog.verify_stream``),
    against the stored checkpoints (signed by ``trusted`` when given), and its documents'
    bytes hashed again: what a page about one file can afford (it reads the file's rows and
    their neighbours, counts the rows after its last, and reads the hash at each checkpoint).
    The whole log: ``audit.verifying.verify``."""
    chain = await log.verify_stream(application_id)
    findings = (
        []
        if chain.ok
        else [Finding(position=chain.first_bad_position, problem=chain.problem or "?")]
    )
    findings += await stored_checkpoint_findings(log, [application_id], trusted)
    return await with_documents(log, audit_report(chain, findings), [application_id])


async def with_documents(log: EventLog, report: AuditReport, streams: list[str]) -> AuditReport:
    """``report`` on these files, with their documents' bytes hashed again: one missing or
    altered in the store is a finding after the chain's own."""
    checked, wrong = await document_problems(log, report.head_position, streams=streams)
    findings = [*report.findings, *document_findings(wrong)]
    first = findings[0] if findings else None
    return report.model_copy(
        update={
            "ok": not findings,
            "problem": first.problem if first else None,
            "findings": tuple(findings),
            "documents_checked": checked,
        }
    )


async def check_files(
    log: EventLog, application_ids: Iterable[str], trusted: Ed25519PublicKey | None = None
) -> AuditReport:
    """The events of these files checked where they sit in the chain, up to the head as it
    stands now: what a view or an export of them ends with.

    Per file, what ``verify_file`` proves (``verify_stream_rows`` over the same rows and
    links), and past its first fault every row whose content no longer hashes to its hash
    or that no longer chains to the row before it, so that a warning names them all. Each
    row and its neighbours are read once, files a chunk at a time, and whether any position
    is missing is counted once for the log: ``verify_file`` file by file counts the log's
    tail for each (27 s for a department's 1,000 files in a log of 110,000 events on SQLite,
    whose export takes 2 s).
    """
    head = await log.head()
    in_log = events.c.position.between(1, head[0])  # appends made meanwhile are not judged
    columns = [events.c[name] for name in VERIFIED_COLUMNS]
    ids = sorted(set(application_ids))
    findings: list[Finding] = []
    checked = 0
    async with log.engine.connect() as conn:
        present = await conn.scalar(sa.select(sa.func.count()).select_from(events).where(in_log))
        gap_free = present == head[0]
        for start in range(0, len(ids), _FILES_CHUNK):
            query = (
                sa.select(*columns)
                .where(events.c.stream_id.in_(ids[start : start + _FILES_CHUNK]), in_log)
                .order_by(events.c.stream_id, events.c.version)
            )
            rows = [tuple(row) for row in (await conn.execute(query)).all()]
            links = await _links(conn, {row[0] + step for row in rows for step in (-1, 1)})
            for _, grouped in groupby(rows, key=itemgetter(1)):
                stream = list(grouped)
                last = stream[-1][0]
                after = head[0] - last if gap_free else await _rows_after(conn, last, in_log)
                findings += _file_findings(stream, links, head, after)
                checked += len(stream)
    findings += await stored_checkpoint_findings(log, ids, trusted)
    chain = VerifyReport(ok=not findings, checked=checked, head_position=head[0])
    return audit_report(chain, findings)


async def _links(conn: AsyncConnection, positions: Iterable[int]) -> dict[int, tuple[str, str]]:
    """The stored ``(prev_hash, hash)`` at each of these positions that holds a row."""
    wanted = sorted(p for p in positions if p > 0)
    found: dict[int, tuple[str, str]] = {}
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        chunk = wanted[start : start + LOOKUP_CHUNK]
        query = sa.select(events.c.position, events.c.prev_hash, events.c.hash).where(
            events.c.position.in_(chunk)
        )
        found.update({int(p): (str(b), str(h)) for p, b, h in (await conn.execute(query)).all()})
    return found


async def _rows_after(conn: AsyncConnection, last: int, in_log: Any) -> int:
    """How many rows the log holds after ``last`` (only asked when a position is missing)."""
    query = sa.select(sa.func.count()).select_from(events).where(events.c.position > last, in_log)
    return int(await conn.scalar(query) or 0)


def _file_findings(
    stream: Sequence[Sequence[Any]],
    links: Mapping[int, tuple[str, str]],
    head: tuple[int, str],
    rows_after: int,
) -> list[Finding]:
    """One file's faults: the first as ``verify_file`` names it, then every other row of
    the file whose content or backward link is wrong."""
    found: dict[int, str] = {}
    first = verify_stream_rows(stream, links, head, rows_after)
    if not first.ok and first.first_bad_position is not None:
        found[first.first_bad_position] = first.problem or "?"
    for values in stream:
        row = StoredRow._make(values)
        if problem := _row_problem(row, links):
            found.setdefault(row.position, problem)
    return [Finding(position=p, problem=found[p], shows_at=p) for p in sorted(found)]


def _row_problem(row: StoredRow, links: Mapping[int, tuple[str, str]]) -> str | None:
    position = row.position
    if chain_hash(row.prev_hash, spliced_body(row)) != row.hash and not _canonical_match(row):
        return f"position {position}: hash does not match its content (row altered?)"
    before = links.get(position - 1)
    if before is not None and row.prev_hash != before[1]:
        return f"position {position}: prev_hash does not chain to position {position - 1}"
    return None


def _canonical_match(row: StoredRow) -> bool:
    """Whether the row's data, parsed and written canonically, hashes to its hash: a row
    stored with valid but not canonical JSON is sound, as ``EventLog.verify`` holds."""
    if not isinstance(row.occurred_at, datetime):
        return False
    try:
        body = canonical_event(
            position=row.position,
            stream_id=row.stream_id,
            version=row.version,
            event_id=row.event_id,
            type_=row.type,
            schema_version=row.schema_version,
            occurred_at=row.occurred_at,
            data=json.loads(row.data),
        )
    except ValueError:
        return False
    return chain_hash(row.prev_hash, body) == row.hash
