"""``guichet audit``: the auditor's commands over the read API of the ``audit`` package.

Exit codes: 0 nothing wrong, 1 a problem found (tampering, a difference, a history that does
not replay) or a server unreachable, 2 bad input. Exports: ``auditing_exports``; keys and
checkpoints: ``auditing_keys``.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, NamedTuple, TypeVar

import sqlalchemy as sa
import typer
from temporalio.service import RPCError, RPCStatusCode

from audit.checkpoints import CheckpointError, read_file
from audit.crosscheck import Difference, cross_check
from audit.describing import format_euros
from audit.exporting import utc_text
from audit.file_checks import check_files, with_documents
from audit.findings import AuditReport
from audit.replaying import (
    NOTHING_TO_REPLAY,
    ReplayOutcome,
    fetch_history,
    history_from_json,
    history_problem,
    open_workflow_ids,
    replay_history,
)
from audit.timeline import (
    MomentError,
    MomentToCome,
    TimelineEntry,
    moment_of,
    state_as_of,
    state_json,
    timeline,
)
from audit.verifying import verify
from console.app import JsonOption, app, emit_json, friendly
from console.auditing_clocks import clock_lines
from console.connection import resolve_target, run_with_client
from console.errors import EXIT_REFUSED, CliError, usage_error
from console.web.accounts import Account, AccountStore
from domain.state import Application
from eventlog import EventLog, EventLogError
from eventlog.checkpoints import stored
from eventlog.clocks import DEFAULT_TOLERANCE
from eventlog.edge import translated
from eventlog.signing import SigningKeyError, parse_public_key, trusted_key_from_env
from workflows.client import GuichetClient

T = TypeVar("T")
LONG_TIMEOUT = 3600.0
AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="A day (up to its end in Paris) or an ISO moment (up to the end of its second, "
        "or minute); a moment without a zone is Paris time: add Z for UTC, as the timeline "
        "prints it (2025-03-01T13:30:00Z).",
    ),
]
PositionOption = Annotated[
    int | None, typer.Option("--position", min=0, help="The log as it stood at position N.")
]
MAX_POSITION = 2**63 - 1
"""The largest position a log can hold (a signed 64-bit integer, in both databases)."""
SHOWN_POSITIONS = 20
"""Positions a warning names one by one; beyond, it counts them."""
MAX_CLOCK_TOLERANCE = 1e9
"""Seconds (about 31 years): beyond any clock's disagreement, and within a ``timedelta``."""

