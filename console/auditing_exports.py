"""``guichet audit export`` and ``guichet audit states``: a file's, a programme's or a
department's trail, and every file's state as of a date, as CSV or JSON Lines.

Both read the log only (no Temporal) and write data, not a report: no ``--json``; a summary
goes to stderr. Both check what they wrote against the hash chain (``export``: the events of
its files; ``states``: the whole log) and, when it does not hold, end with a warning on stderr
and exit code 1: the data is still written, for the auditor to compare.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TextIO, TypeVar

import typer

from audit.describing import format_euros
from audit.exporting import Format, export, select_applications, utc_text
from audit.file_checks import check_files
from audit.findings import AuditReport
from audit.portfolio import Portfolio, export_states
from audit.verifying import verify
from audit.writing import Replacement, Writer
from console.app import friendly, say
from console.auditing import (
    AsOfOption,
    PositionOption,
    ProgressBar,
    audit_app,
    parse_as_of,
    tamper_warning,
    with_log,
)
from console.auditing_verify import trusted_key
from console.errors import EXIT_REFUSED, CliError, usage_error
from console.parsing import check_department
from domain.catalogue import load_catalogue
from domain.registry import load_registry
from eventlog import EventLog
from eventlog.checkpoints import stored

T = TypeVar("T")

OutputOption = Annotated[
    Path | None,
    typer.Option(
        "--output", "-o", help="File to write (default: stdout); an existing one needs --force."
    ),
]
ForceOption = Annotated[bool, typer.Option(help="Replace an existing --output file.")]


def written(
    output: Path | None, write: Callable[[EventLog, Writer], Awaitable[T]], *, force: bool
) -> T:
    """``write(log, out)`` to stdout or to the file ``output``, the log open meanwhile.

    An existing ``output`` is replaced only with ``force``: an earlier export may be the
    evidence the auditor compares the log with.

    The file takes ``output``'s place only once complete (``audit.writing.Replacement``): a
    failed export leaves no partial file, and an earlier one as it was. A file that cannot be
    created is a usage error; one that cannot be written (a full disk) is said about the file,
    not the log; a reader that stops early (``| head``) is not a failure: click then leaves
    quietly."""
    name = "the output" if output is None else str(output)
    if output is not None and output.is_file() and not force:  # a pipe or a device: nothing lost
        raise usage_error(
            f"{output} already exists: an earlier export may be the evidence you compare the "
            "log with; choose another file, or pass --force to replace it"
        )
    try:
        if output is None:
            return with_log(lambda log: _finished(write(log, _Output(sys.stdout)), sys.stdout))
        try:  # created before the log is read: a bad path is said about the file, at once
            replacement = Replacement(output)
        except OSError as error:
            raise usage_error(f"cannot write {output}: {error.strerror}") from None
        with replacement as handle:
            return with_log(lambda log: write(log, _Output(handle)))
    except OutputFailed as failure:
        raise CliError(f"cannot write {name}: {failure.reason}") from None
    except BrokenPipeError:
        raise  # the reader stopped (`| head`), an OSError too: not a failure to write
    except OSError as error:  # syncing or renaming the finished file
        raise CliError(f"cannot write {name}: {error.strerror or error}") from None


class OutputFailed(Exception):
    """Writing the export failed; not an ``OSError``, which ``with_log`` reads as the log's."""

    def __init__(self, error: OSError) -> None:
        super().__init__(error.strerror or str(error))
        self.reason = error.strerror or str(error)


class _Output:
    """The export's file or stdout, its failed writes raised as ``OutputFailed`` (a closed
    pipe stays a ``BrokenPipeError``: the reader stopping is not a failure)."""

    def __init__(self, handle: TextIO) -> None:
        self._handle = handle

    def write(self, text: str, /) -> int:
        try:
            return self._handle.write(text)
        except BrokenPipeError:
            raise
        except OSError as error:
            raise OutputFailed(error) from error

    def flush(self) -> None:
        try:
            self._handle.flush()
        except BrokenPipeError:
            raise
        except OSError as error:
            raise OutputFailed(error) from error


async def _finished(writing: Awaitable[T], out: TextIO) -> T:
    """What ``writing`` returns, once what it wrote to ``out`` has left the buffer (a full
    disk behind a redirection shows at the flush)."""
    result = await writing
    _Output(out).flush()
    return result


