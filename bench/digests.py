"""The daily digests over N files in instruction: what one morning's run costs.

The schedule's activity (``activities.digest.collect_digests``) lists the files through
Temporal visibility, once for both digests, and builds one notice per caseworker; for the
co-financers it folds the events of the listed files in instruction, read from the log 500
files at a time.

Set up, not measured: N files (default 2,000) brought in instruction by ``domain.decide``
in-process (submitted, assigned, declared complete, then none, one or two of the three
co-financers' decisions: 3, 2 or 1 lines awaiting one), their events appended to a fresh
PostgreSQL schema; and for each file an execution of Guichet's workflow type started on the
embedded dev server with the search attributes that file publishes
(``workflows.search.published``), on a task queue no worker polls. Visibility so lists what it
would list for the real files, without running thousands of workflows.

Measured ``--rounds`` times in turn (medians reported), after one warm-up of each:

* the whole activity, both digests, in an activity context (``ActivityEnvironment``), against
  the caseworkers' digest alone (the same activity without the log): the baseline of the run;
* the co-financers' digest part by part: a visibility listing of the files in instruction
  alone (its own listing until 2026-12-07; the activity now shares the caseworkers'), the log
  reads (``read_streams_of``), the states (parsing and folding each file's events into its
  awaited decisions), the notices;
* a plain asyncpg SELECT of the same rows in the same batches: the baseline of the log reads.

    .venv/bin/python -m bench.digests --files 2000
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from itertools import islice

from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.testing import ActivityEnvironment

from activities.digest import (
    STATES_READ_AT_ONCE,
    DigestActivities,
    DigestNotices,
    DigestRequest,
)
from bench.common import (
    PG_URL,
    arguments,
    bounded,
    cpu_seconds,
    dsn,
    hard_exit,
    header,
    result,
    rss_mb,
    scratch_schema,
    until,
)
from bench.replay import WRITERS, analyze, fields_of, load, reset_peak_rss
from bench.scenario import START, in_process_events
from bench.stopping import run_until_stopped
from bench.temporal_env import dev_server, quiet_logs
from domain.catalogue import load_catalogue
from domain.decider import fold
from domain.digest_cofinancers import awaited_decisions, build_cofinancer_digests
from domain.events import Event, parse_event
from domain.programme import Catalogue
from domain.registry import CommuneRegistry, load_registry
from domain.state import Application
from eventlog import EventLog
from eventlog.reading import DATA_COLUMNS
from workflows import search
from workflows.client import GuichetClient
from workflows.grant_application import GrantApplicationWorkflow
from workflows.visibility import DECIDABLE_QUERY, RUNNING

MAX_FILES = 100_000
"""Files one run may start on the dev server (each is a workflow execution in its SQLite)."""
AT = START + timedelta(days=60)
"""The digest's morning: every file untreated for more than a week, in the caseworker's."""
FUNDERS = 3
"""Co-financers' lines on the scenario's plan (DETR, region, department)."""
IN_INSTRUCTION = 3
"""Batches that bring a file in instruction: submitted, assigned, declared complete."""


def in_instruction(
    index: int, registry: CommuneRegistry, catalogue: Catalogue, insee: str
) -> list[Event]:
    """File ``index``'s events up to instruction, then ``index % 3`` funding decisions."""
    batches = in_process_events(index, registry, catalogue, insee)
    return [e for batch in islice(batches, IN_INSTRUCTION + index % FUNDERS) for e in batch]


def awaited_query() -> str:
    """The files a co-financer may decide now, listed alone."""
    return f"{RUNNING} AND {DECIDABLE_QUERY}"


async def open_executions(client: Client, states: list[Application]) -> None:
    """An execution of Guichet's workflow type per file, publishing what the file publishes,
    on a task queue no worker polls: visibility rows, no workflow run."""
    task_queue = f"bench-digests-unpolled-{uuid.uuid4().hex[:8]}"

    async def start(i: int) -> None:
        state = states[i]
        published = search.published(state, deadlines=True, hourly=True, funders=True)
        pairs = [SearchAttributePair(key, value) for key, value in published if value is not None]
        await client.start_workflow(
            GrantApplicationWorkflow.__name__,
            id=state.application_id,
            task_queue=task_queue,
            search_attributes=TypedSearchAttributes(pairs),
        )

    await bounded(len(states), start)


