"""The operator's commands for notices: ``guichet schedules`` creates or updates their
Temporal Schedules (``guichet dev`` does at every start; a deployment runs it once, both keep
an operator's pause); ``guichet notices`` lists what the outbox has not delivered, and what
it only wrote to the worker's log for want of an SMTP host (what ``guichet dev`` does, whose
worker logs at WARNING: this is where a developer reads those notices).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from activities.outbox import (
    LOGGED_RECENTLY,
    STALE_AFTER,
    Backlog,
    LoggedOnly,
    logged_only,
    undelivered,
)
from activities.outbox import retry_refused as retry_refused_notices
from console.app import JsonOption, app, emit_json, friendly
from console.auditing import with_log
from console.auditing_keys import describe_every, parse_every
from console.connection import run_with_client
from console.errors import usage_error
from eventlog import EventLog
from workflows.client import GuichetClient
from workflows.digest_schedule import DIGEST_SCHEDULE_ID, ensure_digest_schedule
from workflows.redelivery_schedule import REDELIVERY_SCHEDULE_ID, ensure_redelivery_schedule


@app.command(rich_help_panel="Run")
@friendly
def schedules(
    digest_hour: Annotated[
        int,
        typer.Option(
            help="Hour (0-23, Europe/Paris) of the caseworkers' and co-financers' daily digests."
        ),
    ] = 7,
    redeliver_every: Annotated[
        str, typer.Option(help="How often notices whose delivery gave up are tried again.")
    ] = "1h",
    digest_now: Annotated[
        bool,
        typer.Option(
            "--digest-now",
            help="Also send today's digests now (after an outage past the catch-up window, "
            "or to see them): each reader receives a second one if the morning's went out.",
        ),
    ] = False,
) -> None:
    """Create or update the daily digest and the notice redelivery schedules.

    Safe at every deployment: a schedule is updated in place; one an operator paused stays so.

    The workers run what the schedules start.

    Example: guichet schedules --digest-hour 7 --redeliver-every 1h
    """
    if not 0 <= digest_hour <= 23:
        raise usage_error(f"--digest-hour {digest_hour} is not an hour: write 0 to 23")
    every = parse_every(redeliver_every, "--redeliver-every")

    async def work(guichet: GuichetClient) -> None:
        digest = await ensure_digest_schedule(guichet.temporal, guichet.task_queue, digest_hour)
        await ensure_redelivery_schedule(guichet.temporal, guichet.task_queue, every)
        if digest_now:
            await digest.trigger()

    run_with_client(work)
    typer.echo(
        f"schedule {DIGEST_SCHEDULE_ID}: every day at {digest_hour}:00 (Europe/Paris), a digest "
        "to each caseworker and to each co-financer with decisions awaited"
    )
    typer.echo(f"schedule {REDELIVERY_SCHEDULE_ID}: every {describe_every(every)}")
    if digest_now:
        typer.echo(
            "digests: started now (one already running goes on alone); a worker sends them, "
            "and `guichet notices` lists those it only wrote to its log"
        )


@app.command(rich_help_panel="Run")
@friendly
def notices(
    limit: Annotated[int, typer.Option(min=1, help="At most this many of each kind.")] = 50,
    retry_refused: Annotated[
        bool,
        typer.Option(
            "--retry-refused",
            help="Put the notices refused for good back to wait, once what refused them is "
            "fixed: the redelivery schedule sends them at its next runs.",
        ),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Notices the outbox has not delivered: waiting (tried again by the redelivery
    schedule) and refused for good; and those of the last day written to the worker's log
    instead of mailed, with their text.

    A refused notice needs a person: fix GUICHET_DIRECTORY_FILE (the workers read it when
    they start: restart them), then --retry-refused; or reach the person another way.

    Without GUICHET_SMTP_HOST a worker writes each notice to its log instead of mailing it.
    In `guichet dev`, whose worker logs at WARNING and so hides those lines, this is where to
    read what would have been mailed: recipient, subject and body. Anywhere else nobody
    received those notices, and `guichet status` fails on them.

    Addresses are masked. Exit code 0 either way.

    Example: guichet notices --limit 20
    Example: guichet notices --retry-refused
    """
    if retry_refused:
        count = with_log(lambda log: retry_refused_notices(log.engine))
        typer.echo(
            f"{count} refused notice(s) put back to wait: the redelivery schedule sends them "
            f"at its next run once they are {STALE_AFTER.total_seconds() / 3600:.0f} hours old "
            "(`guichet notices` follows them)"
        )
        return

    async def read(log: EventLog) -> tuple[Backlog, LoggedOnly]:
        since = datetime.now(UTC) - LOGGED_RECENTLY
        return await undelivered(log.engine, limit), await logged_only(log.engine, since, limit)

    backlog, logged = with_log(read)
    if json_output:
        emit_json({**backlog.model_dump(mode="json"), "logged": logged.model_dump(mode="json")})
        return
    if logged.count:
        _show_logged(logged, limit)
    if not backlog.notices:
        typer.echo("none waits, none was refused" if logged.count else "every notice was delivered")
        return
    summary = f"{backlog.waiting} waiting, {backlog.refused} refused for good"
    oldest = next((n for n in backlog.notices if n.state == "waiting"), None)
    if oldest is not None:
        hours = (datetime.now(UTC) - oldest.queued_at).total_seconds() / 3600
        summary += f"; the oldest waiting was queued {hours:.0f} h ago"
    if len(backlog.notices) < backlog.waiting + backlog.refused:
        summary += f" (the oldest {limit} of each listed)"
    typer.echo(summary)
    for notice in backlog.notices:
        queued = notice.queued_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
        typer.echo(
            f"{notice.state:<8} {queued} UTC  {notice.application_id}  {notice.recipient}  "
            f"attempts {notice.attempts}  {notice.subject}"
        )
        if notice.last_error:
            typer.echo(f"{'':<8} last error: {notice.last_error}")


def _show_logged(logged: LoggedOnly, limit: int) -> None:
    """The notices only logged: a line each as for the others, then its body, indented."""
    noun = "notice" if logged.count == 1 else "notices"
    cut = f" (the latest {limit} listed)" if len(logged.notices) < logged.count else ""
    typer.echo(
        f"{logged.count} {noun} of the last day written to the worker's log, not mailed: no "
        f"SMTP host (GUICHET_SMTP_HOST){cut}"
    )
    for notice in logged.notices:
        at = notice.logged_at.strftime("%Y-%m-%d %H:%M")
        typer.echo(
            f"{'logged':<8} {at} UTC  {notice.application_id}  {notice.recipient}  {notice.subject}"
        )
        for line in notice.body.splitlines():
            typer.echo(f"{'':<8} {line}".rstrip())
        typer.echo("")