async def refuse_unknown_selection(
    log: EventLog, programme: str | None, department: str | None
) -> None:
    """Exit 2, before anything is written, for a --programme or a --department nothing
    knows: neither the catalogue (the registry) nor any file of the log. A typo, not an empty
    selection; a programme retired from the catalogue whose files are still in the log is
    found, and read."""
    programmes = [p.id for p in load_catalogue().programmes]
    unknown_programme = programme is not None and programme not in programmes
    unknown_department = department is not None and department not in load_registry().departments()
    if not (unknown_programme or unknown_department):
        return
    if await select_applications(log, programme=programme, department=department):
        return
    if unknown_programme:
        raise usage_error(
            f"--programme {programme!r}: no file of the log, and no programme of the "
            f"catalogue, has that id (the catalogue's: {', '.join(programmes)})"
        )
    raise usage_error(
        f"--department {department}: no commune of the registry is in it, and no file of the "
        "log (codes as INSEE writes them: 01, 2A, 974)"
    )


def nothing_matched(programme: str | None) -> str:
    """What to say when a selection found no file: for a programme, the catalogue's ids."""
    if programme is None:
        return "no file of the log matches the selection"
    known = ", ".join(p.id for p in load_catalogue().programmes)
    return f"no file of the log matches the selection (the catalogue's programmes: {known})"


# -- export ----------------------------------------------------------------------------------


@audit_app.command("export")
@friendly
def export_command(
    application_id: Annotated[
        str | None, typer.Argument(metavar="APPLICATION", help="One file, by its application id.")
    ] = None,
    programme: Annotated[str | None, typer.Option(help="Every file of this programme.")] = None,
    department: Annotated[str | None, typer.Option(help="Every file of this department.")] = None,
    format_: Annotated[
        str, typer.Option("--format", help="jsonl (every stored field) or csv (spreadsheets).")
    ] = "jsonl",
    output: OutputOption = None,
    force: ForceOption = False,
) -> None:
    """Export the trail of a file, a programme or a department as JSON Lines or CSV.

    CSV: UTF-8 with BOM, `;` separator, euros like 1234,50, ISO dates (UTC). The hash chain
    covers each event's content and occurred_at (when it happened), not recorded_at (the
    database's clock when the row was written): that one informs, it proves nothing.

    The exported events are checked against the hash chain: exit code 1, once written, when
    one does not match.

    Example: guichet audit export --department 01 --format csv -o trail-01.csv
    """
    if format_ not in ("jsonl", "csv"):
        raise usage_error(f"--format {format_!r}: use jsonl or csv")
    chosen: Format = "csv" if format_ == "csv" else "jsonl"
    if (application_id is None) == (programme is None and department is None):
        raise usage_error("name one APPLICATION, or select with --programme and/or --department")
    check_department(department)

    async def write(log: EventLog, out: Writer) -> tuple[int, AuditReport]:
        if application_id is not None:
            ids = [application_id]
            if not await log.stream_version(application_id):
                raise CliError(f"no application {application_id} in the event log")
        else:
            await refuse_unknown_selection(log, programme, department)
            ids = await select_applications(log, programme=programme, department=department)
        count = await export(log, ids, out, chosen)
        return count, await check_files(log, ids)  # after the export: it covers every row

    count, check = written(output, write, force=force)
    if output is not None:
        say(f"{count} event(s) written to {output}")
    if count == 0:  # an empty file alone would not tell "nothing matched" from a failure
        say(f"no event written: {nothing_matched(programme)}")
    if not check.ok:
        say("\n".join(tamper_warning(check, "the exported events")))
        raise typer.Exit(EXIT_REFUSED)


# -- states ----------------------------------------------------------------------------------


