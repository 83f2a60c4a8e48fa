"""``guichet audit replay-history``: Temporal histories replayed on the current workflow code,
from Temporal or from a file."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from temporalio.service import RPCError, RPCStatusCode

from audit.replaying import (
    NOTHING_TO_REPLAY,
    ReplayOutcome,
    fetch_history,
    history_from_json,
    history_problem,
    open_workflow_ids,
    replay_history,
)
from console.app import JsonOption, emit_json, friendly
from console.auditing import LONG_TIMEOUT, audit_app
from console.connection import run_with_client
from console.errors import EXIT_REFUSED, usage_error
from workflows.client import GuichetClient


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
