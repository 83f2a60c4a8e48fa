"""Lifecycle throughput: N full grant lifecycles driven concurrently against the embedded dev
server, with the event log on PostgreSQL and on SQLite, against a bare workflow with the same
number of activities and updates doing no work (``bench.bare``), in the same run.

Each lifecycle: submission → eligibility → instruction → DETR, region and department
decisions → award → start → advance claimed, ordered and disbursed → completion → balance
claimed, ordered and disbursed → closed (``bench.scenario``). Every contender runs
``--rounds`` times, in turn, every other round in reverse order; each figure is the mean of
its rounds.

A second baseline, the *shaped* bare workflow, also does what Guichet asks of Temporal beyond
activities and updates (its search-attribute upserts, patch markers, deadline timers and
payload sizes, counted from a Guichet history of the same run), still with no work: its
ratio to the bare baseline is the cost of those features, Guichet's ratio to it the cost of
Guichet's own code (decide, the event log, notices, payments).

    .venv/bin/python -m bench.lifecycle --files 50

``--no-sandbox`` runs every contender's workflows outside the SDK's sandbox
(``UnsandboxedWorkflowRunner``), bare and Guichet alike: what the sandbox costs each. Guichet
itself always runs sandboxed.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from bench.bare import PLAIN, BareAct, BareResult, BareShape, BareStart, BareWorkflow, noop
from bench.common import (
    CPU_PARTS,
    PG_URL,
    arguments,
    cpu_seconds,
    hard_exit,
    header,
    idle,
    percentile,
    result,
    scratch_schema,
    summary_ms,
    until,
)
from bench.scenario import STEPS, submission
from bench.stopping import run_until_stopped
from bench.temporal_env import HistoryShape, dev_server, history_shape, quiet_logs
from domain.catalogue import load_catalogue
from domain.registry import load_registry
from eventlog import EventLog
from worker import build_worker
from workflows.client import GuichetClient
from workflows.grant_application import GrantApplicationWorkflow


@dataclass
class Run:
    """What one batch of concurrent lifecycles measured."""

    name: str
    files: int
    seconds: float = 0.0
    updates: list[float] = field(default_factory=list)
    shape: HistoryShape = field(default_factory=HistoryShape)
    sequential: bool = False
    """One lifecycle after another: update latency without queueing behind other files."""
    cpu: dict[str, float] = field(default_factory=dict)
    """CPU seconds per lifecycle used by each part (``bench.common.CPU_PARTS``)."""
    by_action: dict[str, list[float]] = field(default_factory=dict)
    """The same update latencies, by the scenario's step (``Step.name``)."""

    def timed(self, action: str, seconds: float) -> None:
        """One update's latency, overall and for its action."""
        self.updates.append(seconds)
        self.by_action.setdefault(action, []).append(seconds)

    @property
    def rate(self) -> float:
        return self.files / self.seconds

    def line(self) -> str:
        return (
            f"{self.name}: {self.files} lifecycles in {self.seconds:.1f} s = {self.rate:.2f}/s; "
            f"update latency {summary_ms(self.updates)}; per lifecycle {self.shape.describe()}; "
            "CPU per lifecycle: "
            + ", ".join(f"{part} {seconds:.3f} s" for part, seconds in self.cpu.items())
        )

    @property
    def cpu_total(self) -> float:
        """CPU seconds per lifecycle, every part together."""
        return sum(self.cpu.values())


async def guichet_lifecycle(guichet: GuichetClient, insee: str, run: Run) -> str:
    from datetime import UTC, datetime

    client = guichet.temporal
    sub = submission(insee)
    app_id, _ = await guichet.submit(sub)
    await until(lambda: idle(client, app_id))
    for step in STEPS:
        started = time.perf_counter()
        await guichet.act(app_id, step.command(insee, datetime.now(UTC)))
        run.timed(step.name, time.perf_counter() - started)
        if step.pays:
            await until(lambda: idle(client, app_id))
    handle = client.get_workflow_handle_for(GrantApplicationWorkflow.run, app_id)
    final = await handle.result()
    assert final.status == "closed", final.status
    assert [p.status for p in final.payments] == ["disbursed", "disbursed"], final.payments
    return app_id


def bare_plan(guichet_activities: int) -> tuple[int, list[int]]:
    """Start activities and background activities per update, to total Guichet's count."""
    start = 2  # look_up_eligibility and record_events of the submission
    background = [2 if step.pays else 0 for step in STEPS]  # disburse, record the outcome
    leftover = guichet_activities - start - len(STEPS) - sum(background)  # notices
    for i in range(max(0, leftover)):
        background[i % len(STEPS)] += 1
    return start, background


