"""What every benchmark shares: the machine line, the report format, PostgreSQL scratch
schemas, the Temporal servers and memory readings.

Every script ends with lines of the form ``RESULT <name> baseline=<x> guichet=<y> ratio=<r>``
(higher is better for a rate; the unit is printed beside it), which the smoke tests parse.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import resource
import statistics
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

PG_URL = os.environ.get("GUICHET_BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


def binary(name: str) -> str:
    """A Temporal binary installed beside this Python (``temporal``, ``temporal-test-server``)."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise SystemExit(f"{path} is missing: install the project with `make dev` first")
    return str(path)


def dsn(url: str = PG_URL) -> str:
    """The asyncpg form of a SQLAlchemy URL."""
    return url.replace("postgresql+asyncpg://", "postgresql://")


def arguments(doc: str | None) -> argparse.ArgumentParser:
    """A parser whose ``--help`` shows the script's whole docstring: what it measures, against
    which baseline, and the command that gives the figures of ``bench/README.md``."""
    return argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )


def machine() -> str:
    """One line saying where the figures come from, with the load at the start."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    cpu = platform.processor() or platform.machine()
    return (
        f"machine: {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"load average {load} at start"
    )


def header(title: str, args: argparse.Namespace) -> None:
    print(f"== {title}")
    print(machine())
    shown = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items())
    print(f"options: {shown}", flush=True)


def result(name: str, baseline: float, guichet: float, unit: str, *, note: str = "") -> None:
    """The closing line of one comparison: baseline, Guichet, ratio (guichet / baseline)."""
    ratio = guichet / baseline if baseline else float("nan")
    extra = f"  ({note})" if note else ""
    print(
        f"RESULT {name} baseline={baseline:.4g} guichet={guichet:.4g} {unit} "
        f"ratio={ratio:.2f}{extra}",
        flush=True,
    )


def percentile(values: Sequence[float], pct: float) -> float:
    """The ``pct`` percentile (nearest-rank on sorted values); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def summary_ms(values: Sequence[float]) -> str:
    """p50 / p99 / mean of durations given in seconds, printed in milliseconds."""
    if not values:
        return "no samples"
    return (
        f"p50 {percentile(values, 50) * 1e3:.1f} ms, p99 {percentile(values, 99) * 1e3:.1f} ms, "
        f"mean {statistics.fmean(values) * 1e3:.1f} ms over {len(values)}"
    )


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb(pid: int | str = "self") -> tuple[float, float]:
    """(current, peak) resident memory of a process, from /proc, in MB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


@asynccontextmanager
async def scratch_schema(prefix: str = "bench") -> AsyncIterator[str]:
    """A fresh PostgreSQL schema for one run, dropped afterwards (even on failure)."""
    import asyncpg

    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(dsn())
    try:
        await conn.execute(f'CREATE SCHEMA "{schema}"')
    finally:
        await conn.close()
    try:
        yield schema
    finally:
        conn = await asyncpg.connect(dsn())
        try:
            await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        finally:
            await conn.close()


POLL = 0.02
"""Seconds between queries while a workflow works on its own (Guichet and bare alike)."""


async def until(check: Callable[[], Awaitable[bool]]) -> None:
    """Poll a query: the workflow disburses on its own, the client only sees it by asking."""
    while not await check():  # noqa: ASYNC110 - the condition lives in another process
        await asyncio.sleep(POLL)


CONCURRENCY = 32
"""Requests a driver keeps in flight when it opens or queries many files."""


async def bounded(count: int, one: Callable[[int], Awaitable[object]]) -> list[object]:
    """Run ``one(i)`` for every i below ``count``, at most CONCURRENCY at a time."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def run(i: int) -> object:
        async with gate:
            return await one(i)

    return await asyncio.gather(*(run(i) for i in range(count)))


def hard_exit(code: int = 0) -> None:
    """Leave without Python's finalisers: sdk-python #300 can abort a Temporal process at exit."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
