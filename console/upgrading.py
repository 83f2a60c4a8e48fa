"""``guichet publish-funders``: after the upgrade to the release where files publish their
plan's funders (``GuichetFunders``), the files already running publish them too.

A run publishes the key only when it began with it (``workflow.patched``): a file submitted
before goes on publishing what it did, and a co-financer's listings read its state to tell
whose it is, one query each. This asks each such running file to publish the key now (the
workflow's ``publish_funders`` update), so those listings read no state at all.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import asdict, dataclass
from typing import Annotated

import typer

from console.app import JsonOption, app, emit_json, friendly, say
from console.auditing import ProgressBar
from console.connection import run_with_client
from workflows.client import (
    ApplicationEnded,
    ApplicationNotFound,
    GuichetClient,
    GuichetError,
    OlderWorker,
)

UNTOLD = "ExecutionStatus = 'Running' AND GuichetFunders IS NULL"
"""The running files that do not publish their funders."""
CLOSED_UNTOLD = "ExecutionStatus != 'Running' AND GuichetFunders IS NULL"
"""The files closed before they could be asked: nothing changes a closed workflow's search
attributes, and Temporal's retention removes them (30 days in deploy/README.md)."""
AT_ONCE = 8
"""Files asked at once: each request is a workflow task on the workers."""
LISTING_PAGE = 500


@dataclass
class FundersPublished:
    """What ``publish_running_funders`` did, file by file."""

    asked: int = 0
    published: int = 0
    """Files that publish their funders from now on."""
    already: int = 0
    """Files that did already (their run began with the key, or an earlier run of this)."""
    ended: int = 0
    """Files closed between the listing and the request: nothing to publish any more."""


async def publish_running_funders(
    guichet: GuichetClient, progress: ProgressBar | None = None
) -> FundersPublished:
    """Ask every running file that does not publish its funders to publish them."""
    ids: list[str] = []
    token: bytes | None = None
    while True:  # listed first: the files leave the listing as they publish
        rows, token = await guichet.page(UNTOLD, LISTING_PAGE, token)
        ids += [row.application_id for row in rows]
        if token is None:
            break
    done = FundersPublished(asked=len(ids))
    gate = asyncio.Semaphore(AT_ONCE)

    async def ask(application_id: str) -> None:
        async with gate:
            try:
                if await guichet.publish_funders(application_id):
                    done.published += 1
                else:
                    done.already += 1
            except (ApplicationEnded, ApplicationNotFound):
                done.ended += 1
            if progress is not None:
                progress(done.published + done.already + done.ended, len(ids))

    try:
        await asyncio.gather(*(ask(application_id) for application_id in ids))
    except OlderWorker as older:
        raise GuichetError(
            f"{older} ({done.published} of {len(ids)} files published their funders before "
            "it; running this again asks only the others)"
        ) from None
    return done


@app.command(rich_help_panel="Run")
@friendly
def publish_funders(
    timeout: Annotated[
        float, typer.Option(min=1, help="Seconds the whole run may take before it stops.")
    ] = 3600,
    json_output: JsonOption = False,
) -> None:
    """After the upgrade to the release where files publish their plan's funders: have the
    files already running publish them too.

    Until then a co-financer's queue, exports and « Mes lignes » read the state of each such
    file to tell whose it is (a query to the workers per file). Run it once every worker runs
    the new release: a worker of an earlier release refuses the request, and the run stops
    saying so. Safe to repeat: it asks only the files that still do not publish them. Files
    submitted since the upgrade publish them already; guichet status counts those left.

    Example: guichet publish-funders
    """
    bar = ProgressBar("asking", "files") if sys.stderr.isatty() else None
    done = run_with_client(lambda guichet: publish_running_funders(guichet, bar), timeout=timeout)
    if json_output:
        emit_json(asdict(done))
        return
    if not done.asked:
        say("every running file publishes its funders already")
        return
    typer.echo(
        f"{done.published} running file(s) now publish their funders; {done.already} did "
        f"already; {done.ended} closed meanwhile. Visibility lists the change within seconds."
    )
