"""``guichet status``: what an operator checks first when files do not move. Is Temporal
reachable, does its namespace have Guichet's search attributes, does a worker run on the task
queue, do the schedules exist, does the checkpoint schedule's last run fail, is the event log
at this code's schema revision, when was its head last signed, do notices wait, or were they
only written to a worker's log? One line each, and exit code 1 when something must be fixed
(the checkpoints' line only informs).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import typer
from temporalio.client import (
    ScheduleActionExecutionStartWorkflow,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
)
from temporalio.service import RPCError, RPCStatusCode

from activities.outbox import LOGGED_RECENTLY, STALE_AFTER, LoggedOnly, logged_only, undelivered
from audit.scheduling import SCHEDULE_ID as CHECKPOINT_SCHEDULE_ID
from console.app import JsonOption, app, emit_json, friendly
from console.auditing_keys import describe_every
from console.connection import Target, open_client, resolve_target
from console.errors import CliError
from console.upgrading import CLOSED_UNTOLD, UNTOLD
from eventlog import EventLog, EventLogError
from eventlog.checkpoints import latest_stored
from eventlog.documents import DocumentStore
from eventlog.edge import describe, no_tables_advice
from eventlog.migrating import is_known, latest_revision
from workflows import search, worker_presence
from workflows.client import GuichetClient
from workflows.digest_schedule import DIGEST_SCHEDULE_ID
from workflows.namespace_check import search_attribute_problems
from workflows.redelivery_schedule import REDELIVERY_SCHEDULE_ID

CHECK_TIMEOUT = 10.0
"""Seconds each check may take: a stalled server is a finding, not a hang."""


@dataclass(frozen=True)
class Check:
    """One line of the report: what was checked, whether it is fine, and what was found."""

    name: str
    ok: bool
    detail: str


@app.command(rich_help_panel="Run")
@friendly
def status(json_output: JsonOption = False) -> None:
    """Is everything a file needs there? Temporal, search attributes, workers, schedules, log
    (with its checkpoints, undelivered notices and documents kept).

    Reads the same settings as the other commands (TEMPORAL_ADDRESS, GUICHET_TASK_QUEUE,
    GUICHET_DATABASE_URL, or a running `guichet dev`). Changes nothing. Exit code 0 when every
    check is fine, 1 when one needs fixing (the line says how).

    Notices the workers only wrote to their log (no GUICHET_SMTP_HOST) reached nobody: a
    problem, except on the log of a running `guichet dev`, which writes them there on purpose.

    Example: guichet status
    """
    target = resolve_target()
    checks = asyncio.run(_checks(target))
    if json_output:
        emit_json({"ok": all(c.ok for c in checks), "checks": [asdict(c) for c in checks]})
    else:
        width = max(len(c.name) for c in checks)
        for check in checks:
            verdict = "ok" if check.ok else "PROBLEM"
            typer.echo(f"{check.name:<{width}}  {verdict:<7}  {check.detail}")
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


async def _checks(target: Target) -> list[Check]:
    temporal, log = await asyncio.gather(_temporal_checks(target), _log_checks(target))
    return [*temporal, *log]


async def _temporal_checks(target: Target) -> list[Check]:
    where = f"{target.temporal_address}, namespace {target.namespace}"
    try:
        guichet = await open_client(target)
    except CliError as unreachable:
        return [Check("temporal", False, unreachable.message)]
    return [
        Check("temporal", True, f"reachable at {where}"),
        await _bounded("search attributes", lambda: _search_attributes(guichet)),
        await _bounded("workers", lambda: _workers(guichet)),
        await _bounded("schedules", lambda: _schedules(guichet)),
        await _bounded("checkpoint schedule", lambda: checkpoint_schedule(guichet)),
    ]


async def _log_checks(target: Target) -> list[Check]:
    try:
        url = sa.make_url(target.event_log_url)
        log = EventLog.from_url(target.event_log_url)
    except (EventLogError, sa.exc.ArgumentError) as error:
        return [Check("event log", False, str(error))]
    if (missing := await asyncio.to_thread(_missing_sqlite_file, url)) is not None:
        # Looked at, not opened: opening would create an empty database (or fail on a
        # missing folder) where the operator asked only for a status.
        await log.close()
        advice = (
            "set GUICHET_DATABASE_URL to the log, or GUICHET_STATE_DIR to the --state-dir of "
            "the `guichet dev` that wrote it (a new log: `guichet migrate` creates one)"
        )
        return [Check("event log", False, f"no event log at {missing}: {advice}")]
    try:
        where = describe(url)
        revision = await _bounded("event log", lambda: _log(log, where))
        if not revision.ok:
            return [revision]
        return [
            revision,
            await _bounded("append-only", lambda: _guards(log)),
            await _bounded("checkpoints", lambda: _checkpoints(log)),
            await _bounded("notices", lambda: _notices(log, dev=target.dev)),
            await _bounded("documents", lambda: _documents(log)),
        ]
    finally:
        await log.close()


def _missing_sqlite_file(url: sa.URL) -> str | None:
    """The path of a SQLite log that is not there; None for one that is, or for PostgreSQL."""
    if url.get_backend_name() != "sqlite" or Path(str(url.database)).is_file():
        return None
    return str(url.database)


async def _bounded(name: str, check: Callable[[], Awaitable[Check]]) -> Check:
    """The check's finding, or why it could not be made."""
    try:
        return await asyncio.wait_for(check(), CHECK_TIMEOUT)
    except TimeoutError:
        return Check(name, False, f"no answer within {CHECK_TIMEOUT:g} s")
    except RPCError as error:
        return Check(name, False, f"Temporal refused the request: {error.message}")
    except (EventLogError, sa.exc.DBAPIError, OSError) as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        return Check(name, False, f"could not be read: {reason}")


