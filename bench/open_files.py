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
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from bench.bare import BareStart, BareWorkflow, noop
from bench.common import (
    PG_URL,
    arguments,
    bounded,
    hard_exit,
    header,
    idle,
    result,
    rss_mb,
    scratch_schema,
    until,
)
from bench.scenario import pvd_insees, submission
from bench.six_years import six_years
from bench.stopping import run_until_stopped
from bench.temporal_env import dev_server, quiet_logs
from console.stop_signal import STOP_SIGNALS
from domain.catalogue import load_catalogue
from domain.registry import load_registry
from eventlog import EventLog
from worker import build_worker
from workflows.client import GuichetClient

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
            **options,
        )
    stop = asyncio.Event()
    for signum in STOP_SIGNALS:  # Ctrl-C in the terminal reaches this child too
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
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
    guichet = GuichetClient(client, task_queue=task_queue)
    insees = pvd_insees()
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
        await until(lambda: idle(client, app_id))

    async def touch(app_id: str) -> None:
        """One query: a file evicted from the sticky cache is replayed into it."""
        if kind == "guichet":
            await guichet.state(app_id)
        else:
            await client.get_workflow_handle(app_id).query(BareWorkflow.pending)

    async with worker_process(kind, address, task_queue, schema, args) as child:
        samples = [(0, *rss_mb(child.pid))]
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
    return samples


@asynccontextmanager
async def worker_process(
    kind: str, address: str, task_queue: str, schema: str, args: argparse.Namespace
) -> AsyncIterator[asyncio.subprocess.Process]:
    """The ``kind`` worker in a process of its own, once it serves ``task_queue``; stopped
    however the block ends (a stop signal while it starts included): SIGTERM, then SIGKILL
    after 60 s."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.open_files", "--serve", kind, "--address", address,
        "--task-queue", task_queue, "--cache", str(args.cache), "--schema", schema,
        stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert child.stdout is not None
        if (await child.stdout.readline()).strip() != b"ready":
            raise SystemExit(f"the {kind} worker did not start")
        yield child
    finally:
        with suppress(ProcessLookupError):  # it stopped on the same Ctrl-C
            child.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(child.wait(), 60)
        except TimeoutError:
            child.kill()
            await child.wait()


# -- the report --------------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> int:
    """The report; 1 when a reminder is missing or duplicated (or an expiry or notice)."""
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
            years = await six_years(schema, args.skip_files)
            print(f"six years, {args.skip_files} files: {years.summary}", flush=True)
            result(
                "open_files.six_years_time_skipped",
                args.skip_files / years.bare_s,
                args.skip_files / years.guichet_s,
                "files/s",
                note=f"bare {years.bare_s:.1f} s, guichet {years.guichet_s:.1f} s of wall time "
                "for six years",
            )
            check = years.reminders
            print("\n".join(check.lines()), flush=True)
            result(
                "open_files.six_years_reminders_once",
                check.reminders.expected,
                check.reminders.expected - check.reminders.missing,
                "reminders",
                note=f"due by the rules vs sent at least once; {check.reminders.missing} missing, "
                f"{check.reminders.duplicated} duplicated, outbox {check.notices.missing} "
                f"missing, {check.notices.duplicated} duplicated",
            )
            if not check.ok:
                return 1
    return 0


def cli() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--files", type=int, default=10_000, help="open files on the dev server")
    parser.add_argument("--cache", type=int, default=1000, help="max_cached_workflows")
    parser.add_argument("--skip-files", type=int, default=1000, help="files over six years")
    parser.add_argument("--serve", choices=["guichet", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--address", help=argparse.SUPPRESS)
    parser.add_argument("--task-queue", help=argparse.SUPPRESS)
    parser.add_argument("--schema", help=argparse.SUPPRESS)
    args = parser.parse_args()
    code = 0
    if args.serve:
        args.kind = args.serve
        asyncio.run(serve(args))
    else:
        del args.serve, args.address, args.task_queue, args.schema
        code = run_until_stopped(main(args))
    hard_exit(code)


if __name__ == "__main__":
    cli()
