"""``guichet publish-funders``: after the upgrade to the release where files publish their
plan's funders (``GuichetFunders``), the files already running publish them too.

A run publishes the key only when it began with it (``workflow.patched``): a file submitted
before goes on publishing what it did, and a co-financer's listings read its events in the
log to tell whose it is, and give no total where such a file matches. This asks each such
running file to publish the key now (the workflow's ``publish_funders`` update); files closed
before cannot be asked, and stay until Temporal's retention removes them.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass

import typer

from console.app import JsonOption, app, emit_json, friendly, say
from console.auditing import ProgressBar
from console.connection import run_with_client
from workflows.client import GuichetClient
from workflows.client_errors import (
    ApplicationEnded,
    ApplicationNotFound,
    GuichetError,
    NoWorker,
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
FILE_PATIENCE = 60.0
"""Seconds one file's answer is awaited. A worker answers within a second or two, replaying
the file when it is not cached; past this no worker is taking the requests (one stopped a
moment ago is still listed for a while), and the run stops asking rather than wait."""


@dataclass
class FundersPublished:
    """What ``publish_running_funders`` did, file by file."""

    listed: int = 0
    """Running files that did not publish their funders when the run began."""
    published: int = 0
    """Files that publish their funders from now on."""
    already: int = 0
    """Files that did already (their run began with the key, or an earlier run of this)."""
    ended: int = 0
    """Files closed between the listing and the request: nothing to publish any more."""
    unanswered: int = 0
    """Files asked without an answer in time: the request may still be applied when a worker
    of this release takes the file; running the command again asks it again."""
    refused: int = 0
    """Files a worker of an earlier release refused: nothing of the request reached them."""
    not_asked: int = 0
    """Files left once the run stopped (a worker refused, or none answered)."""
    stopped: str = ""
    """Why the run stopped before asking every file; empty when it did not."""

    @property
    def settled(self) -> int:
        done = self.published + self.already + self.ended + self.unanswered
        return done + self.refused + self.not_asked


Progress = Callable[[int, int], None]
"""Told ``(files settled, files listed)`` as the run goes."""


async def publish_running_funders(
    guichet: GuichetClient, progress: Progress | None = None
) -> FundersPublished:
    """Ask every running file that does not publish its funders to publish them, a few at a
    time; stop asking, once the requests under way are answered, when a worker of an earlier
    release refuses or no worker answers."""
    ids: list[str] = []
    token: bytes | None = None
    while True:  # listed first: the files leave the listing as they publish
        rows, token = await guichet.page(UNTOLD, LISTING_PAGE, token)
        ids += [row.application_id for row in rows]
        if token is None:
            break
    done = FundersPublished(listed=len(ids))
    if progress is not None and ids:
        progress(0, len(ids))
    gate = asyncio.Semaphore(AT_ONCE)

    async def ask(application_id: str) -> None:
        async with gate:
            if done.stopped:
                done.not_asked += 1
            else:
                await _ask(guichet, application_id, done)
            if progress is not None:
                progress(done.settled, len(ids))

    await asyncio.gather(*(ask(application_id) for application_id in ids))
    return done


async def _ask(guichet: GuichetClient, application_id: str, done: FundersPublished) -> None:
    """Ask one file and count its answer in ``done``; what stops the run is said there."""
    try:
        published = await asyncio.wait_for(guichet.publish_funders(application_id), FILE_PATIENCE)
    except (ApplicationEnded, ApplicationNotFound):
        done.ended += 1
    except OlderWorker as older:
        done.refused += 1
        done.stopped = done.stopped or str(older)
    except NoWorker as missing:
        done.unanswered += 1
        done.stopped = done.stopped or (
            f"no worker polls task queue {missing.task_queue!r}: start one of this release "
            "(`guichet worker`)"
        )
    except TimeoutError:
        done.unanswered += 1
        done.stopped = done.stopped or (
            f"no worker answered for {application_id} within {FILE_PATIENCE:g} s on task "
            f"queue {guichet.task_queue!r}: start one of this release (`guichet worker`)"
        )
    except GuichetError as error:
        done.not_asked += 1
        done.stopped = done.stopped or str(error)
    else:
        if published:
            done.published += 1
        else:
            done.already += 1


class ProgressLines:
    """Without a terminal (a Job's log): one line each tenth of the files, and at the end."""

    def __init__(self) -> None:
        self._said = -1

    def __call__(self, settled: int, listed: int) -> None:
        if not listed:
            return
        tenth = settled * 10 // listed
        if tenth > self._said:
            self._said = tenth
            say(f"asked {settled:,} / {listed:,} files ({settled * 100 // listed}%)")


@app.command(rich_help_panel="Run")
@friendly
def publish_funders(json_output: JsonOption = False) -> None:
    """After the upgrade to the release where files publish their plan's funders: have the
    files already running publish them too.

    Until then a co-financer's listings read each such file's events to tell whose it is,
    and where one of them matches, its queue gives no total nor brings forward the files due
    soon, and its export stops at 500 files. Run it once every worker runs
    the new release and going back to the earlier one is ruled out: a file that publishes its
    funders this way cannot be run by a worker of the earlier release any more (as any file
    submitted since the upgrade). A worker of the earlier release refuses the request, without
    a trace in the file; the run then stops, as when no worker answers within a minute, and
    says how many files are left. Safe to repeat: it asks only the files that still do not
    publish them; guichet status counts those left. Exit code 0 when every file was asked and
    answered, 1 otherwise.

    Example: guichet publish-funders
    """
    progress: Progress = ProgressBar("asking", "files") if sys.stderr.isatty() else ProgressLines()
    done = run_with_client(
        lambda guichet: publish_running_funders(guichet, progress), timeout=RUN_LIMIT
    )
    if json_output:
        emit_json({**asdict(done), "ok": not done.stopped and not done.unanswered})
    else:
        for line in report(done):
            typer.echo(line)
    if done.stopped or done.unanswered:
        raise typer.Exit(1)


RUN_LIMIT = 24 * 3600.0
"""Seconds the whole run may take: each file's answer has its own limit (``FILE_PATIENCE``),
and the run stops at the first silence; this only bounds a run that keeps being answered."""


def report(done: FundersPublished) -> list[str]:
    """What a person reads at the end of a run."""
    if not done.listed:
        return ["every running file publishes its funders already"]
    lines = [
        f"{done.published} of {done.listed} running file(s) now publish their funders; "
        f"{done.already} did already; {done.ended} closed meanwhile."
    ]
    if done.unanswered:
        lines.append(
            f"{done.unanswered} file(s) asked got no answer: it may still be applied when a "
            "worker of this release takes the file; `guichet status` counts the files left."
        )
    if done.refused:
        lines.append(
            f"{done.refused} file(s) refused by a worker of the earlier release: nothing "
            "reached them."
        )
    if done.stopped:
        lines.append(f"Stopped: {done.stopped}.")
        left = f"{done.not_asked} file(s) not asked; " if done.not_asked else ""
        lines.append(
            f"{left}run `guichet publish-funders` again once that is fixed (it asks only the "
            "files that still do not publish them)."
        )
    return lines
