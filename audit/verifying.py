"""The auditor's verification: the whole chain recomputed, then every signed checkpoint.

``EventLog.verify`` proves the stored rows chain together and match the head; it cannot see a
log rewritten and re-hashed from some position on. Checkpoints can: each one pins the hash at
its position, signed with a key the auditor trusts. A checkpoint signed with another key is
refused (it proves nothing); one whose position holds another hash means the log was
rewritten at or before that position, after the last checkpoint that still matches.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict

from audit.checkpoints import Checkpoint
from audit.signing import key_id
from eventlog import EventLog, VerifyReport
from eventlog.schema import events
from eventlog.verification import Progress

_LOOKUP_CHUNK = 500


class Finding(BaseModel):
    """One problem: where (a log position, when it has one) and what is wrong."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    position: int | None
    problem: str


class AuditReport(BaseModel):
    """The outcome of :func:`verify`: ``ok`` only when the chain and every checkpoint hold."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ok: bool
    checked: int
    """Events whose hash was recomputed."""
    head_position: int
    first_bad_position: int | None = None
    problem: str | None = None
    """The first problem, by log position (refused checkpoints come after)."""
    checkpoints_checked: int = 0
    checkpoints_matching: int = 0
    findings: tuple[Finding, ...] = ()
    notes: tuple[str, ...] = ()


async def hashes_at(log: EventLog, positions: Iterable[int]) -> dict[int, str]:
    """The stored hash at each of these positions (absent positions are left out)."""
    wanted = sorted(set(positions))
    found: dict[int, str] = {}
    async with log.engine.connect() as conn:
        for start in range(0, len(wanted), _LOOKUP_CHUNK):
            chunk = wanted[start : start + _LOOKUP_CHUNK]
            query = sa.select(events.c.position, events.c.hash).where(events.c.position.in_(chunk))
            found.update({int(p): str(h) for p, h in (await conn.execute(query)).all()})
    return found


def _checkpoint_findings(
    checkpoints: Sequence[Checkpoint],
    trusted: Ed25519PublicKey | None,
    hashes: dict[int, str],
    head_position: int,
) -> tuple[list[Finding], int]:
    """Findings for refused or contradicted checkpoints, and how many matched."""
    findings: list[Finding] = []
    signed = []
    for checkpoint in checkpoints:
        if trusted is not None and not checkpoint.signed_by(trusted):
            who = (
                f"key {checkpoint.key_id}, not the trusted key {key_id(trusted)}"
                if checkpoint.key_id != key_id(trusted)
                else "the signature does not match its content"
            )
            findings.append(
                Finding(position=None, problem=f"{checkpoint.label()} is refused: {who}")
            )
            continue
        signed.append(checkpoint)
    matching, last_good = 0, 0
    for checkpoint in sorted(signed, key=lambda c: c.position):
        position = checkpoint.position
        stored = hashes.get(position)
        if position > head_position:
            findings.append(
                Finding(
                    position=head_position + 1,
                    problem=(
                        f"position {head_position + 1}: {checkpoint.label()} vouches for "
                        f"position {position} but the log ends at {head_position} "
                        "(events deleted at the end?)"
                    ),
                )
            )
        elif stored != checkpoint.hash:
            findings.append(
                Finding(
                    position=last_good + 1,
                    problem=(
                        f"position {position}: hash differs from {checkpoint.label()}: the log "
                        f"was rewritten somewhere in positions {last_good + 1}..{position}"
                    ),
                )
            )
        else:
            matching += 1
            last_good = max(last_good, position)
    return findings, matching


async def verify(
    log: EventLog,
    checkpoints: Sequence[Checkpoint] = (),
    *,
    trusted: Ed25519PublicKey | None = None,
    progress: Progress | None = None,
) -> AuditReport:
    """Recompute the chain (gap-free positions, hashes, head), then check ``checkpoints``.

    ``trusted`` is the public key checkpoints must be signed with; without it signatures are
    not checked (a note says so) but each checkpoint's hash still is.
    """
    chain: VerifyReport = await log.verify(progress=progress)
    notes = []
    if checkpoints and trusted is None:
        notes.append("checkpoint signatures not checked: no public key to check them against")
    hashes = await hashes_at(log, (c.position for c in checkpoints))
    findings, matching = _checkpoint_findings(checkpoints, trusted, hashes, chain.head_position)
    if not chain.ok:
        findings.insert(0, Finding(position=chain.first_bad_position, problem=chain.problem or "?"))
    findings.sort(key=lambda f: (f.position is None, f.position or 0))
    first = findings[0] if findings else None
    return AuditReport(
        ok=not findings,
        checked=chain.checked,
        head_position=chain.head_position,
        first_bad_position=first.position if first else None,
        problem=first.problem if first else None,
        checkpoints_checked=len(checkpoints),
        checkpoints_matching=matching,
        findings=tuple(findings),
        notes=tuple(notes),
    )


async def verify_file(log: EventLog, application_id: str) -> AuditReport:
    """One file's events checked where they sit in the chain (``EventLog.verify_stream``):
    what a page about one file can afford (it reads the file's rows and their neighbours, and
    counts the rows after its last). The whole log: ``verify``."""
    chain = await log.verify_stream(application_id)
    findings = (
        ()
        if chain.ok
        else (Finding(position=chain.first_bad_position, problem=chain.problem or "?"),)
    )
    return AuditReport(
        ok=chain.ok,
        checked=chain.checked,
        head_position=chain.head_position,
        first_bad_position=chain.first_bad_position,
        problem=chain.problem,
        findings=findings,
    )
