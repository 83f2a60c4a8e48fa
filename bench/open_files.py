"""Many open files: N submitted applications waiting on their deadlines, and what the worker's
memory does as N grows; then 1,000 applications time-skipped through six years of deadlines.

Part 1 (dev server): the worker runs in its own process; after each fifth of the files is
submitted (and its submission recorded) we read the worker's resident memory from /proc, then
query every file once (evicted files replay into the sticky cache). Baseline in the same run: a
bare workflow that runs the same start activities and waits on one long timer. Temporal's
sticky cache keeps at most ``max_cached_workflows`` files in memory (``--cache``); the others
cost the worker nothing until their next task.

Part 2 (time-skipping server): ``--skip-files`` files (every fourth one driven to "awarded"),
then six years skipped; we count the deadline timers fired and where the files ended, against
the same number of bare files sleeping six years on as many timers each (no work between).

    .venv/bin/python -m bench.open_files --files 2000 --skip-files 200
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from bench.bare import BareStart, BareWorkflow, noop
from bench.common import (
    PG_URL,
    binary,
    hard_exit,
    header,
    result,
    rss_mb,
    scratch_schema,
    until,
)
from bench.scenario import STEPS, submission
from bench.temporal_env import dev_server, quiet_logs
from domain.catalogue import load_catalogue
from domain.registry import load_registry
from eventlog import EventLog
from worker import build_worker
from workflows.client import GuichetClient

SIX_YEARS = timedelta(days=6 * 365 + 2)
AWARDED_AT = next(i for i, s in enumerate(STEPS) if s.name == "notify") + 1
CONCURRENCY = 32


def communes() -> list[str]:
    return [c.insee for c in load_registry().pvd_communes()]


async def bounded(count: int, one: Callable[[int], Awaitable[object]]) -> list[object]:
    """Run ``one(i)`` for every i with at most CONCURRENCY in flight."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def run(i: int) -> object:
        async with gate:
            return await one(i)

    return await asyncio.gather(*(run(i) for i in range(count)))


# -- the worker process ------------------------------------------------------------------------


async def serve(args: argparse.Namespace) -> None:
    """Child process: one worker (Guichet or bare) until SIGTERM."""
    quiet_logs()
    client = await Client.connect(args.address, data_converter=pydantic_data_converter)
    options = {"max_cached_workflows": args.cache}
    log = None
    if args.kind == "guichet":
        log = EventLog.from_url(PG_URL, search_path=args.schema)
        worker = build_worker(
            client,
            task_queue=args.task_queue,
            log=log,
            registry=load_registry(),
            catalogue=load_catalogue(),
            **options,
        )
    else:
        worker = Worker(
            client,
            task_queue=args.task_queue,
            workflows=[BareWorkflow],
            activities=[noop],
            **options,  # type: ignore[arg-type]
        )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with worker:
        print("ready", flush=True)
        await stop.wait()
    if log is not None:
        await log.close()


# -- part 1: memory against open files --------------------------------------------------------


