"""What signed checkpoints say of the log: each refused (another key, a bad signature),
contradicted (another hash at its position) or past the log's end, else matching; which one
an incremental verification starts from; and what the stored ones say of chosen files.

A checkpoint pins the hash at its position with a key the auditor trusts: it sees a log
rewritten and re-hashed from some position on, which the chain alone cannot.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.findings import Finding, Source, StartingCheckpoint
from eventlog import EventLog
from eventlog.checkpoints import Checkpoint, stored
from eventlog.schema import events
from eventlog.signing import key_id

LOOKUP_CHUNK = 500
"""Positions looked up in one query (their hashes, their links)."""


async def hashes_at(log: EventLog, positions: Iterable[int]) -> dict[int, str]:
    """The stored hash at each of these positions (absent positions are left out)."""
    wanted = sorted(set(positions))
    found: dict[int, str] = {}
    async with log.engine.connect() as conn:
        for start in range(0, len(wanted), LOOKUP_CHUNK):
            chunk = wanted[start : start + LOOKUP_CHUNK]
            query = sa.select(events.c.position, events.c.hash).where(events.c.position.in_(chunk))
            found.update({int(p): str(h) for p, h in (await conn.execute(query)).all()})
    return found


def _signed(checkpoint: Checkpoint, trusted: Ed25519PublicKey | None) -> bool:
    return trusted is None or checkpoint.signed_by(trusted)


def matching_above(
    checkpoints: Sequence[Checkpoint],
    trusted: Ed25519PublicKey | None,
    hashes: dict[int, str],
    broken_at: int,
) -> list[int]:
    """The positions of signed checkpoints at or past ``broken_at`` whose hash is the one
    stored there."""
    return sorted(
        c.position
        for c in checkpoints
        if c.position >= broken_at and _signed(c, trusted) and hashes.get(c.position) == c.hash
    )


def checkpoint_findings(
    checkpoints: Sequence[Checkpoint],
    trusted: Ed25519PublicKey | None,
    hashes: dict[int, str],
    head_position: int,
    *,
    broken_at: int | None = None,
) -> tuple[list[Finding], int, int]:
    """Findings for refused or contradicted checkpoints, how many matched, and the last
    position a matching one pins. A checkpoint at or past ``broken_at`` (the chain's first
    bad position) matches nothing: what it signed no longer hangs on an intact chain."""
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
            # Cut short: its tail may have been removed, or a row deleted anywhere after the
            # last matching checkpoint and the rest renumbered and re-hashed. Only that
            # checkpoint still vouches for anything.
            findings.append(
                Finding(
                    position=last_good + 1,
                    shows_at=head_position + 1,
                    cut_after=head_position,
                    problem=(
                        f"position {head_position + 1}: {checkpoint.label()} vouches for "
                        f"position {position} but the log ends at {head_position}: events "
                        f"deleted at the end, or anywhere in positions "
                        f"{last_good + 1}..{head_position} and the rest renumbered"
                    ),
                )
            )
        elif stored != checkpoint.hash:
            findings.append(
                Finding(
                    position=last_good + 1,
                    shows_at=position,
                    problem=(
                        f"position {position}: hash differs from {checkpoint.label()}: the log "
                        f"was rewritten somewhere in positions {last_good + 1}..{position}"
                    ),
                )
            )
        elif broken_at is None or position < broken_at:
            matching += 1
            last_good = max(last_good, position)
    return findings, matching, last_good


def starting_checkpoint(
    checkpoints: Sequence[Checkpoint],
    kept: Collection[Checkpoint],
    trusted: Ed25519PublicKey,
    hashes: Mapping[int, str],
    head: int,
) -> StartingCheckpoint | None:
    """The latest checkpoint signed by ``trusted``: the auditor's file's when it holds one
    (kept outside the database, out of an intruder's reach), else the database's."""
    in_file = set(kept)
    sources: tuple[tuple[Source, list[Checkpoint]], ...] = (
        ("file", [c for c in checkpoints if c in in_file]),
        ("database", [c for c in checkpoints if c not in in_file]),
    )
    for source, among in sources:
        # Latest first, so that only the signatures of the last few are checked here.
        latest_first = sorted(among, key=lambda c: (c.position, c.signed_at), reverse=True)
        chosen = next((c for c in latest_first if c.signed_by(trusted)), None)
        if chosen is not None:
            return StartingCheckpoint(
                position=chosen.position,
                hash=chosen.hash,
                signed_at=chosen.signed_at,
                key_id=chosen.key_id,
                source=source,
                matches=chosen.position <= head and hashes.get(chosen.position) == chosen.hash,
            )
    return None


async def stored_checkpoint_findings(
    log: EventLog, application_ids: Iterable[str], trusted: Ed25519PublicKey | None
) -> list[Finding]:
    """What the stored checkpoints say of these files: a rewrite or a cut they reveal puts
    every event after the last checkpoint that still matches in doubt, so it is the files'
    finding when one of their events lies there."""
    checkpoints = await stored(log)
    if not checkpoints:
        return []
    head = (await log.head())[0]
    hashes = await hashes_at(log, (c.position for c in checkpoints))
    findings, _, _ = checkpoint_findings(checkpoints, trusted, hashes, head)
    doubtful = [f for f in findings if f.position is not None]
    if not doubtful:
        return []
    last = sa.select(sa.func.max(events.c.position)).where(
        events.c.stream_id.in_(sorted(set(application_ids))), events.c.position <= head
    )
    async with log.engine.connect() as conn:
        reaches = await conn.scalar(last)
    return [f for f in doubtful if reaches is not None and f.position <= reaches]