def shaped_like(guichet: HistoryShape, bare: HistoryShape) -> BareShape:
    """What the bare workflow must add to ask of Temporal what a Guichet lifecycle asks."""

    def padding(place: str) -> int:
        return max(0, guichet.payload_bytes.get(place, 0) - bare.payload_bytes.get(place, 0))

    return BareShape(
        upserts=guichet.upserts - guichet.markers,  # each patch marker comes with its upsert
        patches=guichet.markers,
        timers=guichet.timers,
        start_input_bytes=padding("start input"),
        activity_input_bytes=padding("activity input"),
        activity_result_bytes=padding("activity result"),
        update_input_bytes=padding("update input"),
        update_result_bytes=padding("update result"),
        result_bytes=padding("result"),
    )


async def bare_lifecycle(
    client: Client, task_queue: str, plan: tuple[int, list[int]], shape: BareShape, run: Run
) -> str:
    start, background = plan
    handle = await client.start_workflow(
        BareWorkflow.run,
        BareStart(start_activities=start, shape=shape, pad="s" * shape.start_input_bytes),
        id=f"bare-{uuid.uuid4().hex}", task_queue=task_queue,
    )  # fmt: skip

    await until(lambda: idle(client, handle.id))
    for step, extra in zip(STEPS, background, strict=True):
        last = step is STEPS[-1]
        started = time.perf_counter()
        request = BareAct(background=extra, final=last, pad="u" * shape.update_input_bytes)
        # By name: the SDK's typing of async update methods does not match their result.
        await handle.execute_update("act", request, result_type=BareResult)
        run.timed(step.name, time.perf_counter() - started)
        if step.pays and not last:
            await until(lambda: idle(client, handle.id))
    await handle.result()
    return handle.id


async def drive(
    run: Run, client: Client, worker: Worker, one: Callable[[int], Awaitable[str]]
) -> Run:
    async with worker:
        before, started = cpu_seconds(), time.perf_counter()
        if run.sequential:
            ids = [await one(i) for i in range(run.files)]
        else:
            ids = await asyncio.gather(*(one(i) for i in range(run.files)))
        run.seconds = time.perf_counter() - started
        after = cpu_seconds()
    run.cpu = {part: (after[part] - before[part]) / run.files for part in CPU_PARTS}
    history = await client.get_workflow_handle(ids[0]).fetch_history()
    run.shape = history_shape(history)
    print(run.line(), flush=True)
    return run


def runner(sandboxed: bool) -> dict[str, Any]:
    """The worker option that runs workflows outside the sandbox, when asked."""
    return {} if sandboxed else {"workflow_runner": UnsandboxedWorkflowRunner()}


async def guichet_run(
    name: str,
    client: Client,
    log: EventLog,
    files: int,
    *,
    sequential: bool = False,
    sandboxed: bool = True,
) -> Run:
    await log.migrate()
    task_queue = f"bench-{uuid.uuid4().hex[:8]}"
    guichet = GuichetClient(client, task_queue=task_queue)
    registry, catalogue = load_registry(), load_catalogue()
    communes = [c.insee for c in registry.pvd_communes()]
    worker = build_worker(
        client, task_queue=task_queue, log=log, registry=registry, catalogue=catalogue,
        **runner(sandboxed),
    )  # fmt: skip
    run = Run(name, files, sequential=sequential)
    try:
        return await drive(
            run, client, worker,
            lambda i: guichet_lifecycle(guichet, communes[i % len(communes)], run),
        )  # fmt: skip
    finally:
        await log.close()


async def bare_run(
    name: str,
    client: Client,
    files: int,
    guichet_activities: int,
    *,
    shape: BareShape = PLAIN,
    sequential: bool = False,
    sandboxed: bool = True,
) -> Run:
    task_queue = f"bench-{uuid.uuid4().hex[:8]}"
    worker = Worker(
        client, task_queue=task_queue, workflows=[BareWorkflow], activities=[noop],
        **runner(sandboxed),
    )  # fmt: skip
    run = Run(name, files, sequential=sequential)
    plan = bare_plan(guichet_activities)
    return await drive(
        run, client, worker, lambda _i: bare_lifecycle(client, task_queue, plan, shape, run)
    )


