"""Part 2 of ``bench.open_files``: files time-skipped through six years of deadlines.

``--skip-files`` files on the time-skipping server (every fourth one driven to "awarded", the
others left "submitted"), then six years skipped; we count the deadline timers fired and where
the files ended, against as many bare files sleeping six years on as many timers each, and
check that every reminder was sent once (``bench.reminder_check``).
"""

from __future__ import annotations

import collections
import statistics
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from temporalio.api.testservice.v1 import SleepRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from bench.bare import BareStart, BareWorkflow, noop
from bench.common import PG_URL, binary, bounded, until
from bench.reminder_check import ReminderCheck, check_reminders
from bench.scenario import STEPS, pvd_insees, submission
from bench.stopping import started
from domain.catalogue import load_catalogue
from domain.registry import load_registry
from eventlog import EventLog
from worker import build_worker
from workflows.client import GuichetClient

SIX_YEARS = timedelta(days=6 * 365 + 2)
AWARDED_AT = next(i for i, s in enumerate(STEPS) if s.name == "notify") + 1
SKIP_TIMEOUT = timedelta(hours=2)
"""Deadline of one skipped month's ``sleep`` call (``env.sleep`` leaves the client's 30 s)."""


async def skip_six_years(env: WorkflowEnvironment) -> tuple[float, int]:
    """Six years a month at a time; (wall seconds, number) of the slowest month.

    The test server moves its clock past a timer only when no task is in flight, so a
    ``sleep`` call returns once the workers have done everything due in that month. Files
    opened in the same few minutes fall due together: at 200 files one month's reminders took
    36 s, past the 30 s that sdk-core gives any call without a timeout (``env.sleep`` passes
    none). The call then failed with "Timeout expired" or, when the test server's copy of the
    deadline fired first and it reset the stream, "h2 protocol error: http2 error". Hence our
    own call with a deadline sized for the slowest month at 1,000 files and more.
    """
    month = SIX_YEARS / 73
    slowest = (0.0, 0)
    for number in range(1, 74):
        request = SleepRequest()
        request.duration.FromTimedelta(month)
        started = time.perf_counter()
        await env.client.test_service.unlock_time_skipping_with_sleep(request, timeout=SKIP_TIMEOUT)
        slowest = max(slowest, (time.perf_counter() - started, number))
    return slowest


async def register_search_attributes(client: Client) -> None:
    from tests.workflow.conftest import register_search_attributes as register

    await register(client)


@dataclass(frozen=True)
class SixYears:
    """What the six years did: wall times, where the files ended, every reminder once."""

    bare_s: float
    guichet_s: float
    summary: str
    reminders: ReminderCheck


async def six_years(schema: str, files: int) -> SixYears:
    """Bare and Guichet files over six years, and the reminder check of the Guichet files."""
    env = await started(
        WorkflowEnvironment.start_time_skipping(
            data_converter=pydantic_data_converter,
            test_server_existing_path=binary("temporal-test-server"),
        )
    )
    try:
        await register_search_attributes(env.client)
        guichet_s, timers, summary, reminders = await _skip_guichet(env, schema, files)
        bare_s = await _skip_bare(env, files, max(1, round(timers)))
    finally:
        await env.shutdown()
    return SixYears(bare_s, guichet_s, summary, reminders)


async def _skip_bare(env: WorkflowEnvironment, files: int, timers: int) -> float:
    task_queue = f"bench-bare-{uuid.uuid4().hex[:6]}"
    async with Worker(
        env.client, task_queue=task_queue, workflows=[BareWorkflow], activities=[noop]
    ):
        handles = await bounded(
            files,
            lambda _i: env.client.start_workflow(
                BareWorkflow.run,
                BareStart(start_activities=3, wait_days=SIX_YEARS.days, timers=timers),
                id=f"bare-{uuid.uuid4().hex}",
                task_queue=task_queue,
            ),
        )
        started = time.perf_counter()
        await skip_six_years(env)
        for handle in handles:  # one at a time: each result() unlocks time skipping
            await handle.result()  # type: ignore[attr-defined]
        return time.perf_counter() - started


async def _skip_guichet(
    env: WorkflowEnvironment, schema: str, files: int
) -> tuple[float, float, str, ReminderCheck]:
    log = EventLog.from_url(PG_URL, search_path=schema)
    await log.migrate()
    task_queue = f"bench-guichet-{uuid.uuid4().hex[:6]}"
    guichet = GuichetClient(env.client, task_queue=task_queue)
    insees = pvd_insees()
    worker = build_worker(
        env.client,
        task_queue=task_queue,
        log=log,
        registry=load_registry(),
        catalogue=load_catalogue(),
    )

    async def open_one(i: int) -> str:
        insee = insees[i % len(insees)]
        app_id, _ = await guichet.submit(submission(insee))
        await until(lambda: _submitted(guichet, app_id))
        if i % 4 == 0:  # a quarter awarded (ids[::4]): the start-of-works deadline runs
            for step in STEPS[:AWARDED_AT]:
                await guichet.act(app_id, step.command(insee, datetime.now(UTC)))
        return app_id

    try:
        async with worker:
            ids = [str(x) for x in await bounded(files, open_one)]
            before = collections.Counter([(await guichet.state(a)).status for a in ids])
            started = time.perf_counter()
            slowest_s, slowest_month = await skip_six_years(env)
            after_states = await bounded(len(ids), lambda i: guichet.state(ids[i]))
            elapsed = time.perf_counter() - started
            after = collections.Counter(s.status for s in after_states)  # type: ignore[attr-defined]
            timers = await _timers_fired(env.client, ids[: min(20, len(ids))])
        submitted = [a for i, a in enumerate(ids) if i % 4]
        reminders = await check_reminders(log, awarded=ids[::4], submitted=submitted)
    finally:
        await log.close()
    summary = (
        f"statuses before {dict(before)}, after six years {dict(after)}; "
        f"timers fired per file (sample of {min(20, len(ids))}): {timers:.1f}; "
        f"slowest skipped month: month {slowest_month}, {slowest_s:.1f} s"
    )
    return elapsed, timers, summary, reminders


async def _submitted(guichet: GuichetClient, app_id: str) -> bool:
    return (await guichet.state(app_id)).status != "draft"


async def _timers_fired(client: Client, ids: list[str]) -> float:
    counts = []
    for app_id in ids:
        history = await client.get_workflow_handle(app_id).fetch_history()
        counts.append(sum(1 for e in history.events if e.HasField("timer_fired_event_attributes")))
    return statistics.fmean(counts) if counts else 0.0