audit_app = typer.Typer(
    name="audit",
    help=(
        "For auditors: a file as of any date, who did what under which rule, whether the "
        "log was altered, signed checkpoints, exports. Everything reads only, except keygen, "
        "checkpoint and schedule-checkpoints. Exit codes: 0 nothing wrong, 1 a problem "
        "found, 2 bad input."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(audit_app, name="audit", rich_help_panel="Audit")


def _log_url() -> str:
    url = resolve_target().event_log_url
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(str(parsed.database)).exists():
        raise CliError(
            f"no event log at {parsed.database}: set GUICHET_DATABASE_URL to the log to read, "
            "or GUICHET_STATE_DIR to the --state-dir of the `guichet dev` that wrote it (a new "
            "log: `guichet migrate` creates one)"
        )
    return url


def with_log(work: Callable[[EventLog], Awaitable[T]], url: str | None = None) -> T:
    """Open the event log, run ``work``, close it; database failures become one sentence."""
    url = url or _log_url()

    async def go() -> T:
        log = EventLog.from_url(url)
        try:
            return await work(log)
        except sa.exc.DBAPIError:
            # A query a command ran on the log's engine (the outbox, the checkpoints): the
            # log's own sentence, as its calls give (a missing table names `guichet migrate`).
            with translated(log.engine.url):
                raise
        finally:
            await log.close()

    try:
        return asyncio.run(go())
    except BrokenPipeError:
        raise  # the reader of our output stopped (`| head`): the CLI leaves quietly
    except (EventLogError, OSError, sa.exc.SQLAlchemyError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise CliError(f"the event log could not be read: {reason}") from None


def parse_as_of(text: str) -> datetime:
    """A day (the end of that day in Paris) or an ISO moment (Paris time when none is given;
    ``2025-03-01T13:30:00Z``, as the timeline prints, is UTC), up to the end of the second
    or minute it is written to (``audit.timeline.moment_of``)."""
    try:
        return moment_of(text, now=datetime.now(UTC))
    except MomentToCome as error:
        raise usage_error(
            f"--as-of {error}; leave --as-of out for the files as they stand now"
        ) from None
    except MomentError as error:
        raise usage_error(f"--as-of {error}") from None


class ProgressBar:
    """``verifying [##   ] 12,000 / 100,000 events  12%`` on stderr, redrawn at most 10 times a
    second; ``doing`` names the work, ``unit`` what is counted."""

    def __init__(self, doing: str = "verifying", unit: str = "events") -> None:
        self._doing, self._unit = doing, unit
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._last < 0.1:
            return
        self._last = now
        share = done * 100 // total if total else 100
        bar = "#" * (share // 5)
        counted = f"{done:,} / {total:,} {self._unit}"
        sys.stderr.write(f"\r{self._doing} [{bar:<20}] {counted} {share:3d}%")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()


# -- show ------------------------------------------------------------------------------------


def tamper_warning(report: AuditReport, what: str) -> list[str]:
    """The lines that end a view or an export of ``what`` whose events the chain does not
    vouch for (the positions, what is wrong at each, and what to do), or whose documents'
    bytes are not as attached."""
    chain = [f for f in report.findings if f.document is None]
    documents = [f for f in report.findings if f.document is not None]
    lines = []
    if chain:
        positions = list(dict.fromkeys(f.position for f in chain if f.position is not None))
        named = ", ".join(str(p) for p in positions[:SHOWN_POSITIONS])
        if len(positions) > SHOWN_POSITIONS:
            named += f" and {len(positions) - SHOWN_POSITIONS} more"
        lines.append(
            f"WARNING: the log's hash chain does not vouch for {what}: position(s) {named} do "
            "not match it, so what was printed may have been altered."
        )
        lines += [f"  {f.problem}" for f in chain[:SHOWN_POSITIONS]]
        lines.append(
            f"Do not rely on it from position {report.untrusted_from} on: run `guichet audit "
            "verify` (with --checkpoints FILE), and compare with an earlier export or a backup."
        )
    if documents:
        lines.append(f"WARNING: documents of {what} are not as attached (the chain holds "
                     "their hashes, the store does not hold those bytes):")  # fmt: skip
        lines += [f"  {f.problem}" for f in documents[:SHOWN_POSITIONS]]
        lines.append(
            "Restore their bytes from a backup: the right ones hash to the SHA-256 the log holds."
        )
    return lines


def _render_state(state: dict[str, Any]) -> list[str]:
    request = state.get("request") or {}
    commune = state.get("commune") or {}
    out = [f"status      {state['status']} (version {state['version']})"]
    if request:
        out.append(f"project     {request['project_title']} — {request['programme_id']}")
    if commune:
        out.append(
            f"commune     {commune['name']} ({commune['insee']}), dep. {commune['department']}"
        )
    if state.get("caseworker_id"):
        out.append(f"caseworker  {state['caseworker_id']}")
    euros = format_euros
    out.append(
        f"award       {euros(state['award_cents'])}   paid {euros(state['paid_cents'])}   "
        f"repayment due {euros(state['repayment_due_cents'])}"
    )
    return out


def _render_timeline(entries: list[TimelineEntry]) -> list[str]:
    # Each time carries its zone (Z), so that pasting it into --as-of, which reads a moment
    # without a zone as Paris time, lands on the same instant.
    out = ["", "timeline (UTC)"]
    for entry in entries:
        who = entry.actor_id + f" ({entry.role}{', ' + entry.funder if entry.funder else ''})"
        out.append(f"  #{entry.position:<6} {utc_text(entry.at)}  {who:<34} {entry.summary}")
        for rule in entry.rules:
            source = f" [{rule.source}]" if rule.source else ""
            out.append(f"  {'':<28}rule {rule.rule}: {rule.outcome}{source}")
    return out


class _Shown(NamedTuple):
    """What ``audit show`` read: the file at the cut, where it begins, its check, and the
    console's accounts (who the actors are)."""

    entries: list[TimelineEntry]
    state: Application
    first: TimelineEntry
    check: AuditReport
    accounts: list[Account] | None
    """None: they could not be read (a log copied without them, an older schema)."""


async def _accounts(log: EventLog) -> list[Account] | None:
    try:
        return await AccountStore(log.engine).all()
    except (EventLogError, sa.exc.DBAPIError):
        return None


def actor_notes(entries: list[TimelineEntry], accounts: list[Account] | None) -> list[str]:
    """What an auditor should know of who acted: ids no console account has (the CLI's
    ``--as`` records any name on the operator's word: « payment_officer:ghost » ordered a
    payment), and acts after the actor's account was disabled."""
    people = [e for e in entries if e.role != "system"]
    if not people or accounts is None:
        return []
    if not accounts:
        return [
            "no console account exists: every actor of this file was recorded as named on the "
            "command line (--as), on the operator's word"
        ]
    known = {account.username: account for account in accounts}
    unknown = sorted({e.actor_id for e in people if e.actor_id not in known})
    notes = []
    if unknown:
        notes.append(
            f"actor(s) {', '.join(unknown)} have no console account: recorded as named on the "
            "command line (--as), on the operator's word; `guichet user list` gives the accounts"
        )
    for entry in people:
        account = known.get(entry.actor_id)
        if account and account.disabled_at and entry.at > account.disabled_at:
            notes.append(
                f"position {entry.position}: {entry.actor_id} acted after its account was "
                f"disabled ({utc_text(account.disabled_at)})"
            )
    return notes


@audit_app.command("show")
@friendly
def show(
    application_id: Annotated[
        str, typer.Argument(metavar="APPLICATION", help="The application id.")
    ],
    as_of: AsOfOption = None,
    position: PositionOption = None,
    json_output: JsonOption = False,
) -> None:
    """A file's timeline and its state as of a date or a log position (from the log only).

    The file's events are checked against the hash chain: exit code 1, after the view, when
    one does not match.

    Example: guichet audit show dsil-detr-investissement-01053-3f2a9c1b7d4e --as-of 2025-03-01
    """
    if as_of is not None and position is not None:
        raise usage_error("give --as-of or --position, not both")
    if position is not None and position > MAX_POSITION:
        raise usage_error(
            f"--position {position} is beyond any log: positions go up to {MAX_POSITION}"
        )
    moment = parse_as_of(as_of) if as_of is not None else None

    async def work(log: EventLog) -> _Shown:
        whole = await timeline(log, application_id)
        if not whole:
            raise CliError(f"no application {application_id} in the event log")
        entries = await timeline(log, application_id, as_of=moment, up_to_position=position)
        state = await state_as_of(log, application_id, at=moment, position=position)
        check = await check_files(log, [application_id])  # after the reads: it covers them
        check = await with_documents(log, check, [application_id])
        return _Shown(entries, state, whole[0], check, await _accounts(log))

    found = with_log(work)
    notes = []
    if position is not None and position > found.check.head_position:
        notes.append(
            f"the log ends at position {found.check.head_position}: this is the file as "
            "it stands now"
        )
    notes += actor_notes(found.entries, found.accounts)
    if json_output:
        _show_json(application_id, moment, position, found, notes)
    else:
        _show_text(application_id, moment, position, found, notes)
    if not found.check.ok:
        raise typer.Exit(EXIT_REFUSED)


def _show_json(
    application_id: str,
    moment: datetime | None,
    position: int | None,
    found: _Shown,
    notes: list[str],
) -> None:
    check = found.check
    emit_json(
        {
            "application_id": application_id,
            "as_of": moment.isoformat() if moment else None,
            "position": position,
            # No event yet at that cut: there was no file, not a draft.
            "state": state_json(found.state) if found.entries else None,
            "timeline": [entry.model_dump(mode="json") for entry in found.entries],
            "head_position": check.head_position,
            "notes": notes,
            "chain": {
                "ok": check.ok,
                "checked": check.checked,
                "findings": [f.model_dump(mode="json") for f in check.findings],
            },
        }
    )
    if not check.ok:  # stdout is the JSON: the warning goes beside it
        typer.echo("\n".join(tamper_warning(check, f"the file {application_id}")), err=True)


def _show_text(
    application_id: str,
    moment: datetime | None,
    position: int | None,
    found: _Shown,
    notes: list[str],
) -> None:
    cut = f" as of {moment.isoformat()}" if moment else ""
    cut += f" at position {position}" if position is not None else ""
    lines = [f"{application_id}{cut}", *(f"note: {note}" for note in notes)]
    if found.entries:
        lines += _render_state(state_json(found.state))
        lines += _render_timeline(found.entries)
    else:
        first = found.first
        lines.append(
            f"no event yet: the file begins at position {first.position}, {utc_text(first.at)}"
        )
    if not found.check.ok:
        lines += ["", *tamper_warning(found.check, f"the file {application_id}")]
    typer.echo("\n".join(lines))


# -- cross-check -----------------------------------------------------------------------------


@audit_app.command("cross-check")
@friendly
def cross_check_command(
    application_id: Annotated[
        str | None, typer.Argument(metavar="APPLICATION", help="Default: every file.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Compare each workflow's state (Temporal) with the fold of its events (log).

    Exit code 1 when any field differs. Files Temporal no longer holds are listed, not failed.

    Example: guichet audit cross-check
    """
    target = resolve_target()
    url = _log_url()
    missing: list[str] = []

    async def work(guichet: GuichetClient) -> tuple[list[Difference], int]:
        log = EventLog.from_url(url)
        try:
            ids = [application_id] if application_id else await log.stream_ids()
            bar = ProgressBar("checking", "files") if sys.stderr.isatty() else None
            found = await cross_check(guichet, log, ids, on_missing=missing.append, progress=bar)
        finally:
            await log.close()
        return found, len(ids)

    found, count = run_with_client(work, target=target, timeout=LONG_TIMEOUT)
    if json_output:
        emit_json(
            {
                "checked": count,
                "not_in_temporal": missing,
                "differences": [d.model_dump(mode="json") for d in found],
            }
        )
    else:
        for difference in found:
            typer.echo(difference.sentence())
        files = {d.application_id for d in found}
        gone = f"; {len(missing)} no longer held by Temporal" if missing else ""
        typer.echo(
            f"{count} file(s) checked{gone}: "
            + (f"{len(found)} difference(s) in {len(files)} file(s)" if found else "no difference")
        )
    if found:
        raise typer.Exit(EXIT_REFUSED)


# -- verify ----------------------------------------------------------------------------------


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


# -- replay-history --------------------------------------------------------------------------


@audit_app.command("replay-history")
@friendly
def replay_history_command(
    workflow_id: Annotated[
        str | None,
        typer.Argument(
            metavar="WORKFLOW_ID",
            help="A workflow id: a file's application id, or a checkpoint, digest or "
            "redelivery run's (`temporal workflow list`).",
        ),
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every running file.")] = False,
    history_file: Annotated[
        Path | None,
        typer.Option("--history-file", help="A history exported as JSON, instead of Temporal."),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Replay Temporal histories on the current workflow code (production converter).

    Exit code 1 when a history does not replay (non-determinism): the message names the
    workflow and the first mismatch. A file that is no replayable history (no events, another
    workflow type, no completed workflow task) is refused with exit code 2; a running file
    that has not completed its first workflow task is reported as skipped.

    Example: guichet audit replay-history --all
    """
    sources = sum(x for x in (workflow_id is not None, all_, history_file is not None))
    if sources != 1:
        raise usage_error("give one WORKFLOW_ID, --all, or --history-file FILE")
    if history_file is not None:
        try:
            text = history_file.read_text(encoding="utf-8")
            history = history_from_json(history_file.stem, text)
        except OSError as error:
            raise usage_error(f"cannot read {history_file}: {error.strerror}") from None
        except (ValueError, KeyError):
            raise usage_error(f"{history_file} is not a Temporal history in JSON") from None
        problem = history_problem(history)
        if problem is not None:
            # Temporal's replayer would hang (or panic) on it: refuse it before replaying.
            raise usage_error(
                f"{history_file} {problem}: a good file is the whole history of a "
                "Guichet workflow that has run, exported with "
                "`temporal workflow show --workflow-id ID --output json` or from the Temporal UI"
            )
        outcomes = [asyncio.run(replay_history(history))]
    else:

        async def work(guichet: GuichetClient) -> list[ReplayOutcome]:
            client = guichet.temporal
            ids = [i async for i in open_workflow_ids(client)] if all_ else [str(workflow_id)]
            outcomes = []
            for i in ids:
                try:
                    history = await fetch_history(client, i)
                except RPCError as error:
                    if all_ or error.status != RPCStatusCode.NOT_FOUND:
                        raise
                    raise usage_error(
                        f"no workflow {i} in Temporal's namespace {client.namespace!r}: check "
                        "the id (`guichet list`, `temporal workflow list`); a file closed "
                        "longer ago than the namespace's retention has no history left, only "
                        "its events in the log (`guichet audit show`)"
                    ) from None
                problem = history_problem(history)
                if not all_ and problem not in (None, NOTHING_TO_REPLAY):
                    raise usage_error(
                        f"workflow {i} {problem}: give a file's application id, or the "
                        "workflow id of a checkpoint, digest or redelivery run"
                    )
                outcomes.append(await replay_history(history))  # skips a file not yet run
            return outcomes

        outcomes = run_with_client(work, timeout=LONG_TIMEOUT)
    if not json_output:  # in JSON, a skipped history is an outcome with its `skipped` reason
        for outcome in outcomes:
            if outcome.skipped is not None:
                typer.echo(f"skipped: {outcome.skipped}")
        outcomes = [o for o in outcomes if o.skipped is None]
    _report_replays(outcomes, json_output)


def _report_replays(outcomes: list[ReplayOutcome], json_output: bool) -> None:
    failed = [o for o in outcomes if not o.ok]
    if json_output:
        emit_json([o.model_dump(mode="json") for o in outcomes])
    else:
        for outcome in failed:
            typer.echo(outcome.problem)
        typer.echo(f"{len(outcomes)} history(ies) replayed: {len(failed)} failed")
    if failed:
        raise typer.Exit(EXIT_REFUSED)


__all__ = ["audit_app", "parse_as_of", "with_log"]