async def main(args: argparse.Namespace) -> None:
    header("lifecycle throughput on the embedded Temporal dev server", args)
    quiet_logs()
    sandboxed = not args.no_sandbox
    async with dev_server() as env, scratch_schema("bench_lifecycle") as schema:
        client = env.client
        # Warm-up (not reported): imports, sandbox, prepared statements; and Guichet's shape.
        warm = await guichet_run(
            "warm-up guichet", client, EventLog.from_url(PG_URL, search_path=schema), 2,
            sandboxed=sandboxed,
        )  # fmt: skip
        guichet_activities = warm.shape.activities
        warm_bare = await bare_run(
            "warm-up bare", client, 2, guichet_activities, sandboxed=sandboxed
        )
        shape = shaped_like(warm.shape, warm_bare.shape)
        alone = args.latency_files
        bare_alone = await bare_run(
            "bare, one at a time", client, alone, guichet_activities, sequential=True,
            sandboxed=sandboxed,
        )  # fmt: skip
        pg_alone = await guichet_run(
            "guichet on PostgreSQL, one at a time", client,
            EventLog.from_url(PG_URL, search_path=schema), alone, sequential=True,
            sandboxed=sandboxed,
        )  # fmt: skip
        with tempfile.TemporaryDirectory(prefix="guichet-bench-") as folder:
            sqlite_url = f"sqlite+aiosqlite:///{Path(folder) / 'eventlog.sqlite3'}"
            contenders: dict[str, Callable[[str], Awaitable[Run]]] = {
                "bare": lambda name: bare_run(
                    name, client, args.files, guichet_activities, sandboxed=sandboxed
                ),
                "shaped bare": lambda name: bare_run(
                    name, client, args.files, guichet_activities, shape=shape, sandboxed=sandboxed
                ),
                "guichet, log on PostgreSQL": lambda name: guichet_run(
                    name,
                    client,
                    EventLog.from_url(PG_URL, search_path=schema),
                    args.files,
                    sandboxed=sandboxed,
                ),
                "guichet, log on SQLite": lambda name: guichet_run(
                    name, client, EventLog.from_url(sqlite_url), args.files, sandboxed=sandboxed
                ),
            }
            runs: dict[str, list[Run]] = {name: [] for name in contenders}
            for turn in range(args.rounds):
                # Every other round in reverse order: a drift of the machine over the run then
                # weighs on every contender alike.
                order = list(contenders) if turn % 2 == 0 else list(reversed(contenders))
                for name in order:
                    runs[name].append(await contenders[name](f"{name} (round {turn + 1})"))
    bare, shaped = runs["bare"], runs["shaped bare"]
    per_action(bare, runs["guichet, log on PostgreSQL"], f"{args.files} concurrent")
    result(
        "lifecycle.shaped_bare.throughput", mean_rate(bare), mean_rate(shaped), "lifecycles/s",
        note="the bare workflow with Guichet's upserts, markers, timers and payload sizes",
    )  # fmt: skip
    bare_updates = [seconds for run in bare for seconds in run.updates]
    for label, log in (("postgresql", "PostgreSQL"), ("sqlite", "SQLite")):
        ours = runs[f"guichet, log on {log}"]
        result(f"lifecycle.{label}.throughput", mean_rate(bare), mean_rate(ours), "lifecycles/s")
        result(
            f"lifecycle.{label}.throughput_vs_shaped", mean_rate(shaped), mean_rate(ours),
            "lifecycles/s", note="against the shaped bare workflow: the cost of Guichet's own code",
        )  # fmt: skip
        our_updates = [seconds for run in ours for seconds in run.updates]
        latency(f"lifecycle.{label}", bare_updates, our_updates, f"{args.files} concurrent")
        result(
            f"lifecycle.{label}.cpu_per_lifecycle",
            statistics.fmean(run.cpu_total for run in bare),
            statistics.fmean(run.cpu_total for run in ours),
            "CPU s",
            note="this process, Temporal server and PostgreSQL together; lower is better",
        )
    latency("lifecycle.postgresql.alone", bare_alone.updates, pg_alone.updates, "one at a time")


def mean_rate(runs: list[Run]) -> float:
    """One contender's lifecycles per second: the mean of its rounds' rates."""
    return statistics.fmean(run.rate for run in runs)


def per_action(bare: list[Run], ours: list[Run], how: str) -> None:
    """Update latency for each caseworker action, bare against Guichet on PostgreSQL: which
    step is slow, not only how slow updates are overall."""
    print(f"update latency per action, ms ({how}; bare / guichet on PostgreSQL):")
    print(f"  {'action':<20} {'p50 bare':>9} {'p50 ours':>9} {'p99 bare':>9} {'p99 ours':>9}")
    for step in STEPS:
        theirs = [s for run in bare for s in run.by_action.get(step.name, [])]
        mine = [s for run in ours for s in run.by_action.get(step.name, [])]
        if theirs and mine:
            cells = [percentile(v, pct) * 1e3 for pct in (50, 99) for v in (theirs, mine)]
            print(f"  {step.name:<20} " + " ".join(f"{cell:9.0f}" for cell in cells))


def latency(name: str, bare: list[float], ours: list[float], how: str) -> None:
    for pct in (50, 99):
        result(
            f"{name}.update_p{pct}",
            percentile(bare, pct) * 1e3,
            percentile(ours, pct) * 1e3,
            "ms",
            note=f"{how}; latency: lower is better, ratio = guichet / bare",
        )


def cli() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--files", type=int, default=50, help="concurrent lifecycles per run")
    parser.add_argument("--latency-files", type=int, default=5, help="lifecycles run one at a time")
    parser.add_argument(
        "--rounds", type=int, default=2,
        help="runs of each contender, in turn, every other round in reverse order (default 2)",
    )  # fmt: skip
    parser.add_argument(
        "--no-sandbox", action="store_true",
        help="run every contender's workflows outside the SDK's sandbox (what it costs each)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    hard_exit(run_until_stopped(main(args)))


if __name__ == "__main__":
    cli()
