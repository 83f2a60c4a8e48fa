"""Event-log appends: events per second with 1 and 8 concurrent writers, batches of 1 and 5.

Guichet's ``EventLog.append`` on PostgreSQL (stream version check, gap-free global position,
SHA-256 chain, unique event id) against, in the same run and on the same server:

* plain asyncpg: one INSERT per row into a table with a bigserial key and nothing else (no
  lock, no chain, no version check), one transaction per batch;
* the ``eventsourcing`` library (9.5, ``PostgresApplicationRecorder``: its gap-free
  notification ids take a table lock), saving the same JSON as its stored state.

    .venv/bin/python -m bench.appends --events 2000

Each configuration runs every contender ``--rounds`` times, in turn, and compares their medians:
a run of 2,000 events with 8 writers lasts about a tenth of a second, and single runs of the
same code varied by a third.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from statistics import median

import sqlalchemy as sa

from bench.common import PG_URL, arguments, dsn, hard_exit, header, result, scratch_schema
from bench.scenario import in_process_events
from bench.stopping import run_until_stopped
from domain.catalogue import load_catalogue
from domain.registry import load_registry
from eventlog import EventLog, NewEvent

STREAM_LENGTH = 19
"""A stream per lifecycle: writers move to a new stream every 19 events, like real files."""

WRITERS = (1, 8)
BATCH_SIZES = (1, 5)
MIN_EVENTS = 2 * max(WRITERS) * max(BATCH_SIZES)
"""Two batches for every writer of every configuration: one to warm up, one to time."""

Writer = Callable[[list[list[dict[str, object]]]], Awaitable[None]]
"""Writes one writer's batches, in order."""


def sample_events() -> list[dict[str, object]]:
    """The 19 events of one lifecycle, as JSON-ready dicts with their type and time."""
    batches = in_process_events(0, load_registry(), load_catalogue(), "01033")
    return [
        {"type": e.type, "at": e.at, "data": e.model_dump(mode="json")}
        for batch in batches
        for e in batch
    ]


def plan_batches(total: int, writers: int, batch: int) -> list[list[list[dict[str, object]]]]:
    """For each writer, its batches; each event carries its stream, version and a fresh id.

    A writer fills one stream of ``STREAM_LENGTH`` events, then starts another; a batch never
    spans two streams.
    """
    samples = sample_events()
    plans = []
    for w in range(writers):
        remaining = total // writers
        batches: list[list[dict[str, object]]] = []
        while remaining > 0:
            stream = f"w{w}-{uuid.uuid4().hex[:12]}"
            length = min(STREAM_LENGTH, remaining)
            remaining -= length
            events = [
                {**samples[v], "stream": stream, "version": v + 1, "event_id": uuid.uuid4()}
                for v in range(length)
            ]
            batches.extend(events[i : i + batch] for i in range(0, length, batch))
        plans.append(batches)
    return plans


async def timed(plans: list[list[list[dict[str, object]]]], write: Writer) -> float:
    """Run every writer concurrently; events per second over the wall time.

    Each writer's first batch is written before the clock starts, for every contender alike:
    opening connections, preparing statements and compiling a server function happen once per
    process, not per append (Guichet's first append costs about 10 ms against 1 ms after).
    """
    await asyncio.gather(*(write(batches[:1]) for batches in plans))
    started = time.perf_counter()
    await asyncio.gather(*(write(batches[1:]) for batches in plans))
    elapsed = time.perf_counter() - started
    return sum(len(b) for batches in plans for b in batches[1:]) / elapsed


async def guichet_rate(schema: str, plans: list[list[list[dict[str, object]]]]) -> float:
    log = EventLog.from_url(PG_URL, search_path=schema, pool_size=8, max_overflow=0)
    await log.migrate()
    prepared = {
        id(batch): [
            NewEvent(
                event_id=e["event_id"],
                type=e["type"],
                data=e["data"],
                occurred_at=e["at"],
            )
            for e in batch
        ]
        for batches in plans
        for batch in batches
    }

    async def write(batches: list[list[dict[str, object]]]) -> None:
        for batch in batches:
            expected = int(batch[0]["version"]) - 1  # type: ignore[call-overload]
            await log.append(str(batch[0]["stream"]), expected, prepared[id(batch)])

    try:
        rate = await timed(plans, write)
        report = await log.verify()
        total = sum(len(b) for bs in plans for b in bs)
        assert report.ok and report.head_position == total, report
        # Same schema reused across configurations: empty it for the next one.
        async with log.engine.begin() as conn:
            await conn.execute(sa.text("ALTER TABLE eventlog_events DISABLE TRIGGER USER"))
            await conn.execute(sa.text("TRUNCATE eventlog_events"))
            await conn.execute(sa.text("ALTER TABLE eventlog_events ENABLE TRIGGER USER"))
            await conn.execute(
                sa.text("UPDATE eventlog_head SET position = 0, hash = :g"), {"g": "0" * 64}
            )
    finally:
        await log.close()
    return rate


