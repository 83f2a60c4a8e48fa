"""``guichet schedules``: the notices' Temporal Schedules, created or brought up to date.

``guichet dev`` ensures them at every start; a deployment runs this once (after the migration
job, say). Both keep an operator's pause.
"""

from __future__ import annotations

from typing import Annotated

import typer

from console.app import app, friendly
from console.auditing_keys import describe_every, parse_every
from console.connection import run_with_client
from console.errors import usage_error
from workflows.client import GuichetClient
from workflows.digest_schedule import DIGEST_SCHEDULE_ID, ensure_digest_schedule
from workflows.redelivery_schedule import REDELIVERY_SCHEDULE_ID, ensure_redelivery_schedule


@app.command(rich_help_panel="Run")
@friendly
def schedules(
    digest_hour: Annotated[
        int, typer.Option(help="Hour (0-23, Europe/Paris) of the caseworkers' daily digest.")
    ] = 7,
    redeliver_every: Annotated[
        str, typer.Option(help="How often notices whose delivery gave up are tried again.")
    ] = "1h",
) -> None:
    """Create or update the daily digest and the notice redelivery schedules.

    Safe at every deployment: a schedule is updated in place; one an operator paused stays so.

    The workers run what the schedules start.

    Example: guichet schedules --digest-hour 7 --redeliver-every 1h
    """
    if not 0 <= digest_hour <= 23:
        raise usage_error(f"--digest-hour {digest_hour} is not an hour: write 0 to 23")
    every = parse_every(redeliver_every)

    async def work(guichet: GuichetClient) -> None:
        await ensure_digest_schedule(guichet.temporal, guichet.task_queue, digest_hour)
        await ensure_redelivery_schedule(guichet.temporal, guichet.task_queue, every)

    run_with_client(work)
    typer.echo(f"schedule {DIGEST_SCHEDULE_ID}: every day at {digest_hour}:00 (Europe/Paris)")
    typer.echo(f"schedule {REDELIVERY_SCHEDULE_ID}: every {describe_every(every)}")