@audit_app.command("states")
@friendly
def states_command(
    as_of: AsOfOption = None,
    position: PositionOption = None,
    programme: Annotated[str | None, typer.Option(help="Only this programme's files.")] = None,
    department: Annotated[str | None, typer.Option(help="Only this department's files.")] = None,
    format_: Annotated[
        str, typer.Option("--format", help="csv (one row per file) or jsonl (whole states).")
    ] = "csv",
    output: OutputOption = None,
    force: ForceOption = False,
    no_verify: Annotated[
        bool,
        typer.Option(
            "--no-verify",
            help="Do not recompute the hash chain after the states (it adds about a quarter "
            "of the time on PostgreSQL, two thirds on SQLite).",
        ),
    ] = False,
) -> None:
    """Every file's state as of a date or a log position, rebuilt from the log alone.

    One row per file that existed then: status, commune, caseworker, and in euros: award
    (granted at acceptance by the programme's own funders, e.g. the State's DETR/DSIL), paid
    (disbursed), repayment_due (still owed back), repaid (given back). A file cost its
    funders paid - repaid. Then its payments' moments: last_ordered_at, last_disbursed_at
    (paid by the bank) and last_failed_at (a refusal by the bank not ordered anew); one
    payment is under way at a time, so an order later than the last payment is that one's.
    JSON Lines carry every payment with its moments.

    Files per status, the totals and the log position read up to go to stderr. The whole
    chain is then recomputed and the stored checkpoints checked against it: exit code 1, once
    the states are written, when either does not hold.

    CSV: UTF-8 with BOM, `;` separator, euros like 1234,50, ISO dates (UTC).

    Example: guichet audit states --as-of 2025-12-31 --department 01 -o portfolio-2025.csv
    """
    if format_ not in ("jsonl", "csv"):
        raise usage_error(f"--format {format_!r}: use csv or jsonl")
    chosen: Format = "csv" if format_ == "csv" else "jsonl"
    if as_of is not None and position is not None:
        raise usage_error("give --as-of or --position, not both")
    check_department(department)
    moment = parse_as_of(as_of) if as_of is not None else None
    shown_apart = output is not None or not sys.stdout.isatty()
    options: dict[str, Any] = {
        "at": moment,
        "position": position,
        "programme": programme,
        "department": department,
        # Not over rows being printed on the same terminal.
        "progress": ProgressBar("rebuilding") if sys.stderr.isatty() and shown_apart else None,
    }

    checking = ProgressBar() if options["progress"] is not None else None
    trusted = None if no_verify else trusted_key(None)

    async def write(log: EventLog, out: Writer) -> tuple[Portfolio, AuditReport | None]:
        await refuse_unknown_selection(log, programme, department)
        portfolio = await export_states(log, out, chosen, **options)
        if no_verify:
            return portfolio, None
        # A state is only as sound as the events folded into it. The whole chain: recomputing
        # it costs less than folding every file did (0.6 s against 2.4 s for 110,000 events
        # on PostgreSQL, 1.9 s against 2.9 s on SQLite), checking file by file more. The
        # stored checkpoints too: a rewrite re-hashed from some position on shows only there.
        checkpoints = await stored(log)
        report = await verify(log, checkpoints, trusted=trusted, progress=checking, documents=False)
        return portfolio, report

    portfolio, chain = written(output, write, force=force)
    statuses = ", ".join(
        f"{status} {count}" for status, count in sorted(portfolio.by_status.items())
    )
    say(
        f"{portfolio.files} file(s){' (' + statuses + ')' if statuses else ''}; awarded "
        f"{format_euros(portfolio.award_cents)}, paid {format_euros(portfolio.paid_cents)}, "
        f"repaid {format_euros(portfolio.repaid_cents)}, repayments due "
        f"{format_euros(portfolio.repayment_due_cents)}, final subsidy of the closed files "
        f"{format_euros(portfolio.final_cents)}; "
        + (f"as of {utc_text(moment)}, " if moment is not None else "")
        + f"log as of position {portfolio.position}"
        + (f"; written to {output}" if output is not None else "")
    )
    if portfolio.files == 0 and (programme is not None or department is not None):
        say(f"note: {nothing_matched(programme)}")
    if chain is None:
        say(
            "note: the states were not checked against the log's hash chain (--no-verify): "
            "run `guichet audit verify` before relying on them"
        )
    elif not chain.ok:
        say(
            f"WARNING: the log does not vouch for these states: {chain.problem}; the states "
            "above may rest on altered events.\n"
            "Do not rely on them: run `guichet audit verify` (with --checkpoints FILE) for "
            "the whole account, and compare with an earlier export or a backup."
        )
        raise typer.Exit(EXIT_REFUSED)