async def asyncpg_rate(schema: str, plans: list[list[list[dict[str, object]]]]) -> float:
    import asyncpg

    table = f'"{schema}".plain_events'
    pool = await asyncpg.create_pool(dsn(), min_size=len(plans), max_size=len(plans))
    await pool.execute(
        f"CREATE TABLE IF NOT EXISTS {table} (id bigserial PRIMARY KEY, stream_id text, "
        "version int, event_id uuid, type text, data text, occurred_at timestamptz)"
    )
    await pool.execute(f"TRUNCATE {table}")
    insert = (
        f"INSERT INTO {table} (stream_id, version, event_id, type, data, occurred_at) "
        "VALUES ($1, $2, $3, $4, $5, $6)"
    )

    async def write(batches: list[list[dict[str, object]]]) -> None:
        async with pool.acquire() as conn:
            for batch in batches:
                rows = [
                    (e["stream"], e["version"], e["event_id"], e["type"], e["json"], e["at"])
                    for e in batch
                ]
                async with conn.transaction():
                    await conn.executemany(insert, rows)

    for batches in plans:
        for batch in batches:
            for e in batch:
                e["json"] = json.dumps(e["data"])
    try:
        return await timed(plans, write)
    finally:
        await pool.close()


async def eventsourcing_rate(schema: str, plans: list[list[list[dict[str, object]]]]) -> float:
    from eventsourcing.persistence import StoredEvent
    from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

    url = sa.make_url(PG_URL)
    datastore = PostgresDatastore(
        url.database or "test",
        url.host or "127.0.0.1",
        url.port or 5432,
        url.username or "postgres",
        url.password or "",
        pool_size=len(plans),
        schema=schema,
        originator_id_type="text",
    )
    recorder = PostgresApplicationRecorder(datastore, events_table_name=f"es_{len(plans)}")
    recorder.create_table()
    stored = {
        id(batch): [
            StoredEvent(
                originator_id=str(e["stream"]),
                originator_version=int(e["version"]),  # type: ignore[call-overload]
                topic=f"guichet:{e['type']}",
                state=json.dumps(e["data"]).encode(),
            )
            for e in batch
        ]
        for batches in plans
        for batch in batches
    }
    pool = ThreadPoolExecutor(max_workers=len(plans))
    loop = asyncio.get_running_loop()

    def run_writer(batches: list[list[dict[str, object]]]) -> None:
        for batch in batches:
            recorder.insert_events(stored[id(batch)])

    async def write(batches: list[list[dict[str, object]]]) -> None:
        await loop.run_in_executor(pool, run_writer, batches)

    try:
        return await timed(plans, write)
    finally:
        pool.shutdown()
        datastore.close()


def eventsourcing_installed() -> bool:
    try:
        import eventsourcing.postgres  # noqa: F401
    except ImportError as error:
        print(
            f"eventsourcing baseline skipped: {error} (install it with `pip install -e '.[bench]'`)"
        )
        return False
    return True


async def main(args: argparse.Namespace) -> None:
    header("event-log appends on PostgreSQL", args)
    with_library = not args.no_eventsourcing and eventsourcing_installed()
    async with scratch_schema("bench_appends") as schema:
        for writers in WRITERS:
            for batch in BATCH_SIZES:
                name = f"appends.writers{writers}.batch{batch}"
                plain, guichet, library = [], [], []
                for round_ in range(1, args.rounds + 1):
                    plain.append(
                        await asyncpg_rate(schema, plan_batches(args.events, writers, batch))
                    )
                    guichet.append(
                        await guichet_rate(schema, plan_batches(args.events, writers, batch))
                    )
                    if with_library:
                        library.append(
                            await eventsourcing_rate(
                                schema, plan_batches(args.events, writers, batch)
                            )
                        )
                    print(
                        f"{name} round {round_}/{args.rounds}: asyncpg {plain[-1]:.0f} ev/s, "
                        f"eventsourcing {f'{library[-1]:.0f} ev/s' if library else 'skipped'}, "
                        f"guichet {guichet[-1]:.0f} ev/s (chain verified)",
                        flush=True,
                    )
                note = f"median of {args.rounds} rounds"
                result(f"{name}.vs_asyncpg", median(plain), median(guichet), "events/s", note=note)
                if library:
                    result(
                        f"{name}.vs_eventsourcing",
                        median(library),
                        median(guichet),
                        "events/s",
                        note=note,
                    )


def cli() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--events", type=int, default=2000, help="events per configuration")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="times each contender runs, in turn; the median of each is compared "
        "(default 3: one round of a fast configuration lasts a tenth of a second)",
    )
    parser.add_argument(
        "--no-eventsourcing", action="store_true", help="skip the eventsourcing baseline"
    )
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.events < MIN_EVENTS:
        parser.error(
            f"--events must be at least {MIN_EVENTS}: each of {max(WRITERS)} writers writes one "
            f"batch of {max(BATCH_SIZES)} before the clock starts and at least one after"
        )
    hard_exit(run_until_stopped(main(args)))


if __name__ == "__main__":
    cli()
