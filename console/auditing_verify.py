"""``guichet audit verify``: the whole chain recomputed, the signed checkpoints checked, and
what that proves or what to do, in words."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from audit.checkpoints import CheckpointError, read_file
from audit.findings import AuditReport
from audit.verifying import verify
from console.app import JsonOption, emit_json, friendly
from console.auditing import ProgressBar, audit_app, with_log
from console.auditing_clocks import clock_lines
from console.errors import EXIT_REFUSED, usage_error
from eventlog import EventLog
from eventlog.checkpoints import stored
from eventlog.clocks import DEFAULT_TOLERANCE
from eventlog.signing import SigningKeyError, parse_public_key, trusted_key_from_env

MAX_CLOCK_TOLERANCE = 1e9
"""Seconds (about 31 years): beyond any clock's disagreement, and within a ``timedelta``."""


def trusted_key(public_key: str | None) -> Any:
    """The key checkpoints must be signed with: ``--public-key``, else the configured key."""
    try:
        if public_key is not None:
            path = Path(public_key)
            if path.exists():
                return parse_public_key(path.read_bytes(), f"the public key file {path}")
            try:
                return parse_public_key(public_key, "--public-key")
            except SigningKeyError:
                raise SigningKeyError(
                    f"--public-key {public_key!r} is no file here, nor a key (a PEM Ed25519 "
                    "public key, or the base64 of its 32 raw bytes)"
                ) from None
        return trusted_key_from_env()
    except SigningKeyError as error:
        raise usage_error(str(error)) from None


def _verify_text(report: AuditReport, *, incremental: bool = False) -> list[str]:
    start = report.started_from
    documents = "attached document(s)"
    if start is not None and start.matches:
        documents += f" named after position {start.position}"
    lines = [
        f"{report.checked:,} event(s) recomputed, head at position {report.head_position}; "
        f"{report.checkpoints_checked} checkpoint(s) checked, "
        f"{report.checkpoints_matching} matching; {report.documents_checked} {documents} "
        "hashed again"
    ]
    if incremental:  # the whole log's verification says it in its first line
        lines.append(f"scope: {report.scope}")
    lines += [f"note: {note}" for note in report.notes]
    # The clocks come just before the closing line: never before a failure's headline.
    clocks = clock_lines(report.clocks)
    if report.ok:
        return [*lines, *clocks, _what_is_proven(report)]
    first = report.findings[0]
    if first.cut_after is not None:  # no position past the end to name
        headline = f"LOG CUT SHORT: EVENTS DELETED AFTER POSITION {first.cut_after}"
        if first.position is not None and first.position <= first.cut_after:
            headline += f", OR IN POSITIONS {first.position}..{first.cut_after}"
    elif first.position is not None and first.shows_at not in (None, first.position):
        # A contradicted checkpoint shows that something changed in a range, not where.
        headline = f"ALTERED SOMEWHERE IN POSITIONS {first.position}..{first.shows_at}"
    elif first.position is not None:
        headline = f"FIRST BAD POSITION: {first.position}"
    elif first.document is not None:  # the chain holds; a document's bytes do not
        headline = "DOCUMENT NOT AS ATTACHED"
    elif first.unguarded:  # nothing altered yet, but nothing refuses it any more
        headline = "LOG NO LONGER PROTECTED"
    else:  # only refused checkpoints: they say nothing of any position
        headline = "CHECKPOINT REFUSED"
    lines.append(f"{headline} — {report.problem}")
    lines += [f"  also: {f.problem}" for f in report.findings[1:]]
    return [*lines, *clocks, _what_to_do(report)]


def _what_is_proven(report: AuditReport) -> str:
    """The last line of a verification that found nothing wrong: what it proves, and which
    positions no checkpoint signed by a trusted key covers (a consistent chain alone proves
    only that whoever rewrote it, if anyone, re-hashed it too)."""
    head, vouched, key = report.head_position, report.vouched_up_to, report.trusted_key_id
    if head == 0:
        return "the log is empty: there is nothing to vouch for"
    start = report.started_from
    consistent = (
        f"the chain is consistent from the checkpoint of position {start.position} on"
        if start is not None
        else "the chain is consistent"
    )
    if key is not None and vouched >= head:
        intact = "the log is intact" if start is None else "the positions re-read are intact"
        return (
            f"{intact}: {consistent} and checkpoints signed by the trusted key {key} vouch "
            f"for every position up to the head ({head})"
        )
    if key is not None and vouched > 0:
        return (
            f"{consistent} and checkpoints signed by the trusted key {key} vouch "
            f"for positions 1..{vouched}, but no checkpoint covers positions "
            f"{vouched + 1}..{head}: anyone with write access could have rewritten those "
            "consistently, or cut the log's end; first verify against the checkpoints "
            "exported last (--checkpoints FILE), which show either, and only then sign a "
            "new one (`guichet audit checkpoint`)"
        )
    remedy = (
        "pass --checkpoints FILE (from `guichet audit export-checkpoints`), or sign one with "
        "`guichet audit checkpoint`"
        if key is not None
        else "pass --public-key (or set GUICHET_PUBLIC_KEY_FILE) and --checkpoints FILE"
    )
    return (
        "the chain is consistent, but no checkpoint signed by a trusted key vouches for it "
        f"(positions 1..{head} are covered by none): anyone with write access could have "
        f"rewritten it consistently; {remedy}"
    )


