"""What an audit verification reports: each finding, the checkpoint an incremental
verification started from, and the report that orders them (``audit_report``).

``audit.verifying`` (the whole log) and ``audit.file_checks`` (chosen files) build these;
the CLI and the console read them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from audit.documents import DocumentProblem
from eventlog import ClockCheck, VerifyReport
from eventlog.canonical import format_timestamp


class Finding(BaseModel):
    """One problem: where (a log position, when it has one) and what is wrong."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    position: int | None
    """The first position that may be bad: where the chain breaks, or for a contradicted
    checkpoint the position after the last one that still matches (its hash shows that
    something in between changed, not where); None for a refused checkpoint."""
    problem: str
    shows_at: int | None = None
    """Where the problem shows: findings are ordered by it, so that a fault the chain names
    at 70 comes before a checkpoint of position 100 whose range starts at 1."""
    document: str | None = None
    """The SHA-256 of an attached document whose bytes are missing or altered in the store
    (``position`` None: the chain itself may be sound)."""
    cut_after: int | None = None
    """For a checkpoint past the log's end: the last position the log still holds (events
    were deleted after it, or anywhere after ``position`` and the rest renumbered)."""
    unguarded: bool = False
    """The database no longer refuses changes to the log (an append-only trigger dropped or
    disabled): nothing may be altered yet, but nothing stops it any more."""


Source = Literal["file", "database"]
"""Where a checkpoint was found: the auditor's file (kept outside the database), or the
database's ``eventlog_checkpoints``."""

SOURCE_NAMES: dict[Source, str] = {
    "file": "the auditor's checkpoints file",
    "database": "the database",
}


class StartingCheckpoint(BaseModel):
    """The signed checkpoint an incremental verification started from: it vouches for the
    positions up to its own, which were not re-read."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    position: int
    hash: str
    signed_at: datetime
    key_id: str
    source: Source
    matches: bool
    """Whether the log holds its hash at its position (within the head). When not, the log
    was rewritten or cut at or before it: a finding, and nothing was re-read from it."""

    def label(self) -> str:
        """``the checkpoint of position 12 signed at 2025-03-01T10:00:00Z by key K (from
        the database)``, for sentences."""
        moment = format_timestamp(self.signed_at).replace(".000000Z", "Z")
        return (
            f"the checkpoint of position {self.position} signed at {moment} by key "
            f"{self.key_id} (from {SOURCE_NAMES[self.source]})"
        )


class AuditReport(BaseModel):
    """The outcome of :func:`verify`: ``ok`` only when the chain and every checkpoint hold."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ok: bool
    checked: int
    """Events whose hash was recomputed."""
    head_position: int
    first_bad_position: int | None = None
    """The first problem's ``Finding.position`` (None when only checkpoints were refused)."""
    problem: str | None = None
    """The first problem, by where it shows in the log (refused checkpoints come after)."""
    checkpoints_checked: int = 0
    """Distinct checkpoints checked (one found in the database and in a file counts once)."""
    checkpoints_matching: int = 0
    findings: tuple[Finding, ...] = ()
    notes: tuple[str, ...] = ()
    untrusted_from: int | None = None
    """The first position that may have been altered: no state from there on can be trusted
    until the log is compared with exported checkpoints or a backup."""
    vouched_up_to: int = 0
    """The last position a matching checkpoint signed by the trusted key vouches for: 0 when
    none does, or when no key was given to check signatures."""
    trusted_key_id: str | None = None
    """The key id signatures were checked against (None: not checked)."""
    documents_checked: int = 0
    """Attached documents whose bytes were hashed again against the log."""
    clocks: ClockCheck | None = None
    """What the rows' ``recorded_at`` says of the clocks (the whole log's verify only):
    findings to examine beside the others, which leave ``ok`` as it is (not in the chain,
    nothing proves them; ``eventlog.clocks``)."""
    started_from: StartingCheckpoint | None = None
    """The checkpoint an incremental verification started from; None when every position was
    re-read (or when this is the check of some files)."""
    scope: str | None = None
    """What ``verify`` re-read and what it took on a checkpoint's word, in a sentence."""
    chain_broken_at: int | None = None
    """The first position where the chain itself no longer recomputes (None: it holds)."""
    checkpoints_above_break: tuple[int, ...] = ()
    """The positions of checkpoints above ``chain_broken_at`` whose hash is the one stored
    there: not refused, but they vouch for nothing from the break on (a note says so)."""


def document_findings(problems: list[DocumentProblem]) -> list[Finding]:
    """A document not as attached, as a finding: the chain itself may be sound (no
    position), shown where the log first names it."""
    return [
        Finding(position=None, problem=p.sentence(), shows_at=p.position, document=p.sha256)
        for p in problems
    ]


def audit_report(
    chain: VerifyReport,
    findings: list[Finding],
    *,
    checkpoints_checked: int = 0,
    checkpoints_matching: int = 0,
    notes: tuple[str, ...] = (),
    vouched_up_to: int = 0,
    trusted_key_id: str | None = None,
    documents_checked: int = 0,
) -> AuditReport:
    """The report of ``findings`` over ``chain``: by where each shows, a fault the chain
    names before a checkpoint range ending at the same position, refused checkpoints, then
    documents whose bytes are not as attached."""
    findings.sort(
        key=lambda f: (
            f.document is not None,  # the chain's own faults first: they put all in doubt
            f.shows_at is None,
            f.shows_at or 0,
            f.position != f.shows_at,
        )
    )
    first = findings[0] if findings else None
    suspects = [f.position for f in findings if f.position is not None]
    return AuditReport(
        ok=not findings,
        checked=chain.checked,
        head_position=chain.head_position,
        first_bad_position=first.position if first else None,
        problem=first.problem if first else None,
        findings=tuple(findings),
        checkpoints_checked=checkpoints_checked,
        checkpoints_matching=checkpoints_matching,
        notes=notes,
        untrusted_from=min(suspects, default=None),
        vouched_up_to=vouched_up_to,
        trusted_key_id=trusted_key_id,
        documents_checked=documents_checked,
        clocks=chain.clocks,
    )


NAMED_POSITIONS = 5
"""Checkpoints above a break named one by one; more are said by the first and the last."""


def positions_said(positions: Sequence[int]) -> str:
    """« 6, 8, 9 », or « 10 … 99990 (9999 of them) » for hourly checkpoints above an old
    break: thousands of positions are not a sentence."""
    if len(positions) <= NAMED_POSITIONS:
        return ", ".join(map(str, positions))
    return f"{positions[0]} … {positions[-1]} ({len(positions)} of them)"


def above_break_note(positions: Sequence[int], broken_at: int) -> str:
    """What the matching checkpoints above the chain's break are worth, for the notes."""
    return (
        f"{len(positions)} checkpoint(s) at position(s) {positions_said(positions)} match the "
        f"hash stored there, but the chain beneath is broken at position {broken_at}: they "
        f"vouch for nothing from position {broken_at} on"
    )
