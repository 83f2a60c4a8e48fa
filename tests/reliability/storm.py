"""One reliability run: N files driven concurrently while faults are injected on a seeded plan.

Faults are placed by progress (the fraction of all lifecycle steps done), not by the clock, so
they fall in the middle of the run on a fast or a slow machine; a seeded jitter picks the
exact moment. Faults run one after another; each waits for recovery before the next.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import sqlalchemy as sa
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from domain.registry import load_registry
from domain.state import Application
from eventlog import EventLog
from tests.reliability.checks import Losses, Totals, check_everything
from tests.reliability.faults import DevServer, TcpProxy, WorkerProcess, poll_until
from tests.reliability.lifecycles import STEPS_PER_FILE, Progress, lifecycle
from workflows.client import GuichetClient
from workflows.messages import DEFAULT_TASK_QUEUE

FaultKind = Literal["worker_killed", "temporal_restarted", "postgres_unreachable"]
OUTAGE_SECONDS = 10.0
STALL_LIMIT = 420.0
"""Seconds without any step done before the run is declared stuck: longer than an activity
abandoned by a killed worker waits for its retry (2 min) plus the backoff after an outage."""
REPORT_EVERY = 60.0


@dataclass
class Fault:
    kind: FaultKind
    at_progress: float
    """Planned: inject once this fraction of all steps is done."""
    jitter: float
    injected_at: str = ""
    seconds_into_run: float = 0.0
    progress_when_injected: float = 0.0
    detail: str = ""
    recovered_after_s: float = 0.0


def plan_faults(seed: int, kills: int = 5) -> list[Fault]:
    """``kills`` worker kills at random progress, a server restart and a database outage."""
    rng = random.Random(seed)
    faults = [
        Fault("worker_killed", rng.uniform(0.03, 0.9), rng.uniform(0, 3)) for _ in range(kills)
    ]
    faults.append(Fault("temporal_restarted", rng.uniform(0.35, 0.5), rng.uniform(0, 3)))
    faults.append(Fault("postgres_unreachable", rng.uniform(0.55, 0.7), rng.uniform(0, 3)))
    return sorted(faults, key=lambda f: f.at_progress)


@dataclass
class Report:
    seed: int
    files: int
    started_at: str = ""
    seconds: float = 0.0
    faults: list[Fault] = field(default_factory=list)
    losses: Losses = field(default_factory=Losses)
    totals: Totals = field(default_factory=Totals)
    caller_retries: int = 0
    caller_errors: dict[str, int] = field(default_factory=dict)
    worker_incarnations: int = 0
    postgres_connections_refused: int = 0
    postgres_connections_dropped: int = 0
    notes: list[str] = field(default_factory=list)

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2, default=str) + "\n")


@dataclass
class Rig:
    """The processes a run breaks, and the direct (unproxied) view of the log."""

    server: DevServer
    worker: WorkerProcess
    proxy: TcpProxy
    log: EventLog


async def run_storm(rig: Rig, files: int, seed: int) -> Report:
    """Drive ``files`` lifecycles through every planned fault, then check everything."""
    report = Report(seed=seed, files=files, faults=plan_faults(seed))
    client = await Client.connect(rig.server.address, data_converter=pydantic_data_converter)
    guichet = GuichetClient(client, task_queue=DEFAULT_TASK_QUEUE)
    communes = [c.insee for c in load_registry().pvd_communes()]
    progress = Progress(total=files * STEPS_PER_FILE)
    run_id = f"{seed}-{int(time.time())}"
    started = time.monotonic()
    report.started_at = datetime.now(UTC).isoformat(timespec="seconds")
    drive = asyncio.gather(
        *(
            lifecycle(guichet, rig.log, progress, run_id, i, communes[i % len(communes)])
            for i in range(files)
        )
    )
    chaos = asyncio.ensure_future(_inject(rig, report.faults, progress, started))
    watch = asyncio.ensure_future(_watch(rig, client, progress, started))
    try:
        # A fault that cannot be recovered from (a worker that does not start again) or a run
        # that stops moving ends at once, with its reason, instead of leaving the files to time
        # out with nothing said.
        await asyncio.wait([drive, chaos, watch], return_when=asyncio.FIRST_EXCEPTION)
        for task in (chaos, watch):
            if task.done() and (failure := task.exception()) is not None:
                raise failure
        finals: list[Application] = await drive
        await chaos  # every fault was injected and recovered from
    finally:
        for task in (watch, chaos, drive):
            task.cancel()
    report.seconds = round(time.monotonic() - started, 1)
    report.caller_retries, report.caller_errors = progress.retries, progress.errors
    report.worker_incarnations = rig.worker.starts
    report.postgres_connections_refused = rig.proxy.refused
    report.postgres_connections_dropped = rig.proxy.dropped
    by_id = {final.application_id: final for final in finals}
    report.losses, report.totals, report.notes = await check_everything(rig.log, by_id)
    return report


async def _watch(rig: Rig, client: Client, progress: Progress, started: float) -> None:
    """Print progress every minute; fail with a stall report when nothing moves for long.
    Returns once every step is done."""
    moved = reported = time.monotonic()
    while progress.done < progress.total:
        next_look = min(moved + STALL_LIMIT, reported + REPORT_EVERY)
        try:
            await asyncio.wait_for(progress.moved.wait(), max(next_look - time.monotonic(), 0))
        except TimeoutError:
            pass
        else:
            progress.moved.clear()  # no await since the wait: no step can be missed
            moved = time.monotonic()
        now = time.monotonic()
        if now - reported >= REPORT_EVERY:
            reported = now
            print(
                f"progress {progress.fraction:.1%} at {now - started:.0f} s: "
                f"{len(progress.waiting_on)} files open, {progress.retries} caller retries",
                flush=True,
            )
        if now - moved >= STALL_LIMIT:
            raise AssertionError(await stall_report(rig, client, progress, now - moved))


async def stall_report(rig: Rig, client: Client, progress: Progress, idle: float) -> str:
    """What the stuck files wait for, what their workflows are doing, and the worker's log."""
    waits = Counter(progress.waiting_on.values())
    lines = [
        f"no step done for {idle:.0f} s at {progress.fraction:.1%}; "
        f"the worker is {'alive' if rig.worker.alive() else 'dead'}",
        "open files by what their caller waits for: "
        + ", ".join(f"{what} ×{n}" for what, n in waits.most_common()),
    ]
    for app_id in list(progress.waiting_on)[:3]:
        lines.append(f"{app_id} ({progress.waiting_on[app_id]}):")
        try:
            raw = (await client.get_workflow_handle(app_id).describe()).raw_description
        except Exception as error:  # a report must not hide the stall behind its own failure
            lines.append(f"  describe failed: {error!r}")
            continue
        task = raw.pending_workflow_task
        if task.attempt > 1:
            lines.append(
                f"  workflow task: attempt {task.attempt}, {await _task_failure(client, app_id)}"
            )
        lines.extend(
            f"  activity {a.activity_type.name}: state {a.state}, attempt {a.attempt}, "
            f"last failure: {a.last_failure.message or '-'}"
            for a in raw.pending_activities
        )
        if not raw.pending_activities:
            lines.append("  no pending activity")
    lines.append("PostgreSQL sessions on the log's database (state, wait, query):")
    try:
        lines.extend(f"  {row}" for row in await _database_sessions(rig.log))
    except Exception as error:  # as above: report, do not replace the stall
        lines.append(f"  pg_stat_activity failed: {error!r}")
    log_tail = rig.worker.log_path.read_text(errors="replace").splitlines()[-30:]
    lines.append(f"last lines of {rig.worker.log_path.name}:")
    lines.extend(f"  {line[:300]}" for line in log_tail)
    return "\n".join(lines)