async def _search_attributes(guichet: GuichetClient) -> Check:
    name, namespace = "search attributes", guichet.temporal.namespace
    problems = await search_attribute_problems(guichet.temporal)
    if problems is None:
        return Check(name, True, f"not checked: this client may not list those of {namespace!r}")
    if problems:
        return Check(
            name,
            False,
            f"{'; '.join(problems)} in namespace {namespace!r}: no file can move; register "
            "them with `temporal operator search-attribute create` (deploy/README.md)",
        )
    registered = f"Guichet's {len(search.ALL_KEYS)} registered in {namespace!r}"
    if untold := await guichet.count(UNTOLD):
        registered += (
            f"; {untold} running file(s) submitted before this release do not publish their "
            "funders (where one matches, a co-financer's queue gives no total and its export "
            "stops at 500): once every worker runs this release, `guichet publish-funders`"
        )
    if closed := await guichet.count(CLOSED_UNTOLD):
        registered += (
            f"; {closed} closed file(s) do not publish their funders, and nothing can ask a "
            "closed file to (the same effect on co-financers' listings, until Temporal's "
            "retention removes them)"
        )
    return Check(name, True, registered)


async def _workers(guichet: GuichetClient) -> Check:
    queue = guichet.task_queue
    seen = await guichet.workers()
    now = datetime.now(UTC)
    live = [w for w in seen if now - w.last_poll <= worker_presence.LIVE_POLL]
    if live:
        names = ", ".join(f"{w.identity} (polled {_ago(now - w.last_poll)})" for w in live)
        return Check("workers", True, f"{len(live)} on task queue {queue!r}: {names}")
    last = (
        f"the last, {seen[0].identity}, polled {_ago(now - seen[0].last_poll)}"
        if seen
        else "none seen in the last five minutes, or since the server started"
    )
    return Check(
        "workers",
        False,
        f"none running on task queue {queue!r} ({last}): no file can move; start one with "
        "`guichet worker`",
    )


_PURPOSES = {
    DIGEST_SCHEDULE_ID: " (the caseworkers' and the co-financers' daily digests)",
    REDELIVERY_SCHEDULE_ID: "",
}
"""What a schedule does, where its name does not say it: without the digest, neither the
caseworkers nor the co-financers hear each morning what waits for them."""


