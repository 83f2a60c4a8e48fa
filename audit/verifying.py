"""The auditor's verification: the whole chain recomputed, then every signed checkpoint.

``EventLog.verify`` proves the stored rows chain together and match the head; it cannot see a
log rewritten and re-hashed from some position on. Checkpoints can: each one pins the hash at
its position, signed with a key the auditor trusts. A checkpoint signed with another key is
refused (it proves nothing); one whose position holds another hash means the log was
rewritten at or before that position, after the last checkpoint that still matches.

``verify(..., from_checkpoint=True)`` re-reads only the positions after the latest checkpoint
signed by the trusted key (the auditor's file's when there is one, else the database's): what
a daily audit can afford once the log holds years. That checkpoint vouches for the positions
up to its own, which are not read: a row among them edited in place without re-hashing (its
stored hash, which the next row links to, left as it was) is not seen, while a rewrite that
re-hashes them changes the hash at the checkpoint's position, which is checked. So the whole
log's verification remains the one to run from time to time (weekly, monthly).

The findings, the report and its order are ``audit.findings``; what checkpoints say,
``audit.checkpoint_checks``; chosen files checked where they sit in the chain,
``audit.file_checks``.

Beside the findings, ``verify`` reports the clocks (``AuditReport.clocks``, from
``eventlog.clocks``): where ``recorded_at``, which no chain covers, steps back or precedes an
event's business date. They are for a person to examine and leave ``ok`` as it is.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import timedelta

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.checkpoint_checks import (
    checkpoint_findings,
    hashes_at,
    matching_above,
    starting_checkpoint,
)
from audit.documents import DocumentProblem, document_problems
from audit.findings import (
    AuditReport,
    Finding,
    StartingCheckpoint,
    above_break_note,
    audit_report,
    document_findings,
)
from eventlog import EventLog, VerifyReport
from eventlog.checkpoints import Checkpoint
from eventlog.clocks import DEFAULT_TOLERANCE
from eventlog.schema import events
from eventlog.signing import key_id
from eventlog.verification import Progress


async def verify(
    log: EventLog,
    checkpoints: Sequence[Checkpoint] = (),
    *,
    trusted: Ed25519PublicKey | None = None,
    progress: Progress | None = None,
    documents_progress: Progress | None = None,
    documents: bool = True,
    clock_tolerance: timedelta = DEFAULT_TOLERANCE,
    from_checkpoint: bool = False,
    kept: Collection[Checkpoint] = (),
) -> AuditReport:
    """Recompute the chain (gap-free positions, hashes, head), then check ``checkpoints``,
    then (``documents``) hash every document the log names again (``documents_progress``
    follows that). Beside them, the clocks: ``recorded_at`` stepping back, or before the
    business date, by more than ``clock_tolerance`` (``AuditReport.clocks``).

    ``trusted`` is the public key checkpoints must be signed with; without it signatures are
    not checked (a note says so) but each checkpoint's hash still is.

    ``from_checkpoint`` (which needs ``trusted``): start after the latest checkpoint signed by
    ``trusted``, taken from ``kept`` (those of ``checkpoints`` the auditor's file holds) when
    it has one, else from the others; recompute only the positions after it, and hash again
    only the documents named there. Every checkpoint is checked as before. Its hash not the
    one stored at its position is the checkpoint finding the whole verification reports, and
    nothing is re-read; no such checkpoint: the whole log is re-read, and a note says so.
    """
    if from_checkpoint and trusted is None:
        raise ValueError("from_checkpoint needs the trusted key to choose a checkpoint by")
    # The same checkpoint kept in the database and in the auditor's file is one piece of
    # evidence, not two.
    unique = list(dict.fromkeys(checkpoints))
    notes = []
    if unique and trusted is None:
        notes.append("checkpoint signatures not checked: no public key to check them against")
    hashes = await hashes_at(log, (c.position for c in unique))
    start = None
    if from_checkpoint and trusted is not None:
        head = (await log.head())[0]
        start = starting_checkpoint(unique, kept, trusted, hashes, head)
        notes.append(_incremental_note(start, key_id(trusted)))
    if start is None:
        chain = await log.verify(progress=progress, clock_tolerance=clock_tolerance)
    elif start.matches:
        after = (start.position, start.hash)
        chain = await log.verify(progress=progress, clock_tolerance=clock_tolerance, after=after)
    else:  # the checkpoint finding says it all; what hangs on a contradicted hash proves nothing
        chain = VerifyReport(ok=True, checked=0, head_position=head)
    broken_at = None if chain.ok else chain.first_bad_position
    findings, matching, last_good = checkpoint_findings(
        unique, trusted, hashes, chain.head_position, broken_at=broken_at
    )
    above = matching_above(unique, trusted, hashes, broken_at) if broken_at is not None else []
    if broken_at is not None and above:
        # Their hash is the stored one, but that stored row's chain no longer holds beneath
        # them: they must not read as evidence that the log is as signed.
        notes.append(above_break_note(above, broken_at))
    if missing := await log.missing_guards():
        findings.append(
            Finding(
                position=None,
                unguarded=True,
                problem=f"the append-only trigger(s) {', '.join(missing)} are dropped or "
                "disabled: the database no longer refuses changes to the log (the chain "
                "shows those made so far, unless they were re-hashed)",
            )
        )
    if not chain.ok:
        position = chain.first_bad_position
        problem = chain.problem or "?"
        if position is not None and (row := await _stored_row(log, position)):
            problem = f"{problem}; {row}"
        findings.append(Finding(position=position, problem=problem, shows_at=position))
    documents_checked, documents_wrong = 0, list[DocumentProblem]()
    if documents and (start is None or start.matches):
        documents_checked, documents_wrong = await document_problems(
            log,
            chain.head_position,
            progress=documents_progress,
            after=start.position if start is not None else 0,
        )
    findings += document_findings(documents_wrong)
    report = audit_report(
        chain,
        findings,
        documents_checked=documents_checked,
        checkpoints_checked=len(unique),
        checkpoints_matching=matching,
        notes=tuple(notes),
        vouched_up_to=last_good if trusted is not None else 0,
        trusted_key_id=key_id(trusted) if trusted is not None else None,
    )
    scope = _scope(start, chain.head_position, documents=documents)
    return report.model_copy(
        update={
            "started_from": start,
            "scope": scope,
            "chain_broken_at": broken_at,
            "checkpoints_above_break": tuple(above),
        }
    )


async def _stored_row(log: EventLog, position: int) -> str | None:
    """Which file and event the row at ``position`` says it is, for the auditor to open it
    (None: no row there). As stored: those columns may be what was altered."""
    query = sa.select(events.c.stream_id, events.c.type, events.c.version).where(
        events.c.position == position
    )
    async with log.engine.connect() as conn:
        row = (await conn.execute(query)).first()
    if row is None:
        return None
    return (
        f"the row there reads file {row.stream_id}, {row.type} (version {row.version}), as "
        "stored: those columns may be altered too"
    )


def _incremental_note(start: StartingCheckpoint | None, trusted_key: str) -> str:
    """What an incremental verification did not do, or could not."""
    if start is None:
        return (
            f"no checkpoint signed by the trusted key {trusted_key} to start from, in the "
            "auditor's file or the database: the whole log was re-read instead"
        )
    if not start.matches:
        return (
            f"{start.label()} does not match the log: nothing was re-read from it; verify "
            "the whole log (without starting from a checkpoint) to find where it changed"
        )
    return (
        f"positions 1..{start.position} were not re-read: a row there edited in place without "
        "re-hashing (its stored hash still linking) is not seen, while a rewrite that re-hashes "
        f"them changes the hash at position {start.position}, which was checked; verify the "
        "whole log from time to time (weekly, monthly) as well"
    )


def _scope(start: StartingCheckpoint | None, head: int, *, documents: bool) -> str:
    """Which positions were re-read, and which a checkpoint was taken to vouch for."""
    if start is None:
        return f"positions 1..{head} re-read (the whole log)" if head else "the log is empty"
    if not start.matches:
        return f"no position re-read: {start.label()} does not match the log"
    first, vouched = start.position + 1, start.position
    read = (
        f"positions {first}..{head} re-read"
        if first <= head
        else f"no position after {vouched} to re-read"
    )
    scope = f"{read}; positions 1..{vouched} vouched for by {start.label()}, not re-read"
    if documents:
        scope += f"; documents named only at positions 1..{vouched} not hashed again"
    return scope