async def _task_failure(client: Client, app_id: str) -> str:
    """The last workflow task failure of a file (a non-determinism error says so here)."""
    failure = "no failure recorded"
    async for event in client.get_workflow_handle(app_id).fetch_history_events():
        if event.HasField("workflow_task_failed_event_attributes"):
            failure = event.workflow_task_failed_event_attributes.failure.message
    return failure


async def _database_sessions(log: EventLog) -> list[str]:
    """Who holds or waits for what: a hung append shows here as a lock wait or an idle
    transaction."""
    query = sa.text(
        "SELECT state, wait_event_type, wait_event, now() - state_change, left(query, 120) "
        "FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() ORDER BY state_change"
    )
    async with log.engine.connect() as conn:
        return [" | ".join(map(str, row)) for row in await conn.execute(query)]


async def _inject(rig: Rig, faults: list[Fault], progress: Progress, started: float) -> None:
    try:
        await _inject_each(rig, faults, progress, started)
    except BaseException as error:
        print(f"fault injection failed: {error!r}", flush=True)
        raise


async def _inject_each(rig: Rig, faults: list[Fault], progress: Progress, started: float) -> None:
    for fault in faults:
        await poll_until(
            lambda f=fault: progress.fraction >= f.at_progress,  # type: ignore[misc]
            3600,
            f"progress {fault.at_progress:.2f}",
        )
        await asyncio.sleep(fault.jitter)  # the seeded random moment after the mark
        fault.injected_at = datetime.now(UTC).isoformat(timespec="milliseconds")
        fault.seconds_into_run = round(time.monotonic() - started, 1)
        fault.progress_when_injected = round(progress.fraction, 3)
        began = time.monotonic()
        fault.detail = await _break(rig, fault.kind)
        fault.recovered_after_s = round(time.monotonic() - began, 1)
        print(f"fault {fault.kind} at {fault.seconds_into_run} s: {fault.detail}", flush=True)


async def _break(rig: Rig, kind: FaultKind) -> str:
    if kind == "worker_killed":
        pid = await rig.worker.kill()
        await rig.worker.start()
        return f"SIGKILL to worker pid {pid}; incarnation {rig.worker.starts} started"
    if kind == "temporal_restarted":
        await rig.server.stop()
        await rig.server.start()
        alive = rig.worker.alive()
        if not alive:  # a worker that cannot survive a server restart is a finding
            await rig.worker.start()
        return f"dev server stopped and started on {rig.server.address}; worker survived: {alive}"
    rig.proxy.block()
    await asyncio.sleep(OUTAGE_SECONDS)  # the outage itself: how long PostgreSQL is gone
    rig.proxy.restore()
    return (
        f"PostgreSQL unreachable for {OUTAGE_SECONDS:g} s "
        f"({rig.proxy.dropped} connections dropped, {rig.proxy.refused} refused)"
    )
