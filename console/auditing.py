"""``guichet audit``: the auditor's commands over the read API of the ``audit`` package, and
what they share: the log they open, ``--as-of`` and ``--position``, progress, tamper warnings.

Exit codes: 0 nothing wrong, 1 a problem found (tampering, a difference, a history that does
not replay) or a server unreachable, 2 bad input. The commands, in ``--help`` order:
``auditing_show``, ``auditing_crosscheck``, ``auditing_verify``, ``auditing_replay``;
exports: ``auditing_exports``; keys and checkpoints: ``auditing_keys``.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, TypeVar

import sqlalchemy as sa
import typer

from audit.findings import AuditReport
from audit.timeline import MomentError, MomentToCome, moment_of
from console.app import app
from console.connection import resolve_target
from console.errors import CliError, usage_error
from eventlog import EventLog, EventLogError
from eventlog.edge import translated

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
SHOWN_POSITIONS = 20
"""Positions a warning names one by one; beyond, it counts them."""

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


def log_url() -> str:
    """The event log's URL the commands read: the one configured, or ``guichet dev``'s."""
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
    url = url or log_url()

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


__all__ = ["audit_app", "parse_as_of", "with_log"]