async def open_files(
    kind: str, client: Client, address: str, schema: str, args: argparse.Namespace
) -> list[tuple[int, float, float]]:
    """Open ``args.files`` files on a worker process; (files, RSS, peak RSS) at checkpoints."""
    task_queue = f"bench-{kind}-{uuid.uuid4().hex[:6]}"
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.open_files", "--serve", kind, "--address", address,
        "--task-queue", task_queue, "--cache", str(args.cache), "--schema", schema,
        stdout=subprocess.PIPE,
    )  # fmt: skip
    assert child.stdout is not None
    if (await child.stdout.readline()).strip() != b"ready":
        raise SystemExit(f"the {kind} worker did not start")
    guichet = GuichetClient(client, task_queue=task_queue)
    insees = communes()
    ids: list[str] = []

    async def open_one(i: int) -> None:
        if kind == "guichet":
            app_id, _ = await guichet.submit(submission(insees[i % len(insees)]))
        else:
            app_id = f"bare-{uuid.uuid4().hex}"
            await client.start_workflow(
                BareWorkflow.run, BareStart(start_activities=3, wait_days=90),
                id=app_id, task_queue=task_queue,
            )  # fmt: skip
        ids.append(app_id)

    async def settled(app_id: str) -> None:
        """Wait until the file has no task or activity left: it waits on its deadline."""
        handle = client.get_workflow_handle(app_id)
        await until(lambda: _idle(handle))

    async def touch(app_id: str) -> None:
        """One query: a file evicted from the sticky cache is replayed into it."""
        if kind == "guichet":
            await guichet.state(app_id)
        else:
            await client.get_workflow_handle(app_id).query(BareWorkflow.pending)

    samples = [(0, *rss_mb(child.pid))]
    try:
        step = max(1, args.files // 5)
        started = time.perf_counter()
        for opened in range(step, args.files + 1, step):
            await bounded(step, open_one)
            await settled(ids[-1])
            await asyncio.sleep(1)  # let the tail of the queue drain
            samples.append((opened, *rss_mb(child.pid)))
            print(
                f"{kind}: {opened} files open, worker RSS {samples[-1][1]:.0f} MB "
                f"(peak {samples[-1][2]:.0f} MB), {time.perf_counter() - started:.0f} s",
                flush=True,
            )
        await bounded(len(ids), lambda i: settled(ids[i]))
        await bounded(len(ids), lambda i: touch(ids[i]))
        samples.append((-len(ids), *rss_mb(child.pid)))
        print(
            f"{kind}: every file queried once, worker RSS {samples[-1][1]:.0f} MB "
            f"(peak {samples[-1][2]:.0f} MB)",
            flush=True,
        )
    finally:
        child.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(child.wait(), 60)
        except TimeoutError:
            child.kill()
    return samples


# -- part 2: six years, time-skipped ----------------------------------------------------------


async def skip_six_years(env: WorkflowEnvironment) -> None:
    """Six years a month at a time: one long ``sleep`` call would outlast its RPC timeout."""
    month = SIX_YEARS / 73
    for _ in range(73):
        await env.sleep(month)


async def register_search_attributes(client: Client) -> None:
    from tests.workflow.conftest import register_search_attributes as register

    await register(client)


async def six_years(schema: str, files: int) -> tuple[float, float, str]:
    """(bare seconds, guichet seconds, what happened) for ``files`` files over six years."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=binary("temporal-test-server"),
    )
    try:
        await register_search_attributes(env.client)
        guichet_s, timers, summary = await _skip_guichet(env, schema, files)
        bare_s = await _skip_bare(env, files, max(1, round(timers)))
    finally:
        await env.shutdown()
    return bare_s, guichet_s, summary


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
) -> tuple[float, float, str]:
    log = EventLog.from_url(PG_URL, search_path=schema)
    await log.migrate()
    task_queue = f"bench-guichet-{uuid.uuid4().hex[:6]}"
    guichet = GuichetClient(env.client, task_queue=task_queue)
    insees = communes()
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
        if i % 4 == 0:  # a quarter awarded: the start-of-works deadline runs
            for step in STEPS[:AWARDED_AT]:
                await guichet.act(app_id, step.command(insee, datetime.now(UTC)))
        return app_id

    try:
        async with worker:
            ids = [str(x) for x in await bounded(files, open_one)]
            before = collections.Counter([(await guichet.state(a)).status for a in ids])
            started = time.perf_counter()
            await skip_six_years(env)
            after_states = await bounded(len(ids), lambda i: guichet.state(ids[i]))
            elapsed = time.perf_counter() - started
            after = collections.Counter(s.status for s in after_states)  # type: ignore[attr-defined]
            timers = await _timers_fired(env.client, ids[: min(20, len(ids))])
    finally:
        await log.close()
    summary = (
        f"statuses before {dict(before)}, after six years {dict(after)}; "
        f"timers fired per file (sample of {min(20, len(ids))}): {timers:.1f}"
    )
    return elapsed, timers, summary


async def _idle(handle: WorkflowHandle[Any, Any]) -> bool:
    """No workflow task and no activity pending (read from the server, not the worker)."""
    raw = (await handle.describe()).raw_description
    return len(raw.pending_activities) == 0 and not raw.HasField("pending_workflow_task")


async def _submitted(guichet: GuichetClient, app_id: str) -> bool:
    return (await guichet.state(app_id)).status != "draft"


async def _timers_fired(client: Client, ids: list[str]) -> float:
    counts = []
    for app_id in ids:
        history = await client.get_workflow_handle(app_id).fetch_history()
        counts.append(sum(1 for e in history.events if e.HasField("timer_fired_event_attributes")))
    return statistics.fmean(counts) if counts else 0.0


# -- the report --------------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> None:
    header("many open files: worker memory, and six time-skipped years", args)
    quiet_logs()
    async with scratch_schema("bench_open") as schema:
        log = EventLog.from_url(PG_URL, search_path=schema)
        await log.migrate()
        await log.close()
        if args.files:
            async with dev_server() as env:
                address = env.client.service_client.config.target_host
                bare = await open_files("bare", env.client, address, schema, args)
                ours = await open_files("guichet", env.client, address, schema, args)
            bare_peak, ours_peak = max(s[2] for s in bare), max(s[2] for s in ours)
            # Growth between the first and the last checkpoint: ~0 once the cache is full.
            (first, first_rss, _), (last, last_rss, _) = ours[1], ours[-2]
            per_file = (last_rss - first_rss) / max(1, last - first) * 1024
            result(
                "open_files.worker_peak_rss",
                bare_peak,
                ours_peak,
                "MB",
                note=f"{args.files} open files, cache {args.cache}; lower is better; "
                f"guichet grows {per_file:+.0f} KB per open file from {first} to {last} files",
            )
        if args.skip_files:
            bare_s, ours_s, summary = await six_years(schema, args.skip_files)
            print(f"six years, {args.skip_files} files: {summary}", flush=True)
            result(
                "open_files.six_years_time_skipped",
                args.skip_files / bare_s,
                args.skip_files / ours_s,
                "files/s",
                note=f"bare {bare_s:.1f} s, guichet {ours_s:.1f} s of wall time for six years",
            )


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000, help="open files on the dev server")
    parser.add_argument("--cache", type=int, default=1000, help="max_cached_workflows")
    parser.add_argument("--skip-files", type=int, default=1000, help="files over six years")
    parser.add_argument("--serve", choices=["guichet", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--address", help=argparse.SUPPRESS)
    parser.add_argument("--task-queue", help=argparse.SUPPRESS)
    parser.add_argument("--schema", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        args.kind = args.serve
        asyncio.run(serve(args))
    else:
        del args.serve, args.address, args.task_queue, args.schema
        asyncio.run(main(args))
    hard_exit(0)


if __name__ == "__main__":
    cli()
