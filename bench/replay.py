"""Replay and verify: rebuild the state of every application from the log (the auditor's
portfolio, ``audit.portfolio``, one file at a time), then recompute the
whole hash chain, against a plain SELECT of the same rows in the same run; then verify from a
checkpoint at 90 % of the log (``guichet audit verify --from-checkpoint``'s chain part),
against a plain SELECT of the rows after it.

The events are real domain events: each application runs the full lifecycle of
``bench.scenario`` through ``domain.decide`` in-process (20 events each), appended one
application per batch by concurrent writers. ``--scale 1`` is 10,000 applications.

    .venv/bin/python -m bench.replay --scale 0.2

While iterating, ``--schema NAME`` generates the log once into that schema and keeps it;
later runs with the same name and scale skip generation and appends (drop it by hand with
``DROP SCHEMA NAME CASCADE``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import re
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, NamedTuple

from audit.checkpoint_checks import hashes_at
from audit.portfolio import states_as_of
from bench.common import PG_URL, arguments, dsn, hard_exit, header, result, rss_mb, scratch_schema
from bench.scenario import in_process_events, indexed_submission
from bench.stopping import run_until_stopped
from domain.catalogue import load_catalogue
from domain.events import Event
from domain.registry import load_registry
from eventlog import EventLog, NewEvent

FULL_SCALE = 10_000
WRITERS = 8


def reset_peak_rss() -> None:
    """Linux: writing 5 to clear_refs resets VmHWM, so each phase gets its own peak."""
    gc.collect()
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


Stream = tuple[str, list[dict[str, Any]]]
"""A stream id and its events' fields, ready for ``NewEvent``."""


def generate(applications: int) -> list[Stream]:
    """Each application's stream id and its events, by ``decide`` in-process."""
    registry, catalogue = load_registry(), load_catalogue()
    communes = [c.insee for c in registry.pvd_communes()]
    streams = []
    for index in range(applications):
        insee = communes[index % len(communes)]
        events = [
            e for batch in in_process_events(index, registry, catalogue, insee) for e in batch
        ]
        streams.append((indexed_submission(index, insee).application_id, fields_of(events)))
    return streams


def fields_of(events: list[Event]) -> list[dict[str, Any]]:
    """Each event's fields for ``NewEvent``, as the workflow's activity records them."""
    return [
        {
            "event_id": uuid.uuid4(),
            "type": e.type,
            "data": e.model_dump(mode="json"),
            "occurred_at": e.at,
        }
        for e in events
    ]


async def load(log: EventLog, streams: list[Stream]) -> float:
    """Append every stream (one batch each) with concurrent writers; events per second.

    Each batch becomes ``NewEvent``s only when its writer takes it: validated events keep
    their serialised form, and 200,000 of them held at once would leave the process a few
    hundred megabytes larger for the phases measured after."""
    queue = list(reversed(streams))

    async def writer() -> None:
        while queue:
            stream_id, events = queue.pop()
            await log.append(stream_id, 0, [NewEvent(**fields) for fields in events])

    started = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(WRITERS)))
    return sum(len(e) for _, e in streams) / (time.perf_counter() - started)


async def plain_select(schema: str, after: int = 0) -> tuple[int, float]:
    """The baseline: every row of the log after position ``after`` through one asyncpg
    cursor, nothing else."""
    import asyncpg

    conn = await asyncpg.connect(dsn(), server_settings={"search_path": schema})
    try:
        started = time.perf_counter()
        count = 0
        async with conn.transaction():
            query = "SELECT * FROM eventlog_events WHERE position > $1 ORDER BY position"
            async for _row in conn.cursor(query, after, prefetch=1000):
                count += 1
        return count, time.perf_counter() - started
    finally:
        await conn.close()


