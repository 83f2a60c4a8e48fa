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

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import Client

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


CPU_PARTS = ("this process", "Temporal server", "PostgreSQL")
"""Where ``cpu_seconds`` looks: the benchmark's own process (driver, worker and the SDK's
threads), the Temporal server it started, and every PostgreSQL process on the machine."""


def cpu_seconds() -> dict[str, float]:
    """CPU seconds (user + system) used so far by each of ``CPU_PARTS`` (Linux ``/proc``).

    PostgreSQL counts its live processes and, through the postmaster, the backends that have
    exited (a pool's connections close at the end of each run); other databases' work on the
    same server counts too. The difference of two readings is what happened in between."""
    tick = os.sysconf("SC_CLK_TCK")
    used = dict.fromkeys(CPU_PARTS, 0.0)
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # the process ended while we looked
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        # After the name: state, ppid, ...; utime, stime, cutime, cstime are fields 14 to 17.
        ppid, own, children = int(fields[1]), fields[11:13], fields[13:15]
        if int(entry.name) == me:
            part = "this process"
        elif name.startswith("temporal") and ppid == me:
            part = "Temporal server"
        elif name == "postgres":
            part = "PostgreSQL"
        else:
            continue
        counted = [*own, *children] if part == "PostgreSQL" else own
        used[part] += sum(int(x) for x in counted) / tick
    return used


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


POLL = (0.02, 0.2)
"""Seconds between two looks at a workflow that works on its own, first and longest: the pause
grows by half after each look, so a slow wait does not load the server it waits on."""


async def until(check: Callable[[], Awaitable[bool]]) -> None:
    """Poll: the workflow disburses on its own, the client only sees it by asking."""
    pause, longest = POLL
    while not await check():
        await asyncio.sleep(pause)
        pause = min(pause * 1.5, longest)


async def idle(client: Client, workflow_id: str) -> bool:
    """No workflow task and no activity pending: everything the last update or the start set
    going (eligibility, a disbursement and its record, notices) has run.

    Read from the server (one ``describe``), not from the worker: both drivers wait this way,
    so a poll costs Guichet and the bare workflow the same, and the figures compare the
    workflows, not the price of their state queries. A raw call: the handle's ``describe``
    would also decode search attributes and memo.
    """
    raw = await client.workflow_service.describe_workflow_execution(
        DescribeWorkflowExecutionRequest(
            namespace=client.namespace, execution=WorkflowExecution(workflow_id=workflow_id)
        )
    )
    return not raw.pending_activities and not raw.HasField("pending_workflow_task")


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