async def _schedules(guichet: GuichetClient) -> Check:
    states = []
    missing = []
    for schedule_id in (DIGEST_SCHEDULE_ID, REDELIVERY_SCHEDULE_ID):
        try:
            described = await guichet.temporal.get_schedule_handle(schedule_id).describe()
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            missing.append(schedule_id)
            continue
        paused = described.schedule.state.paused
        states.append(f"{schedule_id} {'paused' if paused else 'active'}{_PURPOSES[schedule_id]}")
    if missing:
        return Check(
            "schedules",
            False,
            f"{', '.join(missing)} missing: create with `guichet schedules`"
            + (
                " (no daily digest goes to caseworkers or co-financers)"
                if DIGEST_SCHEDULE_ID in missing
                else ""
            )
            + (f" ({', '.join(states)})" if states else ""),
        )
    return Check("schedules", True, ", ".join(states))


async def checkpoint_schedule(guichet: GuichetClient) -> Check:
    """Optional, so fine when absent; a problem when its last run failed (without the
    workers' signing key, every run fails and the log's head is no longer signed)."""
    name = "checkpoint schedule"
    try:
        described = await guichet.temporal.get_schedule_handle(CHECKPOINT_SCHEDULE_ID).describe()
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise
        return Check(name, True, "none: `guichet audit schedule-checkpoints` signs at an interval")
    intervals = described.schedule.spec.intervals
    every = f"every {describe_every(intervals[0].every)}" if intervals else "on its calendar"
    state = "paused" if described.schedule.state.paused else "active"
    started = [
        result.action
        for result in described.info.recent_actions
        if isinstance(result.action, ScheduleActionExecutionStartWorkflow)
    ]
    if not started:
        return Check(name, True, f"{state}, {every}, no run yet")
    run = guichet.temporal.get_workflow_handle(
        started[-1].workflow_id, run_id=started[-1].first_execution_run_id
    )
    status = (await run.describe()).status
    if status in (WorkflowExecutionStatus.FAILED, WorkflowExecutionStatus.TIMED_OUT):
        return Check(
            name,
            False,
            f"{state}, {every}; its last run failed, so the log's head is not being signed: "
            f"{await _why(run)}",
        )
    shown = status.name.lower().replace("_", " ") if status else "unknown"
    return Check(name, True, f"{state}, {every}, its last run {shown}")


async def _why(run: WorkflowHandle[Any, Any]) -> str:
    """The innermost message of a failed run (the activity's own sentence)."""
    try:
        await run.result()
    except WorkflowFailureError as failed:
        cause: BaseException = failed
        while cause.__cause__ is not None:
            cause = cause.__cause__
        return str(getattr(cause, "message", None) or cause)
    return "no failure recorded"


async def _log(log: EventLog, where: str) -> Check:
    current, latest = await log.revision(), latest_revision()
    if current is None:
        return Check(
            "event log", False, f"no tables in {where}: {no_tables_advice(log.engine.url)}"
        )
    if current != latest and not is_known(current):
        return Check(
            "event log",
            False,
            f"{where} is at schema revision {current}, newer than this Guichet's {latest}: a "
            "later release migrated it; run that release (`guichet migrate` cannot go back)",
        )
    if current != latest:
        return Check(
            "event log",
            False,
            f"{where} is at schema revision {current}, this Guichet needs {latest}: run "
            "`guichet migrate`",
        )
    position, _ = await log.head()
    last = ""
    async with contextlib.aclosing(log.read_all(position, batch_size=1)) as records:
        async for record in records:
            last = f", the last recorded {record.recorded_at:%Y-%m-%d %H:%M:%S} UTC"
            break
    return Check(
        "event log", True, f"{where}, schema revision {current}, {position:,} events{last}"
    )


async def _guards(log: EventLog) -> Check:
    """Whether the database still refuses to change or remove a row of the log."""
    if missing := await log.missing_guards():
        return Check(
            "append-only",
            False,
            f"trigger(s) {', '.join(missing)} dropped or disabled: the database no longer "
            "refuses changes to the log. Find who removed them, run `guichet audit verify "
            "--checkpoints FILE`, and recreate them as migrations 0001, 0003 and 0008 do",
        )
    return Check("append-only", True, "the triggers refusing changes and removals are in place")