async def set_up(log: EventLog, guichet: GuichetClient, files: int) -> int:
    """The files' events in the log and their executions in visibility; the lines awaited."""
    registry, catalogue = load_registry(), load_catalogue()
    communes = [c.insee for c in registry.pvd_communes()]
    started = time.perf_counter()
    events = [
        in_instruction(i, registry, catalogue, communes[i % len(communes)]) for i in range(files)
    ]
    states = [fold(file_events) for file_events in events]
    streams = [(s.application_id, fields_of(e)) for s, e in zip(states, events, strict=True)]
    total = sum(len(e) for e in events)
    print(
        f"generated {files} files in instruction, {total} events by domain.decide "
        f"in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    rate = await load(log, streams)
    print(f"appended with {WRITERS} writers, one batch per file: {rate:.0f} ev/s", flush=True)
    started = time.perf_counter()
    await open_executions(guichet.temporal, states)
    await until(lambda: _all_listed(guichet, files))
    print(
        f"started {files} executions with their search attributes, all listed, in "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )
    return sum(FUNDERS - i % FUNDERS for i in range(files))


async def _all_listed(guichet: GuichetClient, files: int) -> bool:
    return await guichet.count(awaited_query()) >= files


async def run_activity(activities: DigestActivities) -> tuple[float, DigestNotices]:
    """Seconds of one run of the schedule's activity, and what it returned."""
    started = time.perf_counter()
    notices = await ActivityEnvironment().run(activities.collect_digests, DigestRequest(at=AT))
    return time.perf_counter() - started, notices


@dataclass(frozen=True)
class Parts:
    """Seconds of each part of the co-financers' digest, and the lines it found awaited."""

    listing: float
    reads: float
    states: float
    notices: float
    awaited: int

    @property
    def total(self) -> float:
        return self.listing + self.reads + self.states + self.notices


async def cofinancer_parts(guichet: GuichetClient, log: EventLog) -> Parts:
    """The co-financers' digest as the activity does it, each part timed on its own."""
    clock = time.perf_counter
    started = clock()
    rows = await guichet.list(awaited_query(), limit=None)
    ids = [row.application_id for row in rows]
    listing, reads, states = clock() - started, 0.0, 0.0
    awaited = []
    for start in range(0, len(ids), STATES_READ_AT_ONCE):
        started = clock()
        streams = await log.read_streams_of(ids[start : start + STATES_READ_AT_ONCE])
        read = clock()
        for events in streams.values():
            awaited += awaited_decisions([parse_event(event.data) for event in events])
        reads, states = reads + read - started, states + clock() - read
    started = clock()
    build_cofinancer_digests(awaited, now=AT)
    return Parts(listing, reads, states, clock() - started, len(awaited))


async def plain_reads(schema: str, ids: list[str]) -> tuple[int, float]:
    """The baseline: the same rows in the same batches through one asyncpg connection."""
    import asyncpg

    conn = await asyncpg.connect(dsn(), server_settings={"search_path": schema})
    query = (
        f"SELECT {', '.join(DATA_COLUMNS)} FROM eventlog_events "
        "WHERE stream_id = ANY($1::text[]) ORDER BY stream_id, version"
    )
    try:
        started = time.perf_counter()
        rows = 0
        for start in range(0, len(ids), STATES_READ_AT_ONCE):
            rows += len(await conn.fetch(query, ids[start : start + STATES_READ_AT_ONCE]))
        return rows, time.perf_counter() - started
    finally:
        await conn.close()


@dataclass
class Rounds:
    """Every round's figures, each list in round order."""

    caseworkers: list[float]
    both: list[float]
    parts: list[Parts]
    plain: list[float]
    peak_mb: float = 0.0
    cpu: dict[str, float] | None = None


async def measure(
    rounds: int, guichet: GuichetClient, log: EventLog, schema: str, expected: int
) -> Rounds:
    """Warm up once, then ``rounds`` rounds of the four measures in turn."""
    caseworkers = DigestActivities(guichet)
    both = DigestActivities(guichet, log=log)
    ids = [row.application_id for row in await guichet.list(awaited_query(), limit=None)]
    await run_activity(caseworkers)
    await run_activity(both)
    await plain_reads(schema, ids)
    figures = Rounds([], [], [], [])
    for turn in range(1, rounds + 1):
        seconds, notices = await run_activity(caseworkers)
        assert notices.files == len(ids), (notices.files, len(ids))  # every file is stale
        figures.caseworkers.append(seconds)
        reset_peak_rss()
        before, cpu_before = rss_mb()[0], cpu_seconds()
        seconds, notices = await run_activity(both)
        cpu_after = cpu_seconds()
        figures.peak_mb = max(figures.peak_mb, rss_mb()[1])
        figures.cpu = figures.cpu or {k: cpu_after[k] - cpu_before[k] for k in cpu_after}
        assert notices.awaited == expected, (notices.awaited, expected)
        figures.both.append(seconds)
        parts = await cofinancer_parts(guichet, log)
        assert parts.awaited == expected, (parts.awaited, expected)
        figures.parts.append(parts)
        rows, plain = await plain_reads(schema, ids)
        figures.plain.append(plain)
        print(
            f"round {turn}: caseworkers' digest {figures.caseworkers[-1]:.3f} s, both digests "
            f"{seconds:.3f} s (peak RSS {rss_mb()[1]:.0f} MB, {before:.0f} before); "
            f"co-financers' parts {_split(parts)}; plain SELECT of the {rows} rows {plain:.3f} s",
            flush=True,
        )
    return figures


def _split(parts: Parts) -> str:
    shares = [
        ("listing", parts.listing),
        ("log reads", parts.reads),
        ("states", parts.states),
        ("notices", parts.notices),
    ]
    return ", ".join(f"{name} {s:.3f} s ({s / parts.total:.0%})" for name, s in shares)


def median_parts(parts: list[Parts]) -> Parts:
    """Each part's median over the rounds."""

    def of(pick: Callable[[Parts], float]) -> float:
        return statistics.median(pick(p) for p in parts)

    return Parts(
        of(lambda p: p.listing),
        of(lambda p: p.reads),
        of(lambda p: p.states),
        of(lambda p: p.notices),
        parts[0].awaited,
    )


def report(files: int, expected: int, figures: Rounds) -> None:
    caseworkers = statistics.median(figures.caseworkers)
    both = statistics.median(figures.both)
    parts = median_parts(figures.parts)
    plain = statistics.median(figures.plain)
    cpu = figures.cpu or {}
    print(
        f"medians over {len(figures.both)} rounds, {files} files in instruction, "
        f"{expected} lines awaited:\n"
        f"  both digests (the schedule's activity): {both:.3f} s, {files / both:.0f} files/s, "
        f"peak RSS {figures.peak_mb:.0f} MB\n"
        f"  caseworkers' digest alone: {caseworkers:.3f} s\n"
        f"  co-financers' digest by parts: {_split(parts)}; {parts.total:.3f} s in all\n"
        f"  plain SELECT of the same rows: {plain:.3f} s\n"
        f"  CPU of one run of both digests: "
        + ", ".join(f"{part} {seconds:.2f} s" for part, seconds in cpu.items())
        + f"; {sum(cpu.values()) / files * 1e3:.2f} ms a file in all",
        flush=True,
    )
    result(
        "digests.daily_run",
        caseworkers,
        both,
        "s",
        note=f"the schedule's activity over {files} files in instruction, both digests against "
        f"the caseworkers' alone; {files / both:.0f} files/s, peak RSS {figures.peak_mb:.0f} MB; "
        "latency: lower is better",
    )
    result(
        "digests.log_reads",
        files / plain,
        files / parts.reads,
        "files/s",
        note="the co-financers' digest's reads of the log against a plain asyncpg SELECT "
        "of the same rows, in the same batches",
    )
    result(
        "digests.cofinancer_states",
        files / plain,
        files / (parts.reads + parts.states),
        "files/s",
        note="reads and folding into awaited decisions, against the same plain SELECT",
    )


async def main(args: argparse.Namespace) -> None:
    header("the daily digests over files in instruction", args)
    quiet_logs()
    async with dev_server() as env, scratch_schema("bench_digests") as schema:
        log = EventLog.from_url(PG_URL, search_path=schema, pool_size=WRITERS)
        await log.migrate()
        try:
            guichet = GuichetClient(env.client)
            expected = await set_up(log, guichet, args.files)
            await analyze(schema)
            figures = await measure(args.rounds, guichet, log, schema, expected)
        finally:
            await log.close()
    report(args.files, expected, figures)


def cli() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--files", type=int, default=2000, help="files in instruction")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each measure (median)")
    args = parser.parse_args()
    if not 1 <= args.files <= MAX_FILES:
        parser.error(f"--files must be between 1 and {MAX_FILES:,}")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    hard_exit(run_until_stopped(main(args)))


if __name__ == "__main__":
    cli()