async def analyze(schema: str) -> None:
    """Give the planner the log's statistics, as autovacuum would within a minute of the load
    (it is off on the benchmark machines): without them the plain read sorts the table."""
    import asyncpg

    conn = await asyncpg.connect(dsn(), server_settings={"search_path": schema})
    try:
        await conn.execute("ANALYZE eventlog_events")
    finally:
        await conn.close()


async def rebuild(log: EventLog) -> tuple[int, float, Counter[str]]:
    """The auditor's portfolio: every file's state from the log (``audit.portfolio``), one
    file at a time; the events folded, the time, and the files per status."""
    statuses: Counter[str] = Counter()
    started = time.perf_counter()
    count = 0
    async for state in states_as_of(log):
        statuses[state.status] += 1
        count += state.version  # the number of events folded into it
    return count, time.perf_counter() - started, statuses


async def fill(log: EventLog, applications: int) -> int:
    """Generate the applications' events and append them; the number of events."""
    started = time.perf_counter()
    streams = generate(applications)
    total = sum(len(e) for _, e in streams)
    print(
        f"generated {applications} applications, {total} events by domain.decide "
        f"in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    rate = await load(log, streams)
    print(f"appended with {WRITERS} writers, one batch per application: {rate:.0f} ev/s")
    return total


async def reused(log: EventLog, schema: str, applications: int) -> int | None:
    """The number of events of a log kept by an earlier ``--schema`` run, None when empty."""
    position, _ = await log.head()
    if position == 0:
        return None
    streams = len(await log.stream_ids())
    if streams != applications:
        raise SystemExit(
            f"schema {schema} holds {streams} applications, not {applications}: use the "
            f"scale it was made with, another name, or DROP SCHEMA {schema} CASCADE"
        )
    print(f"reusing schema {schema}: {applications} applications, {position} events", flush=True)
    return position


@contextlib.asynccontextmanager
async def kept_schema(name: str) -> AsyncIterator[str]:
    """The named schema, created if missing and left in place afterwards."""
    import asyncpg

    conn = await asyncpg.connect(dsn())
    try:
        await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{name}"')
    finally:
        await conn.close()
    yield name


async def main(args: argparse.Namespace) -> None:
    header("replay and verify on PostgreSQL", args)
    applications = max(1, round(FULL_SCALE * args.scale))
    place = kept_schema(args.schema) if args.schema else scratch_schema("bench_replay")
    async with place as schema:
        log = EventLog.from_url(PG_URL, search_path=schema, pool_size=WRITERS)
        await log.migrate()
        try:
            total = (await reused(log, schema, applications)) or await fill(log, applications)
            await analyze(schema)
            reset_peak_rss()
            # The read and verify are short and this machine's noise is not: each is timed
            # --repeat times and its best time is kept, the same treatment for both.
            reads = [await plain_select(schema) for _ in range(args.repeat)]
            rows, select_s = reads[0][0], min(seconds for _, seconds in reads)
            base_mb = rss_mb()[0]
            print(
                f"plain SELECT: {rows} rows in {select_s:.2f} s (best of "
                f"{', '.join(f'{s:.2f}' for _, s in reads)}), peak RSS {rss_mb()[1]:.0f} MB"
            )
            reset_peak_rss()
            count, replay_s, statuses = await rebuild(log)
            closed = statuses["closed"]
            replay_peak = rss_mb()[1]
            print(
                f"replay: {count} events into {statuses.total()} states ({closed} closed) in "
                f"{replay_s:.2f} s, peak RSS {replay_peak:.0f} MB "
                f"({replay_peak - base_mb:+.0f} MB over the process before it)"
            )
            assert count == rows == total and closed == applications
            reset_peak_rss()
            before = rss_mb()[0]
            verifications = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                report = await log.verify()
                verifications.append(time.perf_counter() - t0)
                assert report.ok and report.checked == total, report
            verify_s = min(verifications)
            verify_peak = rss_mb()[1]
            print(
                f"verify: {report.checked} events, chain ok, in {verify_s:.2f} s (best of "
                f"{', '.join(f'{s:.2f}' for s in verifications)}), "
                f"peak RSS {verify_peak:.0f} MB ({verify_peak - before:+.0f} MB)"
            )
            file_check_s = await file_checks(log)
            tail = await from_checkpoint(log, schema, args.repeat)
        finally:
            await log.close()
    select_rate = rows / select_s
    result("replay.rebuild_states", select_rate, count / replay_s, "events/s")
    result("replay.verify_chain", select_rate, total / verify_s, "events/s")
    result(
        "replay.rebuild_then_verify",
        select_rate,
        total / (replay_s + verify_s),
        "events/s",
        note=f"peak RSS {max(replay_peak, verify_peak):.0f} MB",
    )
    result(
        "replay.file_page_check",
        verify_s * 1e3,
        file_check_s * 1e3,
        "ms",
        note="the auditor's page of one file: its events checked in the chain, against the "
        "whole chain verified (what the page did before); latency: lower is better",
    )
    result(
        "replay.verify_from_checkpoint",
        tail.rows / tail.select_s,
        tail.rows / tail.verify_s,
        "events/s",
        note=f"the {tail.rows} events after a checkpoint at position {tail.after} (90 %) "
        f"re-read in {tail.verify_s:.3f} s, against a plain read of those rows; the whole "
        f"chain took {verify_s:.2f} s",
    )


class Tail(NamedTuple):
    """The verification from a checkpoint: where it started, the rows after it, the best
    time of the plain read of those rows and of their verification."""

    after: int
    rows: int
    select_s: float
    verify_s: float


async def from_checkpoint(log: EventLog, schema: str, repeat: int) -> Tail:
    """``EventLog.verify(after=...)`` from the row at 90 % of the log, as a daily
    ``guichet audit verify --from-checkpoint`` runs it after the last signed checkpoint,
    against a plain read of the same rows; each the best of ``repeat``."""
    head, _ = await log.head()
    after = head * 9 // 10
    start = (await hashes_at(log, [after]))[after]  # what the checkpoint there signed
    reads = [await plain_select(schema, after) for _ in range(repeat)]
    rows, select_s = reads[0][0], min(seconds for _, seconds in reads)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        report = await log.verify(after=(after, start))
        times.append(time.perf_counter() - t0)
        assert report.ok and report.checked == rows == head - after, report
    print(
        f"verify from a checkpoint at position {after}: {rows} events in {min(times):.3f} s "
        f"(best of {', '.join(f'{s:.3f}' for s in times)}); plain SELECT of those rows "
        f"{select_s:.3f} s",
        flush=True,
    )
    return Tail(after, rows, select_s, min(times))


FILE_CHECKS = 100


async def file_checks(log: EventLog) -> float:
    """Mean seconds of ``verify_stream`` over FILE_CHECKS files spread over the log."""
    ids = await log.stream_ids()
    chosen = ids[:: max(1, len(ids) // FILE_CHECKS)][:FILE_CHECKS]
    started = time.perf_counter()
    for stream_id in chosen:
        report = await log.verify_stream(stream_id)
        assert report.ok, report
    mean = (time.perf_counter() - started) / len(chosen)
    print(f"file checks: {len(chosen)} files, {mean * 1e3:.1f} ms each", flush=True)
    return mean


def schema_name(text: str) -> str:
    """A plain lowercase identifier, safe to splice into SQL."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", text):
        raise argparse.ArgumentTypeError(f"{text!r}: use lowercase letters, digits and _")
    return text


def cli() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help=f"1.0 = {FULL_SCALE} applications")
    parser.add_argument(
        "--schema",
        type=schema_name,
        default=None,
        help="keep the generated log in this PostgreSQL schema and reuse it on later runs "
        "with the same scale (default: a scratch schema, dropped at the end)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="times the plain read and the verify are each measured; the best counts "
        "(default 3; the rebuild runs once)",
    )
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    hard_exit(run_until_stopped(main(args)))


if __name__ == "__main__":
    cli()