async def _checkpoints(log: EventLog) -> Check:
    """Informative: whether the log's head is being signed (what auditors keep outside)."""
    last = await latest_stored(log)
    if last is None:
        return Check(
            "checkpoints",
            True,
            "none signed yet: `guichet audit checkpoint`, or `guichet audit "
            "schedule-checkpoints` to sign the log's head regularly",
        )
    position, _ = await log.head()
    return Check(
        "checkpoints",
        True,
        f"the last, of position {last.position:,}, signed {last.signed_at:%Y-%m-%d %H:%M:%S} UTC "
        f"by key {last.key_id} ({position - last.position:,} events appended since)",
    )


async def _documents(log: EventLog) -> Check:
    """Informative: the documents' bytes live in the log's database, and its backups."""
    count, size = await DocumentStore(log.engine).totals()
    if not count:
        return Check("documents", True, "none attached yet")
    weight = f"{size / 1_000_000:,.1f} MB" if size >= 1_000_000 else f"{-(-size // 1_000)} kB"
    return Check("documents", True, f"{count:,} kept, {weight} (back them up with the log)")


NOTICES_LATE = 2 * STALE_AFTER
"""A notice still waiting this long was tried by its own delivery and by a sweep at least,
and failed: the mail is not getting through (a server down, a setting wrong)."""


async def _notices(log: EventLog, *, dev: bool) -> Check:
    """Whether notices reach people: none refused, none waiting too long, and none of the
    last day only written to a worker's log (no SMTP host), but in ``guichet dev``."""
    backlog = await _backlog(log)
    since = datetime.now(UTC) - LOGGED_RECENTLY
    logged = await logged_only(log.engine, since, limit=1)
    if not logged.count:
        return backlog or Check("notices", True, "every notice delivered")
    told = _logged(logged, dev=dev)
    if backlog is None:
        return told
    return Check("notices", told.ok and backlog.ok, f"{told.detail}; {backlog.detail}")


def _logged(logged: LoggedOnly, *, dev: bool) -> Check:
    """Notices only logged: what `guichet dev` does by design; anywhere else, mail reaching
    nobody while the rows say delivered (a ConfigMap's empty GUICHET_SMTP_HOST)."""
    noun = "notice" if logged.count == 1 else "notices"
    said = (
        f"{logged.count} {noun} of the last day written to the worker's log, not mailed: no "
        "SMTP host (GUICHET_SMTP_HOST)"
    )
    if dev:
        return Check("notices", True, f"{said}, as in `guichet dev`: `guichet notices` shows them")
    assert logged.last_at is not None  # counted, so the latest was read
    last = f"{logged.last_at:%Y-%m-%d %H:%M} UTC"
    return Check(
        "notices",
        False,
        f"{said}, so nobody received them (the last at {last}): set GUICHET_SMTP_HOST and "
        'GUICHET_SMTP_FROM for the workers and restart them (deploy/README.md, "Notices"); '
        "`guichet notices` lists them",
    )


async def _backlog(log: EventLog) -> Check | None:
    """The notices refused or waiting, None when none is."""
    backlog = await undelivered(log.engine, limit=1)
    if backlog.refused:
        return Check(
            "notices",
            False,
            f"{backlog.refused} refused for good, {backlog.waiting} waiting: see `guichet "
            "notices`; once the directory is fixed (and the workers restarted), `guichet "
            "notices --retry-refused`",
        )
    oldest = next((n for n in backlog.notices if n.state == "waiting"), None)
    if oldest is not None and datetime.now(UTC) - oldest.queued_at > NOTICES_LATE:
        hours = (datetime.now(UTC) - oldest.queued_at).total_seconds() / 3600
        return Check(
            "notices",
            False,
            f"{backlog.waiting} waiting, the oldest queued {hours:.0f} h ago: mail is not "
            "getting through (`guichet notices` gives the last error: the SMTP settings?)",
        )
    if backlog.waiting:
        return Check("notices", True, f"{backlog.waiting} waiting (tried again on schedule)")
    return None


def _ago(elapsed: timedelta) -> str:
    seconds = int(elapsed.total_seconds())
    if seconds < 120:
        return f"{seconds} s ago"
    return f"{seconds // 60} min ago"