def _what_to_do(report: AuditReport) -> str:
    """The last line of a failed verification: what to do next."""
    if report.untrusted_from is None and any(f.unguarded for f in report.findings):
        return (
            "what to do: find who removed the triggers and when (the database's own logs), "
            "recreate them as migrations 0001, 0003 and 0008 do, then verify against the "
            "checkpoints exported last (--checkpoints FILE): a change made meanwhile and "
            "re-hashed shows only there"
        )
    if all(finding.document is not None for finding in report.findings):
        return (
            "what to do: restore each document's bytes from a backup (the right ones are those "
            "whose SHA-256 the log holds: check with `sha256sum`), and ask who could write to "
            "the eventlog_documents table, whose triggers refuse any change"
        )
    if report.untrusted_from is None:
        return (
            "what to do: a refused checkpoint proves nothing; check that --public-key is the "
            "key that signed it (`guichet audit export-key` where the workers sign), and ask "
            "who made any checkpoint that key did not sign"
        )
    return (
        "what to do: compare the log with the checkpoints exported last (`guichet audit "
        "verify --checkpoints FILE`) or with a backup, and trust no state from position "
        f"{report.untrusted_from} on"
    )


@audit_app.command("verify")
@friendly
def verify_command(
    checkpoints: Annotated[
        Path | None,
        typer.Option("--checkpoints", help="A file from `guichet audit export-checkpoints`."),
    ] = None,
    public_key: Annotated[
        str | None,
        typer.Option(
            "--public-key",
            help="The key checkpoints must be signed with: a file, PEM or base64 (default: "
            "GUICHET_PUBLIC_KEY[_FILE], else the public half of GUICHET_SIGNING_KEY[_FILE]).",
        ),
    ] = None,
    progress: Annotated[
        bool, typer.Option("--progress", help="Show progress on stderr (default: on a TTY).")
    ] = False,
    clock_tolerance: Annotated[
        float,
        typer.Option(
            "--clock-tolerance",
            min=0,
            max=MAX_CLOCK_TOLERANCE,
            metavar="SECONDS",
            help="How far recorded_at may step back, or precede an event's business date, "
            "before the clocks line reports it (default 60: more than synchronised clocks "
            "drift or step, less than moves a deadline; 0: any disagreement).",
        ),
    ] = DEFAULT_TOLERANCE.total_seconds(),
    from_checkpoint: Annotated[
        bool,
        typer.Option(
            "--from-checkpoint",
            help="Re-read only the positions after the latest checkpoint signed by the trusted "
            "key (needs --public-key or GUICHET_PUBLIC_KEY[_FILE]): the --checkpoints file's "
            "when given, else the latest stored. For a daily audit; not a substitute for the "
            "whole verification, to run weekly or monthly too.",
        ),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Recompute the whole chain and check every signed checkpoint (stored, and --checkpoints).

    Reports the first bad position and what is wrong; exit code 1 when anything is. A
    consistent chain exits 0, and the last line says how far checkpoints signed by the
    trusted key vouch for it.

    A clocks line checks recorded_at (the database's clock when a row was written, outside
    the chain): positions where it steps back, and events recorded before their business
    date (occurred_at), beyond --clock-tolerance, with counts and the first positions. They
    are findings to examine (a clock set back, a workflow clock ahead as Temporal's
    time-skipping test server makes it, or a recorded_at edited), not proof of an
    alteration: the exit code ignores them (JSON: "clocks").

    With --from-checkpoint, only the positions after the latest checkpoint P signed by the
    trusted key are re-read, chained on from its hash (taken from the --checkpoints file when
    given, which is kept outside the database, else from the database), with the documents
    named there; its hash must be the one stored at P, else the log was rewritten at or
    before P: exit code 1, as the whole verification says. The report states its scope
    ("positions P+1..N re-read; positions 1..P vouched for by the checkpoint of position P
    signed at T by key K, not re-read"; JSON: "scope", "started_from"). What it cannot see:
    a row before P edited in place without re-hashing (its stored hash still links; a
    rewrite that re-hashes shows at P). Run the whole verification weekly or monthly too.
    With no checkpoint signed by the key, the whole log is re-read, and a note says so.

    Example: guichet audit verify --checkpoints checkpoints-2025.json --public-key guichet.pub

    Daily: guichet audit verify --from-checkpoint --checkpoints kept.json --public-key guichet.pub
    """
    trusted = trusted_key(public_key)
    try:
        outside = read_file(checkpoints) if checkpoints is not None else []
    except CheckpointError as error:
        raise usage_error(str(error)) from None
    if checkpoints is not None and not outside:
        raise usage_error(
            f"{checkpoints} holds no checkpoint: it vouches for nothing; pass the export the "
            "auditor kept (`guichet audit export-checkpoints` writes one)"
        )
    if outside and trusted is None:
        raise usage_error(
            "checkpoints from a file need the key they were signed with: pass --public-key "
            "(see `guichet audit export-key`)"
        )
    if from_checkpoint and trusted is None:
        raise usage_error(
            "--from-checkpoint starts from a checkpoint signed by the key you trust: pass "
            "--public-key (a file, PEM or base64: `guichet audit export-key` prints it) or set "
            "GUICHET_PUBLIC_KEY_FILE; without it nothing vouches for the positions skipped"
        )
    shown = progress or sys.stderr.isatty()
    bar = ProgressBar() if shown else None
    hashing = ProgressBar("hashing", "documents") if shown else None

    async def work(log: EventLog) -> AuditReport:
        return await verify(
            log,
            [*await stored(log), *outside],
            trusted=trusted,
            progress=bar,
            documents_progress=hashing,
            clock_tolerance=timedelta(seconds=clock_tolerance),
            from_checkpoint=from_checkpoint,
            kept=outside,
        )

    report = with_log(work)
    if json_output:
        emit_json(report)
    else:
        typer.echo("\n".join(_verify_text(report, incremental=from_checkpoint)))
    if not report.ok:
        raise typer.Exit(EXIT_REFUSED)
