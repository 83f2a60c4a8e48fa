"""``guichet audit cross-check``: each workflow's state in Temporal compared with the fold of
its events in the log."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from audit.crosscheck import Difference, cross_check
from console.app import JsonOption, emit_json, friendly
from console.auditing import LONG_TIMEOUT, ProgressBar, audit_app, log_url
from console.connection import resolve_target, run_with_client
from console.errors import EXIT_REFUSED
from eventlog import EventLog
from workflows.client import GuichetClient


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
    url = log_url()
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
